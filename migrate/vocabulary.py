"""The run's vocabulary: row states, operations, attempt kinds, metadata keys and typed records.

Every other module imports these names from here; a state is never spelled as a string
anywhere else (``tests/test_architecture.py`` checks it). To add a state, add a member to
:class:`RowState` at its place in the display order, put it in the sets below that apply to it,
and give it a label in ``_LABELS``: tallies, reports, ``status`` and the exit code follow.

Row states (DESIGN §6)::

    planned ──apply──► in_flight ──► updated ──rollback──► in_flight ──► rolled_back
       │                    └──────► conflict / failed          └──────► rollback_conflict
       └ plan also ends rows as unchanged, invalid, not_found or failed (the read failed)

Records are the typed values that cross layers: the planner builds :class:`PlannedRow` values
from :class:`SheetRef` and :class:`PlannedChange` values, the journal stores and reads them back
(:class:`RowRecord`, :class:`RowHead`, :class:`AttemptRecord`, :class:`Transition`), the reports
read them. Times are Unix epoch seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from transforms.body import fingerprint
from transforms.rules.base import change_path


class RowState(StrEnum):
    """The current state of one row (one target scenario), in display order."""

    UPDATED = "updated"
    PLANNED = "planned"
    ROLLED_BACK = "rolled_back"
    UNCHANGED = "unchanged"
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    FAILED = "failed"
    CONFLICT = "conflict"
    ROLLBACK_CONFLICT = "rollback_conflict"
    IN_FLIGHT = "in_flight"


#: Display order of states (tallies, reports, ``status``).
STATE_ORDER: Final = tuple(RowState)
#: States in which a row needs nothing more: it ended well.
SETTLED_OK: Final = frozenset({RowState.UPDATED, RowState.UNCHANGED, RowState.ROLLED_BACK})
#: States of a row still waiting for (or in the middle of) its write.
PENDING: Final = frozenset({RowState.PLANNED, RowState.IN_FLIGHT})
#: States that end a row badly: they make the exit code 1 and go to failures.csv.
PROBLEM_STATES: Final = frozenset(
    {
        RowState.INVALID,
        RowState.NOT_FOUND,
        RowState.CONFLICT,
        RowState.FAILED,
        RowState.ROLLBACK_CONFLICT,
    }
)
#: The problems a rollback answers for (its exit code): it only restores rows the run updated,
#: so conflicts and failures of the apply before it are not its own.
ROLLBACK_PROBLEM_STATES: Final = frozenset({RowState.ROLLBACK_CONFLICT})
#: States a row can only be in after a write was sent for it (the reports show its final body).
WRITTEN_STATES: Final = frozenset(
    {RowState.UPDATED, RowState.ROLLED_BACK, RowState.ROLLBACK_CONFLICT}
)


class Outcome(StrEnum):
    """How a ``failed`` row reads in reports: whether a retry may help."""

    FAILED_RETRYABLE = "failed_retryable"
    FAILED_PERMANENT = "failed_permanent"


def outcome_of(state: str, retryable: bool | None) -> str:
    """The state, with ``failed`` split by whether a retry may help."""
    if state == RowState.FAILED:
        return Outcome.FAILED_RETRYABLE if retryable else Outcome.FAILED_PERMANENT
    return state


#: Outcomes that end a row badly (:data:`PROBLEM_STATES`, with failed split in two).
PROBLEM_OUTCOMES: Final[frozenset[str]] = PROBLEM_STATES | frozenset(Outcome)

#: Display order of outcomes (states, with failed split in two).
OUTCOME_ORDER: Final[tuple[str, ...]] = tuple(
    item
    for state in STATE_ORDER
    for item in (
        (Outcome.FAILED_RETRYABLE, Outcome.FAILED_PERMANENT)
        if state is RowState.FAILED
        else (state,)
    )
)

_LABELS: Final[Mapping[str, str]] = {
    RowState.UPDATED: "updated",
    RowState.UNCHANGED: "unchanged",
    RowState.ROLLED_BACK: "rolled back",
    RowState.IN_FLIGHT: "in flight",
    RowState.INVALID: "invalid",
    RowState.NOT_FOUND: "not found",
    RowState.CONFLICT: "conflict",
    RowState.FAILED: "failed",
    RowState.ROLLBACK_CONFLICT: "rollback conflict",
    Outcome.FAILED_RETRYABLE: "failed (retryable)",
    Outcome.FAILED_PERMANENT: "failed (permanent)",
}


#: The colour of each state or outcome in report.html and on the terminal.
_COLOURS: Final[Mapping[str, str]] = {
    RowState.UPDATED: "#2e7d32",
    RowState.PLANNED: "#1565c0",
    RowState.UNCHANGED: "#78909c",
    RowState.ROLLED_BACK: "#6a1b9a",
    RowState.IN_FLIGHT: "#0277bd",
    RowState.INVALID: "#ef6c00",
    RowState.NOT_FOUND: "#8d6e63",
    RowState.CONFLICT: "#c77c02",
    Outcome.FAILED_RETRYABLE: "#e53935",
    Outcome.FAILED_PERMANENT: "#b71c1c",
    RowState.ROLLBACK_CONFLICT: "#ad1457",
}
_DEFAULT_COLOUR: Final = "#546e7a"


def state_colour(state: str) -> str:
    """``#2e7d32`` for updated, …; a neutral grey for anything unknown."""
    return _COLOURS.get(state, _DEFAULT_COLOUR)


def state_label(state: str, *, dry_run: bool = False) -> str:
    """How a state or outcome reads: ``not found``, ``would update`` (a planned row, dry run)."""
    if state == RowState.PLANNED:
        return "would update" if dry_run else "planned (not applied)"
    return _LABELS.get(state, state.replace("_", " "))


def outcome_sort_key(outcome: str) -> tuple[int, str]:
    """Order outcomes as :data:`OUTCOME_ORDER`, unknown ones last by name."""
    try:
        return (OUTCOME_ORDER.index(outcome), "")
    except ValueError:
        return (len(OUTCOME_ORDER), outcome)


def tally_line(counts: Mapping[str, int]) -> str:
    """``812 updated, 40 unchanged, 3 failed, 1 conflict`` (states in display order)."""
    parts = [f"{counts[s]} {s.replace('_', ' ')}" for s in STATE_ORDER if counts.get(s)]
    return ", ".join(parts) if parts else "no rows"


class Operation(StrEnum):
    """What touched a row last; journaled with every transition and attempt."""

    PLAN = "plan"
    APPLY = "apply"
    ROLLBACK = "rollback"


class HistoryStepKind(StrEnum):
    """A step in a scenario's history, as the reports tell it (in display order)."""

    PLANNED = "planned"
    APPLIED = "applied"
    RETRIED = "retried"
    REPLANNED = "re-planned"
    ROLLBACK = "rollback"


class AttemptKind(StrEnum):
    """Which step of a row an HTTP attempt belongs to."""

    SEARCH = "SEARCH"
    GET = "GET"
    PUT = "PUT"
    VERIFY = "VERIFY"
    RECONCILE = "RECONCILE"


class Meta(StrEnum):
    """Keys of the run's metadata (the journal's ``run`` table). Never credentials."""

    SCHEMA_VERSION = "schema_version"
    RUN_ID = "run_id"
    TOOL_VERSION = "tool_version"
    OPERATOR = "operator"
    #: The base URL of the API the run was planned against (the embedded sandbox's loopback URL).
    BASE_URL = "base_url"
    #: Which account the run writes to: the normalised base URL, or ``sandbox``.
    TARGET = "target"
    #: A run over several accounts: JSON ``{name: {"base_url": …, "target": …}}``.
    ACCOUNTS = "accounts"
    SHEET_NAME = "sheet_name"
    SHEET_COPY = "sheet_copy"
    SHEET_SHA256 = "sheet_sha256"
    CREATED_AT = "created_at"
    PLAN_STARTED_AT = "plan_started_at"
    PLAN_FINISHED_AT = "plan_finished_at"
    APPLY_STARTED_AT = "apply_started_at"
    APPLY_FINISHED_AT = "apply_finished_at"
    ROLLBACK_STARTED_AT = "rollback_started_at"
    ROLLBACK_FINISHED_AT = "rollback_finished_at"
    WRITE_RATE = "write_rate"
    READ_RATE = "read_rate"
    CONCURRENCY = "concurrency"


#: Per operation, the metadata keys of its first start and of its end.
PHASE_KEYS: Final[Mapping[Operation, tuple[Meta, Meta]]] = {
    Operation.PLAN: (Meta.PLAN_STARTED_AT, Meta.PLAN_FINISHED_AT),
    Operation.APPLY: (Meta.APPLY_STARTED_AT, Meta.APPLY_FINISHED_AT),
    Operation.ROLLBACK: (Meta.ROLLBACK_STARTED_AT, Meta.ROLLBACK_FINISHED_AT),
}


def epoch(value: str | None) -> float | None:
    """A metadata time (ISO 8601, as the journal stores it, or epoch seconds) as epoch
    seconds; None when empty or unreadable."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


# -- records ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SheetRef:
    """What a run keeps of one sheet row: enough to re-plan it and to write it back as a row.

    ``target`` is the ``scenario_id`` cell as written (an id, ``*`` or ``name:GLOB``), ``params``
    the converted parameter values (JSON values), ``cells`` the parameter cells as written.
    """

    file: str
    row: int
    target: str
    rule: str
    params: Mapping[str, Any]
    cells: Mapping[str, str]
    note: str = ""
    #: The account the row applies to (its ``account`` cell; empty: the run's one account).
    account: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "file": self.file,
            "row": self.row,
            "target": self.target,
            "rule": self.rule,
            "params": dict(self.params),
            "cells": dict(self.cells),
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SheetRef:
        return cls(
            file=str(data["file"]),
            row=int(data["row"]),
            target=str(data["target"]),
            rule=str(data["rule"]),
            params=dict(data.get("params") or {}),
            cells={str(k): str(v) for k, v in (data.get("cells") or {}).items()},
            note=str(data.get("note") or ""),
            account=str(data.get("account") or ""),
        )


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """One changed field: the rule's :class:`~transforms.rules.base.Change` and its sheet row.

    ``action_path`` is empty for scenario fields; ``before``/``after`` are JSON values (``None``
    is an absent field).
    """

    action_path: str
    field: str
    before: Any
    after: Any
    rule: str
    #: The sheet row whose rule made the change (``None`` in journals of older versions).
    sheet_row: int | None = None

    @property
    def path(self) -> str:
        """The full path of the field: ``script[4].sendSms.from``."""
        return change_path(self.action_path, self.field)

    def to_json(self) -> dict[str, Any]:
        return {
            "action_path": self.action_path,
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "rule": self.rule,
            "sheet_row": self.sheet_row,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedChange:
        row = data.get("sheet_row")
        return cls(
            action_path=str(data.get("action_path", "")),
            field=str(data.get("field", "")),
            before=data.get("before"),
            after=data.get("after"),
            rule=str(data.get("rule", "")),
            sheet_row=row if isinstance(row, int) else None,
        )


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation error or warning of a planned body, addressed by path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class PlannedRow:
    """What ``plan`` decided for one target scenario, ready to be journaled."""

    scenario_id: str
    name: str | None
    sheet_refs: list[SheetRef]
    state: RowState
    read_body: dict[str, Any] | None = None
    planned_body: dict[str, Any] | None = None
    changes: list[PlannedChange] = field(default_factory=list)
    validation_errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    retryable: bool | None = None
    http_status: int | None = None
    error_class: str | None = None
    error_text: str | None = None
    #: Fingerprints of the bodies above, when the caller already computed them.
    read_fingerprint: str | None = None
    planned_fingerprint: str | None = None
    #: The account the scenario belongs to (empty: the run's one account).
    account: str = ""

    def fingerprints(self) -> tuple[str | None, str | None]:
        """Fingerprints of the read and planned bodies (computed once)."""
        if self.read_fingerprint is None and self.read_body is not None:
            self.read_fingerprint = fingerprint(self.read_body)
        if self.planned_fingerprint is None and self.planned_body is not None:
            self.planned_fingerprint = fingerprint(self.planned_body)
        return self.read_fingerprint, self.planned_fingerprint

    @property
    def rules(self) -> list[str]:
        return [ref.rule for ref in self.sheet_refs]


@dataclass
class RowRecord:
    """One row of the journal. Body fields are ``None`` when read without bodies."""

    id: int
    scenario_id: str
    name: str | None
    sheet_refs: list[SheetRef]
    rules: list[str]
    state: RowState
    retryable: bool | None
    operation: Operation | None
    read_fingerprint: str | None
    read_update_time: str | None
    planned_fingerprint: str | None
    pre_fingerprint: str | None
    final_fingerprint: str | None
    changes: list[PlannedChange]
    change_count: int
    validation_errors: list[Problem]
    warnings: list[Problem]
    http_status: int | None
    error_class: str | None
    error_text: str | None
    attempts: int
    planned_at: float | None
    in_flight_at: float | None
    finished_at: float | None
    read_body: dict[str, Any] | None = None
    planned_body: dict[str, Any] | None = None
    pre_image: dict[str, Any] | None = None
    account: str = ""


@dataclass(frozen=True, slots=True)
class RowHead:
    """The few columns of a row that the write path decides on."""

    id: int
    account: str
    scenario_id: str
    state: RowState
    operation: Operation | None
    read_update_time: str | None
    read_fingerprint: str | None
    planned_fingerprint: str | None
    pre_fingerprint: str | None
    retryable: bool | None = None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One HTTP exchange made for the run."""

    id: int
    row_id: int | None
    scenario_id: str | None
    operation: str
    kind: str
    method: str
    path: str
    started_at: float
    duration: float
    status: int | None
    error_class: str | None
    account: str = ""


@dataclass(frozen=True, slots=True)
class Transition:
    """One state change of a row."""

    row_id: int
    time: float
    operation: str
    from_state: str | None
    to_state: str
