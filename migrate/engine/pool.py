"""A fixed pool of workers over a queue, and the stop signals they obey.

One :class:`Stop` per invocation. The first SIGINT/SIGTERM (or a safety rail) sets ``stop``:
workers take no new row, requests already started finish or time out. A second signal sets
``abort``: requests still waiting are cancelled; their rows stay ``in_flight`` with their
pre-image committed, which the next ``apply`` reconciles.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class Aborted(Exception):
    """A request was cancelled by a second interrupt."""


class Stop:
    """Why and whether the workers should stop taking rows."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.abort = asyncio.Event()
        self.signal: int | None = None
        self.reason: str | None = None
        self._guarded: set[asyncio.Future[Any]] = set()

    @property
    def requested(self) -> bool:
        return self.stop.is_set()

    @property
    def interrupted(self) -> bool:
        return self.signal is not None

    def request(self, reason: str) -> None:
        """Stop taking rows (a safety rail); the first reason wins."""
        if self.reason is None:
            self.reason = reason
        self.stop.set()

    def on_signal(self, signum: int) -> None:
        if self.signal is not None:
            self.abort_requests()
        self.signal = signum
        self.stop.set()

    def abort_requests(self) -> None:
        """Cancel every request still running under :meth:`guard`."""
        self.abort.set()
        for task in list(self._guarded):
            task.cancel()

    async def guard(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` unless a second interrupt cancels it (then raise :class:`Aborted`)."""
        if self.abort.is_set():
            coroutine.close()
            raise Aborted
        task = asyncio.ensure_future(coroutine)
        self._guarded.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.abort.is_set() and not (current and current.cancelling()):
                raise Aborted from None
            raise
        finally:
            self._guarded.discard(task)

    async def sleep(self, seconds: float) -> bool:
        """Sleep unless stopped first; True if the full time passed."""
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=max(seconds, 0.0))
        except TimeoutError:
            return True
        return False


@contextmanager
def signals_stop(stop: Stop, enabled: bool = True) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` (then ``abort``) while the block runs."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if enabled and threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.on_signal, signum)
            installed.append(signum)
    try:
        yield
    finally:
        for done in installed:
            loop.remove_signal_handler(done)


async def run_pool(
    items: AsyncIterator[T],
    handle: Callable[[T], Awaitable[None]],
    *,
    concurrency: int,
    stop: Stop,
) -> None:
    """Feed ``items`` to ``concurrency`` workers until exhausted or stopped.

    ``handle`` deals with its own row's failures; anything it raises is a bug or a journal that
    cannot be written, which stops every worker and is raised here.
    """
    queue: asyncio.Queue[T] = asyncio.Queue(maxsize=concurrency)
    finished = object()

    async def feed() -> None:
        try:
            async for item in items:
                if stop.requested:
                    break
                await queue.put(item)
        finally:
            for _ in range(concurrency):
                await queue.put(finished)  # type: ignore[arg-type]

    async def work() -> None:
        while True:
            item = await queue.get()
            if item is finished:
                return
            if stop.requested:
                continue
            await handle(item)

    tasks = [asyncio.create_task(feed())]
    tasks += [asyncio.create_task(work()) for _ in range(concurrency)]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    failure = next((t.exception() for t in done if t.exception() is not None), None)
    if failure is not None:
        stop.request("internal error")
        stop.abort_requests()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        raise failure
