"""failures.csv, the run's error file (DESIGN §8, issue 12.1), as a pandas frame.

One line per sheet row × scenario that did not end well, built like Salesforce Data Loader's
error file: the sheet row's own cells, then what happened. It is itself a sheet, so ``check``
accepts it and ``run`` re-plans exactly its lines; see :func:`failures_frame` for what each
outcome means when fed back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

import pandas as pd

from migrate.reports.data import (
    ERROR_FILE_STATES,
    ROLLBACK_CONFLICT,
    ReportChange,
    ReportData,
    ReportRow,
    SheetStep,
    state_label,
)
from migrate.reports.safety import text
from migrate.reports.summary import change_source

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
