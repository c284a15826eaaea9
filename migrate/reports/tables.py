"""The report tables as pandas DataFrames: results, changes and the summary blocks (the
error file, failures.csv, is :mod:`migrate.reports.failures`).

Every text cell from the account or the server goes through :func:`migrate.reports.safety.text`
here (cut when long). The frames hold the data as it is: the CSV writer neutralises
formula-looking cells (:func:`migrate.reports.write.write_csv`), and the workbook stores every
string as a text cell, which a spreadsheet never evaluates (:mod:`migrate.reports.xlsx`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import pandas as pd

from migrate.reports.data import ReportData, public_metadata, state_label
from migrate.reports.safety import text, value_text
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


def results_records(data: ReportData, *, dry_run: bool) -> Iterator[dict[str, Any]]:
    """One record per scenario, ready for a cell each."""
    change_counts: dict[str, int] = {}
    for change in data.changes:
        change_counts[change.scenario_id] = change_counts.get(change.scenario_id, 0) + 1
    for row in data.rows:
        yield {
            "scenario_id": text(row.scenario_id),
            "name": text(row.name or ""),
            "rules": text("; ".join(row.rules)),
            "state": row.state,
            "outcome": state_label(row.outcome, dry_run=dry_run),
            "retryable": "" if row.retryable is None else str(row.retryable).lower(),
            "http_status": row.http_status,
            "error_class": text(row.error_class or ""),
            "error": text(row.error or ""),
            "attempts": row.attempts,
            "before_fingerprint": text(row.before_fingerprint or ""),
            "after_fingerprint": text(row.after_fingerprint or ""),
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
            "scenario_id": text(change.scenario_id),
            "scenario_name": text(names.get(change.scenario_id, "")),
            "action_path": text(change.action_path),
            "field": text(change.field),
            "before": text(value_text(change.before)),
            "after": text(value_text(change.after)),
            "rule": text(change.rule),
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


def metadata_frame(summary: RunSummary) -> pd.DataFrame:
    """The run's metadata as key/value rows (secrets never included)."""
    records = [
        {"key": key, "value": text(_meta_text(key, value))}
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
    """What each rule did: its sheet rows, the scenarios they matched, what it changed."""
    changed = "scenarios it would change" if summary.dry_run else "scenarios it changed"
    columns = ["rule", "sheet rows", "scenarios matched", changed, "fields changed"]
    if not summary.dry_run:
        columns.append("of those, written")
    records = [
        dict(
            zip(
                columns,
                [text(r.rule), r.sheet_rows, r.matched, r.changed, r.changes, r.written],
                strict=False,
            )
        )
        for r in summary.by_rule
    ]
    return pd.DataFrame.from_records(records, columns=columns)


#: The last line of a cut sheet-rows table in the workbook.
SHEET_ROWS_CUT: Final = (
    "… and {more} more sheet rows that changed something; every row that changed nothing is "
    "listed above"
)


def sheet_rows_frame(summary: RunSummary, limit: int | None = None) -> pd.DataFrame:
    """What each sheet row did, in sheet order; rows that changed nothing say so.

    With ``limit``, a longer table keeps every row that changed nothing (up to the limit) and
    fills up with the first rows that did: those are the ones a reader looks for.
    """
    rows = summary.by_sheet_row
    if limit is not None and len(rows) > limit:
        idle = summary.idle_sheet_rows[:limit]
        listed = {r.row for r in idle}
        others = [r for r in rows if r.row not in listed][: limit - len(idle)]
        rows = sorted([*idle, *others], key=lambda r: r.row)
    changed = "scenarios it would change" if summary.dry_run else "scenarios it changed"
    columns = ["row", "rule", "target", "scenarios matched", changed, "fields changed", "note"]
    records = [
        {
            "row": r.row,
            "rule": text(r.rule),
            "target": text(r.target),
            "scenarios matched": r.matched,
            changed: r.changed,
            "fields changed": r.changes,
            "note": sheet_row_note(r.matched, r.changed),
        }
        for r in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in (changed, "fields changed"):
        frame[column] = frame[column].astype("Int64")
    return frame


def sheet_row_note(matched: int, changed: int | None) -> str:
    """Why a sheet row changed nothing, or nothing."""
    if matched == 0:
        return "changed nothing: its scenario_id matched no scenario"
    if changed == 0:
        return "changed nothing: its rule found nothing to change in the scenarios it matched"
    if changed is None:
        return "not known which of the rows with this rule made the changes (older journal)"
    return ""


def figures_frame(summary: RunSummary) -> pd.DataFrame:
    """Durations and write figures as label/value rows (a dry run: the writes it plans)."""
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
    ]
    if summary.dry_run:
        rows += [
            ("planned writes (PUT)", summary.planned_writes),
            ("time to write them at the configured rate", format_duration(summary.eta)),
        ]
    else:
        rate = summary.write_rate_per_min
        span = _span(summary.first_write_at, summary.last_write_at)
        rows += [
            ("writes (PUT)", summary.writes),
            ("writes accepted (2xx)", summary.writes_ok),
            ("writes failed", len(summary.failed_write_times)),
            ("429 answers", summary.rate_limited),
            ("write phase", format_duration(span)),
            ("achieved write rate (per minute)", "" if rate is None else round(rate, 2)),
        ]
    rows.append(("configured write rate", summary.configured_write_rate or ""))
    return pd.DataFrame(rows, columns=["figure", "value"]).astype({"value": "object"})


def history_frame(summary: RunSummary) -> pd.DataFrame:
    """The run's steps: how many scenarios each left in each state, and when."""
    records = [
        {
            "step": step.event,
            "state": summary.label(step.state),
            "scenarios": step.scenarios,
            "first": iso_time(step.first_at),
            "last": iso_time(step.last_at),
        }
        for step in summary.history
    ]
    return pd.DataFrame.from_records(
        records, columns=["step", "state", "scenarios", "first", "last"]
    )


def _span(first: float | None, last: float | None) -> float | None:
    return None if first is None or last is None else last - first
