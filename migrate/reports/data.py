"""The input of every report: a small, plain model of one run, independent of the journal.

The report writers only ever see :class:`ReportData`. One adapter
(:func:`migrate.reports.journal_adapter.report_data_from_journal`) builds it from the journal's
public API, so the journal's schema can change without touching the writers, and tests can build
runs by hand.

Times are Unix epoch seconds (``time.time()``); the writers render them as UTC ISO 8601.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from migrate.vocabulary import (
    PROBLEM_OUTCOMES,
    PROBLEM_STATES,
    STATE_ORDER,
    HistoryStepKind,
    Outcome,
    RowState,
    outcome_of,
    outcome_sort_key,
    state_label,
)
from transforms.rules.base import change_path

__all__ = ["PROBLEM_OUTCOMES", "PROBLEM_STATES", "STATE_ORDER", "state_label"]

# The states' names, order and sets come from the run's vocabulary; these short names are kept
# for the report writers.
PLANNED: Final = RowState.PLANNED
UNCHANGED: Final = RowState.UNCHANGED
INVALID: Final = RowState.INVALID
NOT_FOUND: Final = RowState.NOT_FOUND
IN_FLIGHT: Final = RowState.IN_FLIGHT
UPDATED: Final = RowState.UPDATED
CONFLICT: Final = RowState.CONFLICT
FAILED: Final = RowState.FAILED
ROLLED_BACK: Final = RowState.ROLLED_BACK
ROLLBACK_CONFLICT: Final = RowState.ROLLBACK_CONFLICT

#: States whose rows go to failures.csv, the run's error file (DESIGN §8): every row that did
#: not end well. What feeding each back to ``check``/``run`` means is in
#: :func:`migrate.reports.tables.failures_frame`.
ERROR_FILE_STATES: Final = frozenset({FAILED, CONFLICT, NOT_FOUND, INVALID, ROLLBACK_CONFLICT})


@dataclass(frozen=True, slots=True)
class SheetStep:
    """One original sheet row that contributed a rule to a scenario.

    ``params`` holds the cells as the operator wrote them (text, not converted values), keyed by
    column name, so that failures.csv can reproduce the row exactly.
    """

    rule: str
    params: Mapping[str, str] = field(default_factory=dict)
    sheet_row: int | None = None
    #: The row's ``note`` cell, as written.
    note: str = ""
    #: The row's ``scenario_id`` cell as written (an id, ``*`` or ``name:GLOB``); "" if unknown.
    target: str = ""


@dataclass(frozen=True, slots=True)
class SheetLine:
    """One row of the run's sheet, whether or not it matched a scenario."""

    row: int
    rule: str
    #: The ``scenario_id`` cell as written: an id, ``*`` or ``name:GLOB``.
    target: str


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One scenario of the run and where it ended."""

    scenario_id: str
    name: str | None
    state: str
    steps: tuple[SheetStep, ...] = ()
    retryable: bool | None = None
    http_status: int | None = None
    error_class: str | None = None
    error: str | None = None
    attempts: int = 0
    before_fingerprint: str | None = None
    after_fingerprint: str | None = None
    planned_at: float | None = None
    state_at: float | None = None

    @property
    def rules(self) -> tuple[str, ...]:
        """Rule names in sheet order, each once."""
        return tuple(dict.fromkeys(step.rule for step in self.steps))

    @property
    def outcome(self) -> str:
        """The state, with failed rows split by whether a retry may help."""
        return outcome_of(self.state, self.retryable)


@dataclass(frozen=True, slots=True)
class ReportChange:
    """One changed field (mirrors :class:`transforms.rules.base.Change` plus the scenario id)."""

    scenario_id: str
    action_path: str
    field: str
    before: Any
    after: Any
    rule: str
    #: The sheet row whose rule made the change; None in journals written before it was kept.
    sheet_row: int | None = None

    @property
    def path(self) -> str:
        """Full path of the field: ``script[4].sendSms.from``."""
        return change_path(self.action_path, self.field)


@dataclass(frozen=True, slots=True)
class ReportAttempt:
    """One HTTP exchange (mirrors ``migrate.client.Attempt``)."""

    method: str
    path: str
    scenario_id: str | None
    status: int | None
    error_class: str | None
    started_at: float
    duration: float


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One step in a scenario's history: planned, applied, retried, re-planned, rolled back."""

    time: float
    #: One of the ``EVENT_*`` names below.
    event: str
    #: The state the step left the row in.
    state: str


EVENT_PLANNED: Final = HistoryStepKind.PLANNED
EVENT_APPLIED: Final = HistoryStepKind.APPLIED
EVENT_RETRIED: Final = HistoryStepKind.RETRIED
EVENT_REPLANNED: Final = HistoryStepKind.REPLANNED
EVENT_ROLLBACK: Final = HistoryStepKind.ROLLBACK
#: Display order of events.
EVENT_ORDER: Final = tuple(HistoryStepKind)


@dataclass(frozen=True, slots=True)
class HistoryStep:
    """How many scenarios one kind of step left in one state, and when (a run-level tally)."""

    event: str
    state: str
    scenarios: int
    first_at: float
    last_at: float


@dataclass
class ReportData:
    """Everything a report shows about one run.

    ``metadata`` is free-form; the writers know these keys when present: ``run_id``, ``phase``
    (plan/apply/retry/rollback), ``tool_version``, ``operator``, ``base_url``, ``sheet``,
    ``sheet_sha256``, ``write_rate``, ``started_at``, ``finished_at`` (epoch seconds). Keys that
    look like secrets are never written (see :func:`public_metadata`).
    """

    metadata: dict[str, Any] = field(default_factory=dict)
    rows: list[ReportRow] = field(default_factory=list)
    changes: list[ReportChange] = field(default_factory=list)
    attempts: list[ReportAttempt] = field(default_factory=list)
    #: Rows of the run's sheet that matched no scenario (a selector that found nothing): they
    #: are in no journal row, so they are read from the sheet copy in the run folder.
    unmatched_sheet_rows: list[SheetLine] = field(default_factory=list)
    #: False when the sheet copy could not be read back: rows that matched nothing are unknown.
    sheet_read: bool = True
    #: The run's history as a tally of steps (from the journal's transitions).
    history: list[HistoryStep] = field(default_factory=list)
    #: Per scenario id, its steps, for the scenarios whose history says more than planned and
    #: applied once (a retry, a re-plan, a rollback); the report shows them next to the diff.
    histories: dict[str, tuple[HistoryEvent, ...]] = field(default_factory=dict)


_SECRET_WORDS: Final = ("key", "secret", "password", "passwd", "token", "authori", "credential")


def public_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata without anything whose name looks like a secret (defence in depth)."""
    return {
        key: value
        for key, value in metadata.items()
        if not any(word in key.lower() for word in _SECRET_WORDS)
    }


FAILED_RETRYABLE: Final = Outcome.FAILED_RETRYABLE
FAILED_PERMANENT: Final = Outcome.FAILED_PERMANENT


def sort_key(outcome: str) -> tuple[int, str]:
    """Order outcomes as the vocabulary's display order, unknown ones last by name."""
    return outcome_sort_key(outcome)


#: Scenarios report.html lists per outcome; results.csv and changes.csv have them all.
MAX_SCENARIOS_PER_OUTCOME: Final = 500
