"""Build :class:`ReportData` from a run's journal, through the journal's public API only.

This is the one place that knows both the journal and the report model; when the journal's
records change, only this module follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from sys import intern
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from migrate.reports.data import (
    ReportAttempt,
    ReportChange,
    ReportData,
    ReportRow,
    SheetStep,
)
from migrate.vocabulary import (
    PHASE_KEYS,
    WRITTEN_STATES,
    Operation,
    PlannedChange,
    RowRecord,
    RowState,
    SheetRef,
)

if TYPE_CHECKING:
    from migrate.journal import Journal
    from migrate.reports.summary import RunSummary
    from migrate.reports.write import ReportFiles

#: Phases whose start and end the journal records, in run order.
PHASES: Final = tuple(str(operation) for operation in PHASE_KEYS)


def report_data_from_journal(journal: Journal) -> ReportData:
    """Everything the reports show, read from an open journal."""
    rows: list[ReportRow] = []
    changes: list[ReportChange] = []
    for record in journal.rows(bodies=False):
        rows.append(_row(record))
        changes.extend(_change(record.scenario_id, change) for change in record.changes)
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
        )
        for attempt in journal.attempts()
    ]
    return ReportData(
        metadata=run_metadata(journal.metadata()), rows=rows, changes=changes, attempts=attempts
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
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


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
        steps=tuple(_step(ref) for ref in record.sheet_refs),
        retryable=record.retryable,
        http_status=record.http_status,
        error_class=record.error_class,
        error=error,
        attempts=record.attempts,
        before_fingerprint=record.read_fingerprint,
        after_fingerprint=after,
        planned_at=record.planned_at,
        state_at=record.finished_at or record.in_flight_at or record.planned_at,
    )


def _step(ref: SheetRef) -> SheetStep:
    return SheetStep(
        rule=intern(ref.rule),
        params=_shared_cells(tuple(ref.cells.items())),
        sheet_row=ref.row,
    )


@lru_cache(maxsize=4096)
def _shared_cells(items: tuple[tuple[str, str], ...]) -> Mapping[str, str]:
    # A selector row or a long sheet repeats the same cells for thousands of scenarios: one
    # read-only mapping each, not one dict per scenario (a 100,000-row run's report memory).
    return MappingProxyType(dict(items))


def _change(scenario_id: str, change: PlannedChange) -> ReportChange:
    return ReportChange(
        scenario_id=scenario_id,
        action_path=intern(change.action_path),
        field=intern(change.field),
        before=change.before,
        after=change.after,
        rule=intern(change.rule),
    )


def is_dry_run(metadata: Mapping[str, Any]) -> bool:
    """A run that was only planned so far: its reports say "would update"."""
    return bool(metadata.get("phase", Operation.PLAN) == Operation.PLAN)


def write_run_reports(run_folder: Path | str) -> tuple[ReportFiles, RunSummary]:
    """(Re)write the reports of a run folder from its journal (``ivr-migrate report RUN``)."""
    from migrate.reports.summary import summarise
    from migrate.reports.write import write_reports

    data = report_data_from_run(run_folder)
    dry_run = is_dry_run(data.metadata)
    summary = summarise(data, dry_run=dry_run)
    # The attempts feed only the summary; a 100,000-row run has ~300,000 of them, and letting
    # them go before the tables are built keeps `report` under the memory target (DESIGN §9).
    data.attempts = []
    return write_reports(run_folder, data, dry_run=dry_run, summary=summary), summary
