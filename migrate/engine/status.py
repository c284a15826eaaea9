"""``status``: the tally of a run, from its journal alone (no network, nothing written)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.journal import JOURNAL_FILE, Journal
from migrate.vocabulary import PENDING, PROBLEM_STATES, Meta, Operation, tally_line


@dataclass
class RunStatus:
    """What a run's journal says: metadata, rows per state, attempts per kind."""

    run_dir: Path
    metadata: dict[str, str]
    counts: dict[str, int]
    attempts: dict[str, int]
    total: int

    @property
    def phase(self) -> Operation:
        """The last operation started on the run: plan, apply or rollback."""
        if self.metadata.get(Meta.ROLLBACK_STARTED_AT):
            return Operation.ROLLBACK
        if self.metadata.get(Meta.APPLY_STARTED_AT):
            return Operation.APPLY
        return Operation.PLAN

    @property
    def ok(self) -> bool:
        """No row ended badly and none is still waiting for its write."""
        return not any(self.counts[state] for state in PROBLEM_STATES | PENDING)

    def line(self) -> str:
        return tally_line(self.counts)

    def as_json(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "run_id": self.metadata.get(Meta.RUN_ID),
            "phase": str(self.phase),
            "ok": self.ok,
            "total": self.total,
            "counts": {str(state): count for state, count in self.counts.items()},
            "attempts": self.attempts,
            "metadata": self.metadata,
        }


def run_status(run_dir: Path) -> RunStatus:
    """Read a run's status; the journal is opened read-only."""
    with Journal.open(run_dir / JOURNAL_FILE, read_only=True) as journal:
        return RunStatus(
            run_dir=run_dir,
            metadata=journal.metadata(),
            counts=journal.counts(),
            attempts=journal.attempt_counts(),
            total=journal.total(),
        )
