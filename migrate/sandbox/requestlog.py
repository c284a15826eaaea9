"""The sandbox's request log: what arrived, from which account, and what came of it."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Final

#: Answered normally and changed nothing (reads, and every 4xx the handler gave).
ANSWERED: Final = "answered"
#: A write (PUT, POST, DELETE) that changed the store and was answered.
STORED: Final = "stored"
#: Refused with 429 by the account's rate limit.
LIMITED: Final = "limited"
#: Answered with an injected error status.
INJECTED: Final = "injected"
#: Connection closed without an answer before the handler ran: nothing was stored.
DROPPED_BEFORE: Final = "dropped_before"
#: Connection closed without an answer after the handler ran: ``stored`` says what happened.
DROPPED_AFTER: Final = "dropped_after"
#: Never answered (logged when the hang begins).
HUNG: Final = "hung"
#: Held without an answer before the handler ran: nothing was stored (logged when held).
HELD_BEFORE: Final = "held_before"
#: Held without an answer after the handler ran: ``stored`` says what happened (logged when held).
HELD_AFTER: Final = "held_after"
#: Answered 200 with deeply nested JSON after the handler ran.
NESTED: Final = "nested"
#: Answered 200 with an oversized streamed body after the handler ran.
HUGE: Final = "huge"


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One request. ``status`` is what the client received (None: no answer at all)."""

    seq: int
    time: float
    method: str
    path: str
    scenario_id: str | None
    account: str | None
    status: int | None
    outcome: str
    #: True when the request changed the store, whether or not the client heard about it.
    stored: bool
    #: True when the server holds the request without answering (hung or held); the entry is
    #: written the moment the hold begins, while the client is still waiting.
    held: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Entries in arrival order (the newest ``limit`` of them) and PUT counts per scenario.

    The PUT counts are kept apart from the entries so that a bounded log still counts every
    stored PUT.
    """

    def __init__(
        self, limit: int | None = None, listener: Callable[[LogEntry], None] | None = None
    ) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=limit)
        self._put_counts: Counter[tuple[str, str]] = Counter()
        self._seq = 0
        self._listener = listener

    def add(
        self,
        *,
        time: float,
        method: str,
        path: str,
        scenario_id: str | None,
        account: str | None,
        status: int | None,
        outcome: str,
        stored: bool = False,
        held: bool = False,
    ) -> LogEntry:
        self._seq += 1
        entry = LogEntry(
            self._seq, time, method, path, scenario_id, account, status, outcome, stored, held
        )
        self._entries.append(entry)
        if stored and method == "PUT" and scenario_id and account:
            self._put_counts[(account, scenario_id)] += 1
        if self._listener is not None:
            self._listener(entry)
        return entry

    def entries(self, since: int = 0) -> list[LogEntry]:
        """Entries with ``seq`` greater than ``since``."""
        return [entry for entry in self._entries if entry.seq > since]

    def put_counts(self, account: str | None = None) -> dict[str, int]:
        """Stored PUTs per scenario id (of one account, or summed over all accounts)."""
        counts: Counter[str] = Counter()
        for (owner, scenario_id), count in self._put_counts.items():
            if account is None or owner == account:
                counts[scenario_id] += count
        return dict(counts)

    def clear(self) -> None:
        self._entries.clear()
        self._put_counts.clear()
