"""Rate limiters shared by every worker of a run: one for writes, one for reads.

Writes. The server counts PUTs per account in a strict sliding window over arrival times (6 in any
60 s). A token bucket such as ``aiolimiter.AsyncLimiter(6, 60)`` lets six through at once after an
idle spell and then one every ten seconds, so the seventh arrives inside the first one's window and
is refused. :class:`WriteLimiter` cannot burst:

- starts are spaced evenly, ``interval = period / N × (1 + margin)`` apart, which also satisfies a
  token-bucket or fixed-window server; the interval counts from when the previous start was due,
  so the loop's wake-up latency is not added to every interval (at compressed benchmark rates it
  cost 2-3 % of the rate);
- belt and braces against loop scheduling and float drift, it keeps the start times of the last N
  acquisitions and waits while a new start would put N+1 starts inside ``period × (1 + margin)``;
- the margin (default 2 %) absorbs network jitter between our start and the server's arrival
  stamp; the achieved rate is ``1 / (1 + margin)`` of the allowed one (98 % by default).

It implements the spacing itself instead of wrapping ``AsyncLimiter(1, interval)`` (which would
space starts the same way): one injectable clock then drives spacing, window and pauses alike,
and :meth:`WriteLimiter.slow_down` can change the pace on the fly, which an ``AsyncLimiter`` with
tasks queued inside it cannot. The default clock is the running loop's ``time()``, like aiolimiter.

Across processes, an optional :class:`~migrate.ledger.AccountLedger` shares the account's budget
with every other ivr-migrate process on the machine: once this process's own spacing allows a
start, the limiter takes its turn in the ledger (which may wait longer), and a 429 pauses the
account there too. Without a ledger the limiter behaves exactly as described above.

Reads have no documented limit; :class:`ReadLimiter` is an ``aiolimiter`` token bucket (bursts are
harmless there) with the same :meth:`~ReadLimiter.slow_down`.

Both are coroutine-safe within one event loop and serve waiters first come, first served.
Create one instance per kind per run.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from aiolimiter import AsyncLimiter

from migrate.config import Rate
from migrate.errors import ConfigError

if TYPE_CHECKING:
    from migrate.ledger import AccountLedger

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Safety margin on the write window: 2 % keeps the achieved rate at 98 % of the allowed one.
DEFAULT_MARGIN: Final = 0.02
#: After a 429, starts are spaced this many times further apart for one period.
SLOW_FACTOR: Final = 1.5
#: Share of an interval of wake-up lateness that the next start does not inherit.
_FORGIVEN: Final = 0.1


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


class WriteLimiter:
    """Never lets more than ``rate.count`` starts happen in any window of ``rate.period``."""

    def __init__(
        self,
        rate: Rate,
        *,
        ledger: AccountLedger | None = None,
        margin: float = DEFAULT_MARGIN,
        slow_factor: float = SLOW_FACTOR,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """``ledger``: the account's shared ledger, so other processes' writes count too."""
        if not 0 <= margin < 1:
            raise ConfigError(f"write limiter margin must be in [0, 1), not {margin}")
        if slow_factor < 1:
            raise ConfigError(f"write limiter slow_factor must be at least 1, not {slow_factor}")
        self.rate = rate
        self.ledger = ledger
        self._margin = margin
        #: The window we enforce: a little longer than the server's.
        self.window = rate.period * (1 + margin)
        #: Seconds between two starts at full pace.
        self.interval = self.window / rate.count
        self._slow_factor = slow_factor
        self._clock = clock or _loop_time
        self._sleep = sleep
        self._starts: deque[float] = deque(maxlen=rate.count)
        self._paused_until = -math.inf
        self._slow_until = -math.inf
        # The moment the last start was due: spacing counts from here (see acquire()).
        self._last_slot = -math.inf
        # asyncio.Lock wakes its waiters in FIFO order: first come, first served.
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until a write may start without breaking the window, then record its start."""
        async with self._lock:
            waited, due = False, -math.inf
            while True:
                now = self._clock()
                ready = self._ready_at(now)
                due = max(due, ready)
                if ready <= now:
                    break
                waited = True
                await self._sleep(ready - now)
            if self.ledger is not None:
                held_back = await self.ledger.take_turn(self.rate, self._margin)
                now = self._clock()
                if held_back:  # by other processes' writes: this start was due now, not earlier
                    due = now
            self._starts.append(now)
            # Space the next start from when this one was due, not from when the loop woke us:
            # wake-up latency would otherwise be added to every interval (2-4 % of the rate at
            # compressed test rates). At most a tenth of an interval is forgiven, and nothing
            # after an idle spell, so lateness is never caught up with a burst; the window
            # check on actual start times is what keeps the server's limit.
            self._last_slot = max(due, now - self.interval * _FORGIVEN) if waited else now

    def slow_down(self, seconds: float) -> None:
        """After a 429: no start before ``now + seconds``, then a slower pace for one period."""
        now = self._clock()
        self._paused_until = max(self._paused_until, now + max(seconds, 0.0))
        self._slow_until = max(self._slow_until, self._paused_until + self.rate.period)
        if self.ledger is not None:
            self.ledger.pause(seconds)

    @property
    def paused_until(self) -> float:
        """Clock time before which no write starts (``-inf`` when never paused)."""
        return self._paused_until

    def _ready_at(self, now: float) -> float:
        ready = self._paused_until
        if self._starts:
            gap = self.interval * (self._slow_factor if now < self._slow_until else 1.0)
            ready = max(ready, self._last_slot + gap)
            if len(self._starts) == self.rate.count:
                # the oldest of the last N must have left the window before the next start
                ready = max(ready, self._starts[0] + self.window)
        return ready

    def __repr__(self) -> str:
        return f"WriteLimiter({self.rate}, interval={self.interval:g}s, window={self.window:g}s)"


class ReadLimiter:
    """A token bucket for reads (``aiolimiter``), with pauses after a 429.

    It follows the running loop's clock, as aiolimiter does; tests run it on a virtual-time loop.
    """

    def __init__(self, rate: Rate, *, slow_factor: float = SLOW_FACTOR) -> None:
        if slow_factor < 1:
            raise ConfigError(f"read limiter slow_factor must be at least 1, not {slow_factor}")
        self.rate = rate
        self.interval = rate.interval
        self._bucket = AsyncLimiter(rate.count, rate.period)
        # While slowed down, each read costs more of the bucket (at most all of it).
        self._slow_cost = min(slow_factor, float(rate.count))
        self._paused_until = -math.inf
        self._slow_until = -math.inf

    async def acquire(self) -> None:
        """Wait for a token, and for the end of any pause."""
        await self._wait_out_pause()
        cost = self._slow_cost if _loop_time() < self._slow_until else 1.0
        await self._bucket.acquire(cost)
        # a 429 may have paused reads while this task waited for its token
        await self._wait_out_pause()

    def slow_down(self, seconds: float) -> None:
        """After a 429: no read before ``now + seconds``, then a slower pace for one period."""
        now = _loop_time()
        self._paused_until = max(self._paused_until, now + max(seconds, 0.0))
        self._slow_until = max(self._slow_until, self._paused_until + self.rate.period)

    @property
    def paused_until(self) -> float:
        """Loop time before which no read starts (``-inf`` when never paused)."""
        return self._paused_until

    async def _wait_out_pause(self) -> None:
        while (wait := self._paused_until - _loop_time()) > 0:
            await asyncio.sleep(wait)

    def __repr__(self) -> str:
        return f"ReadLimiter({self.rate})"
