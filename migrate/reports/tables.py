"""The report tables as pandas DataFrames: results, changes, failures and the summary blocks.

Every text cell goes through :func:`migrate.reports.safety.cell` (truncated, formula-neutralised)
here, once, so the CSV and XLSX writers cannot forget it. failures.csv is the exception for its
parameter cells: see :func:`failures_frame`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import pandas as pd

from migrate.reports.data import (
    REPLAN_STATES,
    ReportData,
    ReportRow,
    public_metadata,
    state_label,
)
from migrate.reports.safety import cell, neutralise, value_text
from migrate.reports.summary import RunSummary, format_duration, iso_time

RESULTS_COLUMNS: Final = (
    "scenario_id",
    "name",
    "rules",
    "state",
    "outcome",
    "retryable",
    "http_status",
    "error_class",
    "error",
    "attempts",
    "before_fingerprint",
    "after_fingerprint",
    "changes",
    "sheet_rows",
    "planned_at",
    "state_at",
)
CHANGES_COLUMNS: Final = (
    "scenario_id",
    "scenario_name",
    "action_path",
    "field",
    "before",
    "after",
    "rule",
)
#: Rows per DataFrame while writing a table.
CHUNK_ROWS: Final = 10_000
#: Longest note in failures.csv; the full error is in results.csv and the journal.
NOTE_CHARS: Final = 300


def results_records(data: ReportData, *, dry_run: bool) -> Iterator[dict[str, Any]]:
    """One record per scenario, ready for a cell each."""
    change_counts: dict[str, int] = {}
    for change in data.changes:
        change_counts[change.scenario_id] = change_counts.get(change.scenario_id, 0) + 1
    for row in data.rows:
        yield {
            "scenario_id": cell(row.scenario_id),
            "name": cell(row.name or ""),
            "rules": cell("; ".join(row.rules)),
            "state": row.state,
            "outcome": state_label(row.outcome, dry_run=dry_run),
            "retryable": "" if row.retryable is None else str(row.retryable).lower(),
            "http_status": row.http_status,
            "error_class": cell(row.error_class or ""),
            "error": cell(row.error or ""),
            "attempts": row.attempts,
            "before_fingerprint": cell(row.before_fingerprint or ""),
            "after_fingerprint": cell(row.after_fingerprint or ""),
            "changes": change_counts.get(row.scenario_id, 0),
            "sheet_rows": "; ".join(
                str(step.sheet_row) for step in row.steps if step.sheet_row is not None
            ),
            "planned_at": iso_time(row.planned_at),
            "state_at": iso_time(row.state_at),
        }


def changes_records(data: ReportData) -> Iterator[dict[str, Any]]:
    """One record per changed field."""
    names = {row.scenario_id: row.name or "" for row in data.rows}
    for change in data.changes:
        yield {
            "scenario_id": cell(change.scenario_id),
            "scenario_name": cell(names.get(change.scenario_id, "")),
            "action_path": cell(change.action_path),
            "field": cell(change.field),
            "before": cell(value_text(change.before)),
            "after": cell(value_text(change.after)),
            "rule": cell(change.rule),
        }


#: Integer columns of results.csv (nullable: an absent HTTP status stays an empty cell).
RESULTS_INTEGERS: Final = ("http_status", "attempts", "changes")


def frames(
    records: Iterable[dict[str, Any]],
    columns: Sequence[str],
    *,
    integers: Sequence[str] = (),
    size: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """Records as DataFrames of at most ``size`` rows, so that a 100,000-row run never holds
    the whole table twice; yields one empty frame (with the columns) when there are none."""
    batch: list[dict[str, Any]] = []
    empty = True
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield _frame(batch, columns, integers)
            batch, empty = [], False
    if batch or empty:
        yield _frame(batch, columns, integers)


def _frame(
    records: list[dict[str, Any]], columns: Sequence[str], integers: Sequence[str]
) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    for column in integers:
        frame[column] = frame[column].astype("Int64")
    return frame


def results_frame(data: ReportData, *, dry_run: bool) -> pd.DataFrame:
    """results.csv as one frame."""
    chunks = frames(
        results_records(data, dry_run=dry_run), RESULTS_COLUMNS, integers=RESULTS_INTEGERS
    )
    return pd.concat(chunks, ignore_index=True)


def changes_frame(data: ReportData) -> pd.DataFrame:
    """changes.csv as one frame."""
    return pd.concat(frames(changes_records(data), CHANGES_COLUMNS), ignore_index=True)


def failures_frame(data: ReportData) -> pd.DataFrame:
    """Failed and conflicted rows as a sheet that ``plan`` accepts (DESIGN §4 and §8).

    One sheet row per original sheet row of each such scenario, with the concrete scenario id
    (a ``*`` or ``name:`` selector is not repeated: only the scenarios that failed are re-planned),
    the rule and its parameter cells as the operator wrote them, and a ``note``.

    The parameter cells are written verbatim, not neutralised: they are the operator's own input,
    copied from the sheet they gave to ``plan``, and prefixing them would change what the
    re-plan does (``-- old`` or ``+41…`` would gain a quote). The scenario id and the note, which
    come from the account and the server, are neutralised like every other cell.
    """
    rows = [row for row in data.rows if row.state in REPLAN_STATES]
    param_columns: dict[str, None] = {}
    for row in rows:
        for step in row.steps:
            param_columns.update(dict.fromkeys(step.params))
    records: list[dict[str, Any]] = []
    for row in rows:
        note = neutralise(_failure_note(row))
        for step in row.steps:
            record: dict[str, Any] = {"scenario_id": neutralise(row.scenario_id), "rule": step.rule}
            record.update({name: step.params.get(name, "") for name in param_columns})
            record["note"] = note
            records.append(record)
    columns = ["scenario_id", "rule", *param_columns, "note"]
    return pd.DataFrame.from_records(records, columns=columns)


def _failure_note(row: ReportRow) -> str:
    parts = [row.state if row.retryable is None else row.outcome.replace("_", " ")]
    if row.name:
        parts.append(f"scenario {row.name!r}")
    sheet_rows = [str(step.sheet_row) for step in row.steps if step.sheet_row is not None]
    if sheet_rows:
        parts.append("sheet row " + ", ".join(dict.fromkeys(sheet_rows)))
    error = " ".join(filter(None, [row.error_class, _status(row), row.error]))
    if error:
        parts.append(error)
    note = " · ".join(parts).replace("\r", " ").replace("\n", " ")
    return note if len(note) <= NOTE_CHARS else note[: NOTE_CHARS - 1] + "…"


def _status(row: ReportRow) -> str:
    return f"HTTP {row.http_status}" if row.http_status is not None else ""


def metadata_frame(summary: RunSummary) -> pd.DataFrame:
    """The run's metadata as key/value rows (secrets never included)."""
    records = [
        {"key": key, "value": cell(_meta_text(key, value))}
        for key, value in public_metadata(summary.metadata).items()
    ]
    return pd.DataFrame.from_records(records, columns=["key", "value"])


def _meta_text(key: str, value: Any) -> str:
    if key.endswith("_at") and isinstance(value, int | float) and not isinstance(value, bool):
        return iso_time(float(value))
    return value_text(value)


def outcomes_frame(summary: RunSummary) -> pd.DataFrame:
    """Scenarios by outcome."""
    records = [
        {"outcome": outcome, "label": summary.label(outcome), "scenarios": count}
        for outcome, count in summary.outcomes.items()
    ]
    records.append({"outcome": "total", "label": "all scenarios", "scenarios": summary.scenarios})
    return pd.DataFrame.from_records(records, columns=["outcome", "label", "scenarios"])


def rules_frame(summary: RunSummary) -> pd.DataFrame:
    """Scenarios and changes by rule, with the outcomes of the scenarios each rule touched."""
    outcomes = list(summary.outcomes)
    records = [
        {
            "rule": cell(r.rule),
            "scenarios": r.scenarios,
            "changes": r.changes,
            **{summary.label(o): r.outcomes.get(o, 0) for o in outcomes},
        }
        for r in summary.by_rule
    ]
    columns = ["rule", "scenarios", "changes", *(summary.label(o) for o in outcomes)]
    return pd.DataFrame.from_records(records, columns=columns)


def figures_frame(summary: RunSummary) -> pd.DataFrame:
    """Durations and write figures as label/value rows."""
    rate = summary.write_rate_per_min
    rows: list[tuple[str, Any]] = [
        ("report", "dry run (nothing was written)" if summary.dry_run else "run"),
        ("scenarios", summary.scenarios),
        ("changed fields", summary.changes),
        ("started", iso_time(summary.started_at)),
        ("finished", iso_time(summary.finished_at)),
        ("duration", format_duration(summary.duration)),
        *(
            (f"{phase} duration", format_duration(seconds))
            for phase, seconds in summary.phase_durations.items()
        ),
        ("requests", summary.requests),
        ("writes (PUT)", summary.writes),
        ("writes accepted (2xx)", summary.writes_ok),
        ("429 answers", summary.rate_limited),
        ("write phase", format_duration(_span(summary.first_write_at, summary.last_write_at))),
        ("achieved write rate (per minute)", "" if rate is None else round(rate, 2)),
        ("configured write rate", summary.configured_write_rate or ""),
    ]
    return pd.DataFrame(rows, columns=["figure", "value"]).astype({"value": "object"})


def _span(first: float | None, last: float | None) -> float | None:
    return None if first is None or last is None else last - first
