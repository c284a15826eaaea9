"""``status``: the tally of a run, from its journal alone (no network)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.engine.options import BAD_STATES, tally_line
from migrate.journal import (
    JOURNAL_FILE,
    META_APPLY_STARTED_AT,
    META_ROLLBACK_STARTED_AT,
    Journal,
)


@dataclass
class RunStatus:
    """What a run's journal says: metadata, rows per state, attempts per kind."""

    run_dir: Path
    metadata: dict[str, str]
    counts: dict[str, int]
    attempts: dict[str, int]
    total: int

    @property
    def phase(self) -> str:
        """The last operation started on the run: plan, apply or rollback."""
        if self.metadata.get(META_ROLLBACK_STARTED_AT):
            return "rollback"
        if self.metadata.get(META_APPLY_STARTED_AT):
            return "apply"
        return "plan"

    @property
    def ok(self) -> bool:
        return not any(self.counts.get(str(state)) for state in BAD_STATES[self.phase])

    def line(self) -> str:
        return tally_line(self.counts)

    def as_json(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "run_id": self.metadata.get("run_id"),
            "phase": self.phase,
            "ok": self.ok,
            "total": self.total,
            "counts": self.counts,
            "attempts": self.attempts,
            "metadata": self.metadata,
        }


def run_status(run_dir: Path) -> RunStatus:
    """Read a run's status; the journal is opened read-only in spirit (nothing is written)."""
    with Journal.open(run_dir / JOURNAL_FILE) as journal:
        return RunStatus(
            run_dir=run_dir,
            metadata=journal.metadata(),
            counts=journal.counts(),
            attempts=journal.attempt_counts(),
            total=journal.total(),
        )
