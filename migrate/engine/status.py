"""``status``: the tally of a run, from its journal alone (no network, nothing written).

The journal is opened read-only, so an archived run on a read-only disk stays inspectable.
:func:`run_status` reads one run; :func:`list_runs` the runs under a reports folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from migrate.config import DEFAULT_REPORTS_DIR
from migrate.errors import IvrMigrateError
from migrate.journal import JOURNAL_FILE, Journal
from migrate.vocabulary import (
    PENDING,
    PHASE_KEYS,
    PROBLEM_STATES,
    Meta,
    Operation,
    RowState,
    epoch,
    tally_line,
)

#: Metadata values that are whole numbers (the journal stores every value as text).
_NUMBERS: Final = frozenset({Meta.SCHEMA_VERSION, Meta.CONCURRENCY})


@dataclass
class RunStatus:
    """What a run's journal says: metadata, rows per state, attempts per kind."""

    run_dir: Path
    metadata: dict[str, str]
    counts: dict[str, int]
    attempts: dict[str, int]
    total: int
    #: ``failed`` rows that ``retry`` takes (the others need ``retry --all``).
    failed_retryable: int = 0
    #: ``in_flight`` rows a rollback left (the other in-flight rows are apply's).
    in_flight_rollback: int = 0
    #: Per phase started: epoch seconds it started, and when it ended (its finish, or else the
    #: end of its last request: an interrupted or ``--limit`` apply has no finish).
    phase_times: dict[Operation, tuple[float, float | None]] = field(default_factory=dict)

    @property
    def phase(self) -> Operation:
        """The last operation started on the run: plan, apply or rollback."""
        if self.metadata.get(Meta.ROLLBACK_STARTED_AT):
            return Operation.ROLLBACK
        if self.metadata.get(Meta.APPLY_STARTED_AT):
            return Operation.APPLY
        return Operation.PLAN

    @property
    def finished(self) -> bool:
        """The last phase ran to its end (a plan not interrupted, every row written)."""
        return bool(self.metadata.get(PHASE_KEYS[self.phase][1]))

    @property
    def pending(self) -> int:
        return sum(self.counts[state] for state in PENDING)

    @property
    def ok(self) -> bool:
        """No row ended badly and none is still waiting for its write."""
        return not any(self.counts[state] for state in PROBLEM_STATES | PENDING)

    @property
    def durations(self) -> dict[str, float]:
        """Seconds per phase, from its start to its end (or to its last request)."""
        return {
            str(phase): max(0.0, end - start)
            for phase, (start, end) in self.phase_times.items()
            if end is not None
        }

    @property
    def started_at(self) -> float | None:
        return min((start for start, _ in self.phase_times.values()), default=None)

    @property
    def ended_at(self) -> float | None:
        return max((end for _, end in self.phase_times.values() if end), default=None)

    def line(self) -> str:
        return tally_line(self.counts)

    def as_json(self) -> dict[str, Any]:
        """Typed values: numbers as numbers, times once, in ISO 8601 (UTC)."""
        meta = self.metadata
        times = {
            key.removesuffix("_at"): iso(epoch(value))
            for key, value in sorted(meta.items())
            if key.endswith("_at")
        }
        settings: dict[str, Any] = {
            key: (int(value) if key in _NUMBERS and value.isdigit() else value)
            for key, value in sorted(meta.items())
            if not key.endswith("_at") and key != Meta.RUN_ID
        }
        return {
            "run_id": meta.get(Meta.RUN_ID, self.run_dir.name),
            "run_dir": str(self.run_dir),
            "phase": str(self.phase),
            "finished": self.finished,
            "ok": self.ok,
            "total": self.total,
            "pending": self.pending,
            "counts": {str(state): count for state, count in self.counts.items()},
            "retryable_failures": self.failed_retryable,
            "attempts": self.attempts,
            "times": times,
            "durations_s": {phase: round(s, 3) for phase, s in self.durations.items()},
            "metadata": settings,
        }


def run_status(run_dir: Path, *, times: bool = True, account: str | None = None) -> RunStatus:
    """Read a run's status; the journal is opened read-only. ``times=False`` skips the phase
    times, which read every attempt of a phase that did not finish. ``account``: the rows of
    that account of a run over several."""
    with Journal.open(run_dir / JOURNAL_FILE, read_only=True) as journal:
        metadata = journal.metadata()
        counts = journal.counts(account)
        return RunStatus(
            run_dir=run_dir,
            metadata=metadata,
            counts=counts,
            attempts=journal.attempt_counts(),
            total=journal.total() if account is None else sum(counts.values()),
            failed_retryable=journal.count_rows([RowState.FAILED], retryable=True, account=account),
            in_flight_rollback=journal.count_rows(
                [RowState.IN_FLIGHT], operation=Operation.ROLLBACK, account=account
            ),
            phase_times=_phase_times(journal, metadata) if times else {},
        )


def _phase_times(
    journal: Journal, metadata: dict[str, str]
) -> dict[Operation, tuple[float, float | None]]:
    times: dict[Operation, tuple[float, float | None]] = {}
    unfinished: list[Operation] = []
    for phase, (start_key, end_key) in PHASE_KEYS.items():
        start = epoch(metadata.get(start_key))
        if start is None:
            continue
        times[phase] = (start, epoch(metadata.get(end_key)))
        if times[phase][1] is None:
            unfinished.append(phase)
    if unfinished:
        # The end of a phase that did not finish is the end of its last request.
        last: dict[str, float] = {}
        for attempt in journal.attempts():
            end = attempt.started_at + attempt.duration
            if end > last.get(attempt.operation, 0.0):
                last[attempt.operation] = end
        for phase in unfinished:
            start, _ = times[phase]
            times[phase] = (start, last.get(str(phase)))
    return times


def iso(seconds: float | None) -> str | None:
    """Epoch seconds as ISO 8601 in UTC: ``2026-11-26T14:15:02Z``."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- every run under a reports folder -----------------------------------------------------------


@dataclass(frozen=True)
class RunListing:
    """One run folder under ``reports/``: its status, or why its journal cannot be read."""

    run_dir: Path
    status: RunStatus | None
    problem: str | None = None

    @property
    def created(self) -> float | None:
        """When the run was created (epoch seconds)."""
        if self.status is None:
            return None
        meta = self.status.metadata
        return epoch(meta.get(Meta.CREATED_AT) or meta.get(Meta.PLAN_STARTED_AT))

    @property
    def started(self) -> str:
        """When the run was created, in ISO 8601."""
        return iso(self.created) or ""

    def as_json(self) -> dict[str, Any]:
        if self.status is None:
            return {"run_dir": str(self.run_dir), "error": self.problem}
        meta = self.status.metadata
        return {
            "run_id": meta.get(Meta.RUN_ID, self.run_dir.name),
            "run_dir": str(self.run_dir),
            "sheet": meta.get(Meta.SHEET_NAME),
            "phase": str(self.status.phase),
            "finished": self.status.finished,
            "ok": self.status.ok,
            "counts": {str(s): n for s, n in self.status.counts.items() if n},
            "started": self.started or None,
        }


def list_runs(reports_dir: Path | None = None) -> list[RunListing]:
    """The run folders directly under ``reports_dir`` (default ``./reports``), newest first.

    A folder whose journal cannot be read is listed with the reason, not skipped.
    """
    folder = Path(reports_dir or DEFAULT_REPORTS_DIR)
    if not folder.is_dir():
        return []
    found = []
    for run_dir in sorted(folder.iterdir()):
        if not (run_dir / JOURNAL_FILE).is_file():
            continue
        try:
            found.append(RunListing(run_dir, run_status(run_dir)))
        except IvrMigrateError as exc:
            found.append(RunListing(run_dir, None, str(exc)))
    found.sort(key=lambda listing: (listing.created or 0.0, listing.run_dir.name), reverse=True)
    return found
