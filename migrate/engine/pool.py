"""A fixed pool of workers over a queue, and the stop signals they obey.

One :class:`Stop` per invocation. The first SIGINT/SIGTERM (or a safety rail) sets ``stop``: no
request of any kind starts after it (the client checks the same event before each request and
gives up a turn it is waiting for), reads in flight are cancelled, writes in flight finish or
time out. A second signal sets ``abort``: requests still running under :meth:`Stop.guard` are
cancelled; their rows stay ``in_flight`` with their pre-image committed, and the next run
reconciles them.

The pool never waits on a queue nobody reads: a worker that fails cancels the feeder and the
other workers, and the failure is raised to the caller at once.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from migrate.errors import Stopped

T = TypeVar("T")


class Aborted(Exception):
    """A request was cancelled by a second interrupt, or never started because of the first."""


class Stop:
    """Why and whether the workers should stop taking rows."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.abort = asyncio.Event()
        self.signal: int | None = None
        self.reason: str | None = None
        #: Called once, at the first signal (the engine says what it waits for).
        self.on_first_signal: Callable[[], None] | None = None
        #: Called once, when the run starts stopping for any reason (the client stops).
        self.on_stop: Callable[[], None] | None = None
        self._guarded: set[asyncio.Future[Any]] = set()
        self._children: list[Stop] = []
        self._parent: Stop | None = None

    def child(self) -> Stop:
        """A stop for one part of the run (one account): it stops when this one does, and can
        stop alone (its credentials refused) without stopping the others."""
        child = Stop()
        child._parent = self
        self._children.append(child)
        if self.abort.is_set():
            child.abort_requests()
        elif self.requested:
            child._set()
        return child

    @property
    def requested(self) -> bool:
        return self.stop.is_set()

    @property
    def interrupted(self) -> bool:
        if self._parent is not None:
            return self._parent.interrupted
        return self.signal is not None

    def request(self, reason: str) -> None:
        """Stop taking rows (a safety rail); the first reason wins."""
        if self.reason is None:
            self.reason = reason
        self._set()

    def _set(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        if self.on_stop is not None:
            self.on_stop()
        for child in self._children:
            child._set()

    def on_signal(self, signum: int) -> None:
        if self.signal is not None:
            self.abort_requests()
            return
        self.signal = signum
        self._set()
        if self.on_first_signal is not None:
            self.on_first_signal()

    def abort_requests(self) -> None:
        """Cancel every request still running under :meth:`guard`."""
        self.abort.set()
        self._set()
        for task in list(self._guarded):
            task.cancel()
        for child in self._children:
            child.abort_requests()

    async def guard(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` unless a second interrupt cancels it (then raise :class:`Aborted`)."""
        if self.abort.is_set():
            coroutine.close()
            raise Aborted
        task = asyncio.ensure_future(coroutine)
        self._guarded.add(task)
        try:
            return await task
        except Stopped:
            raise Aborted from None
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

    ``handle`` deals with its own row's failures; anything it raises concerns the run as a
    whole (a journal that cannot be written): every worker stops and it is raised here.
    """
    queue: asyncio.Queue[T] = asyncio.Queue(maxsize=concurrency)

    async def feed() -> None:
        async for item in items:
            if stop.requested:
                return
            await queue.put(item)

    async def work() -> None:
        while True:
            item = await queue.get()
            try:
                if not stop.requested:
                    await handle(item)
            finally:
                queue.task_done()

    async def feed_then_drain() -> None:
        await feed()
        await queue.join()

    workers = [asyncio.create_task(work()) for _ in range(concurrency)]
    feeder = asyncio.create_task(feed_then_drain())
    try:
        # Workers only ever end by raising; the feeder ends when every item was handled.
        done, _ = await asyncio.wait([feeder, *workers], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not feeder or task.exception() is not None:
                stop.request("internal error")
                raise task.exception() or RuntimeError("a worker ended without an error")
    finally:
        for task in (feeder, *workers):
            task.cancel()
        for task in (feeder, *workers):
            with suppress(asyncio.CancelledError, Exception):
                await task
