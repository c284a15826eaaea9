"""A run's history from the journal's state changes: what was planned, applied, retried,
re-planned and rolled back, and when.

The journal records every state change of a row (``transitions``: row, time, operation, from,
to). This module reads them as steps: ``in_flight`` is the moment before a PUT, not a step of its
own, and a step is named by what it did to the row:

* ``planned`` — the row's first state (``plan``);
* ``applied`` — ``apply`` moved a planned row on (updated, conflict, failed, …);
* ``retried`` — ``apply``/``retry`` moved a row on that had failed or conflicted before;
* ``re-planned`` — ``retry --all`` planned a failed or conflicted row again;
* ``rollback`` — ``rollback`` moved the row (rolled back, rollback conflict, or back to updated
  when the restore failed).

:class:`HistoryBuilder` tallies the steps of every row and keeps each step only for the rows
asked for (a 100,000-row run has some 300,000 state changes; the page shows a few thousand rows).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from typing import Final, Generic, TypeVar

from migrate.reports.data import (
    CONFLICT,
    EVENT_APPLIED,
    EVENT_ORDER,
    EVENT_PLANNED,
    EVENT_REPLANNED,
    EVENT_RETRIED,
    EVENT_ROLLBACK,
    FAILED,
    IN_FLIGHT,
    PLANNED,
    HistoryEvent,
    HistoryStep,
    sort_key,
)
from migrate.vocabulary import Operation

_ROLLBACK_OPERATION: Final = Operation.ROLLBACK
_PLAN_OPERATION: Final = Operation.PLAN
_RETRIED_FROM: Final = frozenset({FAILED, CONFLICT})

Key = TypeVar("Key", bound=Hashable)


def step_name(operation: str, before: str | None, after: str) -> str:
    """The step a state change is, given the row's last settled state ``before``."""
    if before is None:
        return EVENT_PLANNED
    if operation == _ROLLBACK_OPERATION:
        return EVENT_ROLLBACK
    if operation == _PLAN_OPERATION or after == PLANNED:
        return EVENT_REPLANNED
    if before in _RETRIED_FROM:
        return EVENT_RETRIED
    return EVENT_APPLIED


class HistoryBuilder(Generic[Key]):
    """Feed it a run's state changes in journal order; read the tally and the kept rows."""

    def __init__(self, keep: Collection[Key] = ()) -> None:
        self._keep = keep
        self._settled: dict[Key, str | None] = {}
        self._tally: dict[tuple[str, str], list[float]] = {}  # (step, state) → [n, first, last]
        self.kept: dict[Key, list[HistoryEvent]] = {}

    def add(
        self, row: Key, time: float, operation: str, from_state: str | None, to_state: str
    ) -> None:
        """One state change of ``row``."""
        if to_state == IN_FLIGHT:
            return  # the moment before a PUT: the step is where the row lands after it
        # The last settled state; for a row whose earlier changes are missing, what it left.
        before = None if from_state is None else self._settled.get(row, from_state)
        step = step_name(operation, before, to_state)
        self._settled[row] = to_state
        found = self._tally.get((step, to_state))
        if found is None:
            self._tally[(step, to_state)] = [1, time, time]
        else:
            found[0] += 1
            found[1] = min(found[1], time)
            found[2] = max(found[2], time)
        if row in self._keep:
            self.kept.setdefault(row, []).append(HistoryEvent(time, step, to_state))

    def steps(self) -> list[HistoryStep]:
        """The tally: one line per step and resulting state, in run order."""
        lines = [
            HistoryStep(step, state, int(n), first, last)
            for (step, state), (n, first, last) in self._tally.items()
        ]
        return sorted(lines, key=lambda s: (EVENT_ORDER.index(s.event), sort_key(s.state)))

    def telling(self) -> dict[Key, tuple[HistoryEvent, ...]]:
        """The kept rows whose history says more than "planned, then applied once"."""
        return {
            row: tuple(events)
            for row, events in self.kept.items()
            if any(e.event not in (EVENT_PLANNED, EVENT_APPLIED) for e in events)
            or sum(1 for e in events if e.event == EVENT_APPLIED) > 1
        }
