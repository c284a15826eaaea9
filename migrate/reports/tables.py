"""The report tables as pandas DataFrames: results, changes, failures and the summary blocks.

Every text cell from the account or the server goes through :func:`migrate.reports.safety.text`
here (cut when long). The frames hold the data as it is: the CSV writer neutralises
formula-looking cells (:func:`migrate.reports.write.write_csv`), and the workbook stores every
string as a text cell, which a spreadsheet never evaluates (:mod:`migrate.reports.xlsx`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import pandas as pd

from migrate.reports.data import (
    ERROR_FILE_STATES,
    ROLLBACK_CONFLICT,
    ReportChange,
    ReportData,
    ReportRow,
    SheetStep,
    public_metadata,
    state_label,
)
from migrate.reports.safety import text, value_text
from migrate.reports.summary import RunSummary, change_source, format_duration, iso_time

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
#: The columns failures.csv adds after the sheet row's own; ``check`` and ``plan`` ignore them.
OUTCOME_COLUMN: Final = "outcome"
HTTP_STATUS_COLUMN: Final = "http_status"
ERROR_COLUMN: Final = "error"
#: The original sheet row of each line (a ``#`` column: ``check`` and ``plan`` ignore it).
SOURCE_ROW_COLUMN: Final = "#sheet_row"
#: The outcome written for a ``rollback_conflict`` line: what running the line again does.
ROLLBACK_CONFLICT_OUTCOME: Final = (
    "rollback conflict: not undone, changed by someone else since the run; running this line "
    "applies the rule again, it does not undo it"
)


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


def failures_frame(data: ReportData) -> pd.DataFrame:
    """failures.csv, the run's error file: one line per sheet row × scenario that did not end
    well (DESIGN §8), built like Salesforce Data Loader's error file.

    Each line is the sheet row's own cells (``scenario_id`` holds the concrete scenario id, not
    the row's ``*`` or ``name:`` selector), then ``outcome``, ``http_status`` and ``error``, then
    ``#sheet_row`` (the row of the original sheet). ``check`` and ``plan`` ignore those four
    columns, so the file is itself a sheet: ``ivr-migrate run failures.csv`` re-plans exactly
    these rows on exactly these scenarios. A scenario's lines are the sheet rows that changed
    something in it; where nothing did (the read failed, the id was not found, a rule raised)
    they are every row that targeted it.

    Fed back, each outcome means:

    * ``failed``, ``conflict``: the rows are planned again on the scenario as it is now and
      written (a conflict is re-planned on top of the other person's change);
    * ``not found``: the id is not found again until it is corrected in ``scenario_id``;
    * ``invalid``: the rule's result fails validation again until its parameters are fixed;
    * ``rollback conflict``: the rollback did not restore the scenario because someone changed
      it after the run. Running the line applies the rule again, it does NOT undo it (where
      the change is still in place it does nothing). The line is there so that the error file
      lists every row that did not end well; to undo, restore the scenario by hand from the
      pre-image in journal.sqlite, or delete the line. The outcome cell says so.

    The sheet cells (parameters, note) are kept as the operator wrote them, not neutralised:
    prefixing them would change what the re-plan does (``-- old`` or ``+41…`` would gain a
    quote); see :func:`verbatim_columns`.
    """
    rows = [row for row in data.rows if row.state in ERROR_FILE_STATES]
    wanted = {row.scenario_id for row in rows}
    changes: dict[str, list[ReportChange]] = {}
    for change in data.changes:
        if change.scenario_id in wanted:
            changes.setdefault(change.scenario_id, []).append(change)
    lines = [
        (row, step) for row in rows for step in applied_steps(row, changes.get(row.scenario_id, []))
    ]
    param_columns: dict[str, None] = {}
    for _, step in lines:
        param_columns.update(dict.fromkeys(step.params))
    records = [_failure_record(row, step, param_columns) for row, step in lines]
    columns = failures_columns(param_columns)
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame[HTTP_STATUS_COLUMN] = frame[HTTP_STATUS_COLUMN].astype("Int64")
    frame[SOURCE_ROW_COLUMN] = frame[SOURCE_ROW_COLUMN].astype("Int64")
    return frame


def failures_columns(param_columns: Iterable[str]) -> list[str]:
    """The columns of failures.csv around the parameter columns."""
    return [
        "scenario_id",
        "rule",
        *param_columns,
        "note",
        OUTCOME_COLUMN,
        HTTP_STATUS_COLUMN,
        ERROR_COLUMN,
        SOURCE_ROW_COLUMN,
    ]


def verbatim_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a failures frame that hold the operator's own cells (never prefixed)."""
    generated = {"scenario_id", OUTCOME_COLUMN, HTTP_STATUS_COLUMN, ERROR_COLUMN}
    return [column for column in frame.columns if column not in generated]


def applied_steps(row: ReportRow, changes: Sequence[ReportChange]) -> list[SheetStep]:
    """The sheet rows that applied to a scenario: those whose rule changed something in it.

    Where no change is known (read failed, not found, a rule raised) it is every row that
    targeted the scenario. A change without a sheet row (an older journal) counts for the rows of
    its rule. A row repeating the rule and cells of an earlier one is left out: it changed
    nothing after it, and ``check`` refuses repeated rows.
    """
    if changes:
        sources = {change_source(row, change) for change in changes}
        if None in sources:
            rules = {change.rule for change in changes}
            steps = [step for step in row.steps if step.rule in rules]
        else:
            steps = [step for step in row.steps if step.sheet_row in sources]
    else:
        steps = list(row.steps)
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for step in steps:
        key = (step.rule, tuple(sorted(step.params.items())))
        if key not in seen:
            seen.add(key)
            unique.append(step)
    return unique


def _failure_record(
    row: ReportRow, step: SheetStep, param_columns: Iterable[str]
) -> dict[str, Any]:
    record: dict[str, Any] = {"scenario_id": text(row.scenario_id), "rule": step.rule}
    record.update({name: step.params.get(name, "") for name in param_columns})
    record["note"] = step.note
    record[OUTCOME_COLUMN] = failure_outcome(row)
    record[HTTP_STATUS_COLUMN] = row.http_status
    record[ERROR_COLUMN] = text(failure_error(row))
    record[SOURCE_ROW_COLUMN] = step.sheet_row
    return record


def failure_outcome(row: ReportRow) -> str:
    """The outcome cell of failures.csv."""
    if row.state == ROLLBACK_CONFLICT:
        return ROLLBACK_CONFLICT_OUTCOME
    return state_label(row.outcome)


def failure_error(row: ReportRow) -> str:
    """``ServerError: service unavailable`` on one line."""
    message = " ".join((row.error or "").split())
    if row.error_class and message:
        return f"{row.error_class}: {message}"
    return row.error_class or message


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
