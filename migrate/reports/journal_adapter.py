"""Build :class:`ReportData` from a run's journal, through the journal's public API only.

This is the one place that knows both the journal and the report model; when the journal's
records change, only this module follows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from sys import intern
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from migrate.reports.data import (
    MAX_SCENARIOS_PER_OUTCOME,
    ReportAccount,
    ReportAttempt,
    ReportChange,
    ReportData,
    ReportRow,
    SheetLine,
    SheetStep,
)
from migrate.reports.history import HistoryBuilder
from migrate.vocabulary import (
    PHASE_KEYS,
    WRITTEN_STATES,
    Meta,
    Operation,
    PlannedChange,
    RowRecord,
    RowState,
    SheetRef,
    epoch,
)

if TYPE_CHECKING:
    from migrate.journal import Journal
    from migrate.reports.summary import RunSummary
    from migrate.reports.write import ReportFiles

#: Phases whose start and end the journal records, in run order.
PHASES: Final = tuple(str(operation) for operation in PHASE_KEYS)


def report_data_from_journal(journal: Journal) -> ReportData:
    """Everything the reports show, read from an open journal (and the sheet copy next to it)."""
    metadata = run_metadata(journal.metadata())
    # Read before the journal's rows: a 100,000-row sheet costs memory only while it is parsed.
    sheet = _sheet_selectors(Path(journal.path).parent, metadata)
    rows: list[ReportRow] = []
    changes: list[ReportChange] = []
    shown: dict[int, str] = {}  # journal row id → scenario key, for the rows the page lists
    per_outcome: dict[str, int] = {}
    seen_sheet_rows: set[int] = set()
    row_accounts: dict[str, None] = {}
    for record in journal.rows(bodies=False):
        row = _row(record)
        if sheet is not None and not sheet.rows.issuperset(
            step.sheet_row for step in row.steps if step.sheet_row is not None
        ):
            sheet = None  # not the sheet of this run: nothing is guessed from it
        rows.append(row)
        changes.extend(_change(row, change) for change in record.changes)
        seen_sheet_rows.update(step.sheet_row for step in row.steps if step.sheet_row is not None)
        row_accounts[row.account] = None
        if per_outcome.get(row.outcome, 0) < MAX_SCENARIOS_PER_OUTCOME:
            per_outcome[row.outcome] = per_outcome.get(row.outcome, 0) + 1
            shown[record.id] = row.key
    unmatched = (
        [] if sheet is None else [x for x in sheet.selectors if x.row not in seen_sheet_rows]
    )
    sheet_read = sheet is not None
    del sheet, seen_sheet_rows  # 100,000 row numbers each: let them go before the attempts
    history: HistoryBuilder[int] = HistoryBuilder(keep=shown)
    for transition in journal.transitions():
        history.add(
            transition.row_id,
            transition.time,
            transition.operation,
            transition.from_state,
            intern(transition.to_state),
        )
    # A 100,000-row run has some 300,000 attempts: share the strings they repeat.
    attempts = [
        ReportAttempt(
            method=intern(attempt.method),
            path=intern(attempt.path),
            scenario_id=None if attempt.scenario_id is None else intern(attempt.scenario_id),
            status=attempt.status,
            error_class=attempt.error_class,
            started_at=attempt.started_at,
            duration=attempt.duration,
            account=intern(attempt.account),
        )
        for attempt in journal.attempts()
    ]
    return ReportData(
        metadata=metadata,
        rows=rows,
        changes=changes,
        attempts=attempts,
        unmatched_sheet_rows=unmatched,
        sheet_read=sheet_read,
        history=history.steps(),
        histories={shown[key]: events for key, events in history.telling().items()},
        accounts=run_accounts(metadata, row_accounts),
    )


def run_accounts(metadata: Mapping[str, Any], names: Iterable[str]) -> list[ReportAccount]:
    """The accounts of a run over several accounts, as planned (``Meta.ACCOUNTS``: base URL and
    write rate), then any other account a row names; empty for a run over one account."""
    planned: dict[str, Any] = {}
    try:
        found = json.loads(str(metadata.get(Meta.ACCOUNTS) or "{}"))
    except ValueError:
        found = {}  # unreadable: the rows still name their accounts
    if isinstance(found, dict):
        planned = {str(name): spec for name, spec in found.items()}
    accounts = [
        ReportAccount(
            name,
            _text_or_none(spec.get("base_url")) if isinstance(spec, dict) else None,
            _text_or_none(spec.get("write_rate")) if isinstance(spec, dict) else None,
        )
        for name, spec in planned.items()
    ]
    accounts += [ReportAccount(name) for name in names if name and name not in planned]
    return accounts


def _text_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


@dataclass(frozen=True)
class _SheetCopy:
    """What the reports need of the run's sheet: its row numbers, and its selector rows."""

    rows: frozenset[int]
    selectors: list[SheetLine]


def _sheet_selectors(folder: Path, metadata: Mapping[str, Any]) -> _SheetCopy | None:
    """The sheet copy in the run folder, or None when what it says cannot be trusted.

    A selector (``*``, ``name:GLOB``) that matched no scenario leaves no trace in the journal,
    and the operator must still see that the row did nothing (issue 11.10). Only selector rows
    are kept: once the plan has finished, every id row has a journal row, found or not. Nothing
    is read when the plan did not finish (unplanned rows would look unmatched) or the copy
    cannot be read with today's catalogue; the caller also drops it when a row the journal
    names is not in it (another worksheet of the workbook).
    """
    from migrate.errors import UsageError
    from migrate.sheet import read_sheet

    name = metadata.get("sheet_copy")
    if not metadata.get("plan_finished_at") or not isinstance(name, str) or not name:
        return None
    if not (folder / name).is_file():
        return None
    try:
        rows = read_sheet(folder / name)
    except (UsageError, OSError):
        return None
    return _SheetCopy(
        rows=frozenset(row.row for row in rows),
        selectors=[
            SheetLine(row.row, row.rule, str(row.target)) for row in rows if row.target.kind != "id"
        ],
    )


def report_data_from_run(run_folder: Path | str) -> ReportData:
    """Open a run folder's journal read-only-in-spirit (no lock), read it and close it."""
    from migrate.journal import JOURNAL_FILE, Journal

    with Journal.open(Path(run_folder) / JOURNAL_FILE, read_only=True) as journal:
        return report_data_from_journal(journal)


def run_metadata(raw: Mapping[str, str]) -> dict[str, Any]:
    """The journal's metadata with times as numbers, the phase, and the run's start and end.

    ``phase`` is the last phase started (plan, apply, rollback: as ``status`` decides);
    ``started_at`` is when the plan began and ``finished_at`` when the last phase ended.
    """
    meta: dict[str, Any] = {key: _time_or_text(key, value) for key, value in raw.items()}
    started = [op for op, (key, _) in PHASE_KEYS.items() if isinstance(meta.get(key), float)]
    if started:
        # Phases run in this order; a rollback is the last word even within the same second.
        meta.setdefault("phase", str(started[-1]))
        meta.setdefault("started_at", min(meta[PHASE_KEYS[op][0]] for op in started))
    ends = [meta.get(end) for _, end in PHASE_KEYS.values()]
    finished = [value for value in ends if isinstance(value, float)]
    if finished:
        meta.setdefault("finished_at", max(finished))
    return meta


def _time_or_text(key: str, value: str) -> Any:
    """``*_at`` values as epoch seconds, whether stored as a number or as ISO 8601."""
    if not key.endswith("_at"):
        return value
    found = epoch(value)
    return value if found is None else found


def _row(record: RowRecord) -> ReportRow:
    state = record.state
    error = record.error_text
    if not error and state is RowState.INVALID and record.validation_errors:
        error = "\n".join(str(problem) for problem in record.validation_errors)
    after = record.planned_fingerprint
    if state in WRITTEN_STATES and record.final_fingerprint:
        after = record.final_fingerprint
    return ReportRow(
        scenario_id=record.scenario_id,
        name=record.name,
        state=state,
        steps=tuple(_step(ref, record.scenario_id) for ref in record.sheet_refs),
        retryable=record.retryable,
        http_status=record.http_status,
        error_class=record.error_class,
        error=error,
        attempts=record.attempts,
        before_fingerprint=record.read_fingerprint,
        after_fingerprint=after,
        planned_at=record.planned_at,
        state_at=record.finished_at or record.in_flight_at or record.planned_at,
        account=intern(record.account),
    )


def _step(ref: SheetRef, scenario_id: str) -> SheetStep:
    return SheetStep(
        rule=intern(ref.rule),
        params=_shared_cells(tuple(ref.cells.items())),
        sheet_row=ref.row,
        note=ref.note,
        # an id row's target is the scenario id: share that string (100,000 of them)
        target=scenario_id if ref.target == scenario_id else intern(ref.target),
    )


@lru_cache(maxsize=4096)
def _shared_cells(items: tuple[tuple[str, str], ...]) -> Mapping[str, str]:
    # A selector row or a long sheet repeats the same cells for thousands of scenarios: one
    # read-only mapping each, not one dict per scenario (a 100,000-row run's report memory).
    return MappingProxyType(dict(items))


def _change(row: ReportRow, change: PlannedChange) -> ReportChange:
    return ReportChange(
        scenario_id=row.scenario_id,
        action_path=intern(change.action_path),
        field=intern(change.field),
        before=change.before,
        after=change.after,
        rule=intern(change.rule),
        sheet_row=change.sheet_row,
        account=row.account,
    )


def is_dry_run(metadata: Mapping[str, Any]) -> bool:
    """A run that was only planned so far: its reports say "would update"."""
    return bool(metadata.get("phase", Operation.PLAN) == Operation.PLAN)


def write_run_reports(run_folder: Path | str) -> tuple[ReportFiles, RunSummary]:
    """(Re)write the reports of a run folder from its journal (``ivr-migrate report RUN``)."""
    from migrate.reports.summary import summarise, write_figures
    from migrate.reports.write import write_reports

    data = report_data_from_run(run_folder)
    dry_run = is_dry_run(data.metadata)
    # The attempts feed only the write figures; a 100,000-row run has ~300,000 of them, and
    # letting them go before the rest is counted and the tables are built keeps `report` under
    # the memory target (DESIGN §9).
    writes = write_figures(data)
    data.attempts = []
    summary = summarise(data, dry_run=dry_run, writes=writes)
    return write_reports(run_folder, data, dry_run=dry_run, summary=summary), summary
