"""Apply, retry and rollback as data: what each reads, writes, expects and how outcomes map.

Each operation moves a scenario from a *base* body (what we expect to find) to a *target* body
(what we write): apply from what the plan read to the planned body, rollback from the planned
body back to the pre-image. The executor (``migrate/engine/execute.py``) runs any
:class:`OperationSpec` the same way; it never asks which operation it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from migrate.vocabulary import (
    PENDING,
    PROBLEM_STATES,
    ROLLBACK_PROBLEM_STATES,
    Operation,
    RowHead,
    RowState,
)

#: A selection of rows: a state, and for ``failed`` whether retryable (``None``: any).
Selection = tuple[tuple[RowState, bool | None], ...]


@dataclass(frozen=True)
class OperationSpec:
    """One operation of the write path, as data."""

    #: The command's name, in tallies, progress and hints: apply, retry, rollback.
    name: str
    #: What the journal records as the operation of each transition and attempt.
    operation: Operation
    #: The rows it takes, in this order (``in_flight`` ones only when they are its own).
    selection: Selection
    #: The stored body it writes (its writable fields): ``planned_body`` or ``pre_image``.
    body_column: str
    target_fingerprint: Callable[[RowHead], str | None]
    base_fingerprint: Callable[[RowHead], str | None]
    #: Store the scenario read before the PUT as the row's pre-image (what rollback restores).
    store_pre_image: bool
    #: Verify every write by reading it back, comparing the script's key order too.
    verify_by_reading: bool
    #: Our write reached the target.
    done: RowState
    #: The target was there before we ever wrote this row: someone made the same change.
    found_done: RowState
    found_done_text: str | None
    #: The scenario is neither base nor target: someone else changed it.
    conflict: RowState
    conflict_text: Callable[[RowHead, Mapping[str, Any]], str]
    #: The scenario is gone (404).
    gone: RowState
    gone_text: str | None
    #: The write certainly was not stored (refused, or retries exhausted).
    not_sent: RowState
    not_sent_prefix: str | None
    #: Not stored and the run is stopping: back to where a rerun takes the row up.
    paused: RowState
    #: The server stored something other than what we sent.
    stored_different: RowState
    #: Outcomes that count against ``--max-failures`` (and make the exit code 1).
    failure_states: frozenset[RowState]
    #: While rows are in these states the operation has not finished the run.
    pending: frozenset[RowState]
    #: States of the run that make the exit code 1 after this operation.
    exit_problems: frozenset[RowState]
    #: Re-plan a row (fresh read, rules, validation) before writing it; the fresh read is then
    #: also the guard of its write. ``None``: never.
    replan: Callable[[RowHead], bool] | None = None
    #: Only re-plan the rows ``replan`` picks, write nothing (to show the new plan first).
    plan_only: bool = False


def _apply_conflict(row: RowHead, current: Mapping[str, Any]) -> str:
    before, now = row.read_update_time, current.get("updateTime")
    if before == now:
        return f"changed since the plan read it (same updateTime {before}, different content)"
    return f"changed since the plan read it (updateTime {before} → {now})"


def _rollback_conflict(row: RowHead, current: Mapping[str, Any]) -> str:
    return "changed by someone else since this run wrote it"


def _needs_plan(row: RowHead) -> bool:
    """A row with no planned body yet: its plan read failed, or it waits in a ``run`` that
    reads each scenario in the same write turn as its PUT."""
    return row.planned_fingerprint is None


def _needs_fresh_plan(row: RowHead) -> bool:
    """``retry --all``: conflicts and permanent failures are re-planned from a fresh read."""
    return _needs_plan(row) or row.state is RowState.CONFLICT or row.retryable is False


APPLY: Final = OperationSpec(
    name="apply",
    operation=Operation.APPLY,
    selection=((RowState.IN_FLIGHT, None), (RowState.PLANNED, None)),
    body_column="planned_body",
    target_fingerprint=lambda row: row.planned_fingerprint,
    base_fingerprint=lambda row: row.read_fingerprint,
    store_pre_image=True,
    verify_by_reading=False,
    done=RowState.UPDATED,
    found_done=RowState.UNCHANGED,
    found_done_text="already as planned when applied",
    conflict=RowState.CONFLICT,
    conflict_text=_apply_conflict,
    gone=RowState.NOT_FOUND,
    gone_text=None,
    not_sent=RowState.FAILED,
    not_sent_prefix=None,
    paused=RowState.PLANNED,
    stored_different=RowState.FAILED,
    failure_states=frozenset({RowState.FAILED, RowState.CONFLICT}),
    pending=PENDING,
    exit_problems=PROBLEM_STATES | {RowState.IN_FLIGHT},
    replan=_needs_plan,
)


RETRY: Final = replace(
    APPLY,
    name="retry",
    selection=((RowState.IN_FLIGHT, None), (RowState.FAILED, True)),
)
RETRY_ALL: Final = replace(
    RETRY,
    selection=(*RETRY.selection, (RowState.FAILED, False), (RowState.CONFLICT, None)),
    replan=_needs_fresh_plan,
)

#: ``retry --all`` on a terminal, in two steps: the rows are re-planned first (REPLAN, no
#: write) and shown; once confirmed, WRITE_REPLANNED writes them (with a fresh read in the
#: write turn, as for any plan made earlier) and retries the retryable failures.
REPLAN: Final = replace(
    RETRY_ALL,
    name="retry",
    selection=((RowState.FAILED, False), (RowState.CONFLICT, None), (RowState.FAILED, True)),
    replan=_needs_fresh_plan,
    plan_only=True,
)
WRITE_REPLANNED: Final = replace(
    RETRY,
    selection=((RowState.IN_FLIGHT, None), (RowState.PLANNED, None), (RowState.FAILED, True)),
)

ROLLBACK: Final = OperationSpec(
    name="rollback",
    operation=Operation.ROLLBACK,
    selection=((RowState.IN_FLIGHT, None), (RowState.UPDATED, None)),
    body_column="pre_image",
    target_fingerprint=lambda row: row.pre_fingerprint,
    base_fingerprint=lambda row: row.planned_fingerprint,
    store_pre_image=False,
    verify_by_reading=True,
    done=RowState.ROLLED_BACK,
    found_done=RowState.ROLLED_BACK,
    found_done_text=None,
    conflict=RowState.ROLLBACK_CONFLICT,
    conflict_text=_rollback_conflict,
    gone=RowState.ROLLBACK_CONFLICT,
    gone_text="the scenario was deleted",
    not_sent=RowState.UPDATED,
    not_sent_prefix="not restored",
    paused=RowState.UPDATED,
    stored_different=RowState.ROLLBACK_CONFLICT,
    failure_states=frozenset({RowState.ROLLBACK_CONFLICT, RowState.UPDATED}),
    pending=frozenset({RowState.UPDATED, RowState.IN_FLIGHT}),
    exit_problems=ROLLBACK_PROBLEM_STATES | {RowState.IN_FLIGHT},
)
