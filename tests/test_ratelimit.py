"""The write limiter never lets N+1 starts into any window; reads are bucketed and pausable.

Time is virtual: the tests run on an event loop whose clock jumps straight to the next timer
instead of sleeping, so aiolimiter (which reads the loop's clock) and our limiters both run
hours of schedule in milliseconds, deterministically.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import selectors
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar, cast

import pytest
from aiolimiter import AsyncLimiter

from migrate.config import DEFAULT_WRITE_RATE, Rate
from migrate.errors import ConfigError
from migrate.ratelimit import DEFAULT_MARGIN, ReadLimiter, WriteLimiter

T = TypeVar("T")


class _VirtualSelector:
    """Polls the real selector without blocking and advances the loop's clock instead."""

    def __init__(self, selector: selectors.BaseSelector, loop: VirtualTimeLoop) -> None:
        self._selector = selector
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        events = self._selector.select(0)
        if not events and timeout is None:
            raise RuntimeError("deadlock: nothing scheduled and nothing to read")
        step = timeout if not events and timeout else 0.0
        # Like a real clock, tick at least one float step per iteration: aiolimiter can otherwise
        # spin on a rounding difference that a moving clock resolves.
        self._loop.now = max(self._loop.now + step, math.nextafter(self._loop.now, math.inf))
        return events

    def __getattr__(self, name: str) -> Any:
        return getattr(self._selector, name)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self.now = 1000.0
        real = cast(selectors.BaseSelector, self._selector)  # type: ignore[has-type]
        self._selector = cast(Any, _VirtualSelector(real, self))

    def time(self) -> float:
        return self.now


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


class Acquirer(Protocol):
    async def acquire(self) -> None: ...


async def record_starts(limiter: Acquirer, *, total: int, workers: int) -> list[float]:
    """``total`` acquisitions spread over ``workers`` concurrent tasks; their start times."""
    loop = asyncio.get_running_loop()
    starts: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            queue.get_nowait()
            await limiter.acquire()
            starts.append(loop.time())
            await asyncio.sleep(0.3)  # the request itself

    await asyncio.gather(*(worker() for _ in range(workers)))
    return sorted(starts)


def crowded_windows(starts: list[float], rate: Rate) -> list[tuple[float, float]]:
    """Pairs of starts N apart that fall inside one window of the period (must be none)."""
    n = rate.count
    return [
        (starts[i], starts[i + n])
        for i in range(len(starts) - n)
        if starts[i + n] - starts[i] <= rate.period
    ]


def achieved_ratio(starts: list[float], rate: Rate) -> float:
    """Achieved start rate over the run, as a fraction of the allowed rate."""
    achieved = (len(starts) - 1) / (starts[-1] - starts[0])
    return achieved / (rate.count / rate.period)


def test_writes_never_exceed_the_window_and_keep_97_percent_of_the_rate() -> None:
    rate = DEFAULT_WRITE_RATE

    async def main() -> list[float]:
        return await record_starts(WriteLimiter(rate), total=100, workers=10)

    starts = run_virtual(main())
    assert len(starts) == 100
    assert crowded_windows(starts, rate) == []
    ratio = achieved_ratio(starts, rate)
    assert ratio >= 0.97, ratio
    assert ratio == pytest.approx(1 / (1 + DEFAULT_MARGIN))


def test_the_same_check_catches_the_bursting_aiolimiter_configuration() -> None:
    rate = DEFAULT_WRITE_RATE

    async def main() -> list[float]:
        return await record_starts(AsyncLimiter(rate.count, rate.period), total=100, workers=10)

    starts = run_virtual(main())
    assert crowded_windows(starts, rate) != []


@pytest.mark.parametrize(
    "make_limiter, bursts",
    [
        (lambda rate: WriteLimiter(rate), False),
        (lambda rate: AsyncLimiter(rate.count, rate.period), True),
    ],
    ids=["WriteLimiter", "naive AsyncLimiter(N, period)"],
)
def test_no_burst_after_a_long_idle_spell(
    make_limiter: Callable[[Rate], Acquirer], bursts: bool
) -> None:
    rate = Rate(6, 60.0)

    async def main() -> list[float]:
        limiter = make_limiter(rate)
        first = await record_starts(limiter, total=8, workers=2)
        await asyncio.sleep(10 * rate.period)
        return first + await record_starts(limiter, total=20, workers=20)

    starts = run_virtual(main())
    assert (crowded_windows(starts, rate) != []) is bursts


def test_slow_down_delays_the_next_start_by_the_given_seconds() -> None:
    rate = Rate(6, 60.0)

    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        limiter = WriteLimiter(rate)
        await limiter.acquire()
        await asyncio.sleep(3 * rate.period)  # idle: the next start would be immediate
        limiter.slow_down(25.0)
        asked = loop.time()
        await limiter.acquire()
        return asked, loop.time()

    asked, started = run_virtual(main())
    assert started - asked == pytest.approx(25.0)


def test_slow_down_also_holds_a_writer_that_is_already_waiting() -> None:
    rate = Rate(6, 60.0)

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        limiter = WriteLimiter(rate)
        await limiter.acquire()
        waiting = asyncio.ensure_future(limiter.acquire())  # due one interval later
        await asyncio.sleep(1.0)
        limiter.slow_down(30.0)
        paused_at = loop.time()
        await waiting
        return [paused_at, loop.time()]

    paused_at, started = run_virtual(main())
    assert started - paused_at == pytest.approx(30.0)


def test_after_slow_down_the_pace_drops_for_one_period_then_recovers() -> None:
    rate = Rate(6, 60.0)

    async def main() -> tuple[WriteLimiter, list[float], float]:
        loop = asyncio.get_running_loop()
        limiter = WriteLimiter(rate)
        await limiter.acquire()
        await asyncio.sleep(3 * rate.period)
        limiter.slow_down(5.0)
        pause_end = loop.time() + 5.0
        starts = await record_starts(limiter, total=20, workers=4)
        return limiter, starts, pause_end

    limiter, starts, pause_end = run_virtual(main())
    gaps = [(a, b - a) for a, b in itertools.pairwise(starts)]
    slow = [gap for start, gap in gaps if start < pause_end + 60.0]
    fast = [gap for start, gap in gaps if start >= pause_end + 60.0]
    assert starts[0] == pytest.approx(pause_end)
    assert slow and all(gap == pytest.approx(limiter.interval * 1.5) for gap in slow[:-1])
    assert fast and all(gap == pytest.approx(limiter.interval) for gap in fast)
    assert crowded_windows(starts, rate) == []


def test_waiters_are_served_first_come_first_served() -> None:
    async def main() -> list[int]:
        limiter = WriteLimiter(Rate(2, 1.0))
        order: list[int] = []

        async def writer(i: int) -> None:
            await limiter.acquire()
            order.append(i)

        tasks = []
        for i in range(8):
            tasks.append(asyncio.ensure_future(writer(i)))
            await asyncio.sleep(0)  # queue them in a known order
        await asyncio.gather(*tasks)
        return order

    assert run_virtual(main()) == list(range(8))


def test_a_cancelled_waiter_does_not_block_the_others() -> None:
    async def main() -> tuple[float, float, float]:
        loop = asyncio.get_running_loop()
        limiter = WriteLimiter(Rate(1, 10.0))
        await limiter.acquire()
        first = loop.time()
        doomed = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(1.0)
        doomed.cancel()
        await limiter.acquire()
        return first, loop.time(), limiter.interval

    first, second, interval = run_virtual(main())
    assert second - first == pytest.approx(interval)


def test_injected_clock_and_sleep_drive_the_write_limiter_without_an_event_loop_clock() -> None:
    now = [0.0]
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = WriteLimiter(Rate(3, 30.0), margin=0.0, clock=lambda: now[0], sleep=fake_sleep)

    async def main() -> list[float]:
        starts = []
        for _ in range(5):
            await limiter.acquire()
            starts.append(now[0])
        limiter.slow_down(100.0)
        await limiter.acquire()
        starts.append(now[0])
        return starts

    starts = asyncio.run(main())
    assert starts == pytest.approx([0.0, 10.0, 20.0, 30.0, 40.0, 140.0])


def test_late_wake_ups_are_not_added_to_every_interval() -> None:
    rate = Rate(5, 5.0)
    now = [0.0]

    async def late_sleep(seconds: float) -> None:
        now[0] += seconds + 0.02  # a busy loop wakes us 2 % of an interval late, every time
        await asyncio.sleep(0)

    limiter = WriteLimiter(rate, clock=lambda: now[0], sleep=late_sleep)

    async def main() -> list[float]:
        starts: list[float] = []

        async def worker() -> None:
            for _ in range(20):
                await limiter.acquire()
                starts.append(now[0])

        await asyncio.gather(*(worker() for _ in range(3)))
        return sorted(starts)

    starts = asyncio.run(main())
    assert crowded_windows(starts, rate) == []
    # paced from the actual starts, the rate would drop to 1 / (1.02 + 0.02) = 96 %
    assert achieved_ratio(starts, rate) >= 0.97


def test_bad_limiter_settings_are_configuration_errors() -> None:
    with pytest.raises(ConfigError):
        WriteLimiter(Rate(6, 60.0), margin=1.5)
    with pytest.raises(ConfigError):
        WriteLimiter(Rate(6, 60.0), slow_factor=0.5)
    with pytest.raises(ConfigError):
        ReadLimiter(Rate(6, 60.0), slow_factor=0.5)


def test_reads_follow_the_token_bucket() -> None:
    rate = Rate(10, 1.0)

    async def main() -> list[float]:
        return await record_starts(ReadLimiter(rate), total=50, workers=10)

    starts = run_virtual(main())
    # a burst of one bucket, then the refill rate: 50 reads need at least 4 s
    assert starts[-1] - starts[0] >= 4.0 - 1e-9


def test_read_slow_down_pauses_every_reader_including_those_waiting_for_a_token() -> None:
    rate = Rate(2, 1.0)

    async def main() -> tuple[float, list[float]]:
        loop = asyncio.get_running_loop()
        limiter = ReadLimiter(rate)
        await limiter.acquire()
        await limiter.acquire()  # bucket empty: the next ones wait for tokens
        waiting = [asyncio.ensure_future(limiter.acquire()) for _ in range(3)]
        await asyncio.sleep(0)
        limiter.slow_down(7.0)
        resume = loop.time() + 7.0
        starts = []
        for fut in waiting:
            await fut
            starts.append(loop.time())
        return resume, starts

    resume, starts = run_virtual(main())
    assert all(start >= resume - 1e-9 for start in starts)


def test_reads_after_the_pause_are_slower_for_one_period() -> None:
    rate = Rate(4, 1.0)

    async def main() -> tuple[list[float], list[float]]:
        limiter = ReadLimiter(rate)
        normal = await record_starts(limiter, total=24, workers=4)
        limiter.slow_down(0.5)
        slowed = await record_starts(limiter, total=24, workers=4)
        return normal, slowed

    normal, slowed = run_virtual(main())
    assert slowed[-1] - slowed[0] > normal[-1] - normal[0]
