"""Many coroutines' journal writes committed in shared transactions, on one writer thread."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from migrate.errors import JournalError
from migrate.journal.transaction import Transaction
from migrate.journal.writes import AttemptValues, Write, insert_attempts

if TYPE_CHECKING:
    from migrate.journal.store import Journal


class GroupCommit:
    """Commits the writes of many coroutines in shared transactions, on a writer thread.

    ``await commit.write(w)`` returns once ``w`` is durably committed, so an ``in_flight`` mark
    is on disk before its PUT is sent; writes that arrive while a commit is running share the
    next one, so one fsync serves every worker waiting for it and the event loop never blocks
    on the disk. Writes commit in the order they were submitted. Once a commit fails (a full
    disk), every later write raises the same error: the run must stop.
    """

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._db = journal.connect_writer()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="journal")
        self._waiting: list[tuple[Write, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None

    @property
    def error(self) -> Exception | None:
        """The error that made the journal unwritable, if one did."""
        return self._error

    async def write(self, write: Write) -> None:
        """Commit ``write`` (in one transaction with whatever else is waiting); wait for it."""
        await asyncio.shield(self.submit(write))

    def submit(self, write: Write) -> asyncio.Future[None]:
        """Queue ``write`` for the next commit without waiting for it.

        For outcomes that need not be durable before the worker moves on: if the process dies
        first, the row is still ``in_flight`` and the next run reconciles it by reading.
        A failure is raised by the next :meth:`write` or by :meth:`drain`.
        """
        if self._error is not None:
            raise self._error
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiting.append((write, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._commit_waiting())
        return future

    async def drain(self) -> None:
        """Wait until every submitted write is committed (and the buffered attempts)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
        if self._error is not None:
            raise self._error
        attempts = self._journal.take_attempts()
        if attempts:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._commit, attempts, [])

    async def _commit_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            batch, self._waiting = self._waiting, []
            attempts = self._journal.take_attempts()
            try:
                await loop.run_in_executor(
                    self._executor, self._commit, attempts, [write for write, _ in batch]
                )
            except Exception as exc:  # the journal cannot be written: every waiter hears it
                self._error = exc if isinstance(exc, JournalError) else _journal_error(exc)
                for _, future in batch + self._waiting:
                    if not future.done():
                        future.set_exception(self._error)
                        future.exception()  # retrieved: submit() callers may not await it
                self._waiting = []
                return
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    def _commit(self, attempts: Sequence[AttemptValues], writes: Sequence[Write]) -> None:
        with Transaction(self._db):
            insert_attempts(self._db, attempts)
            for write in writes:
                write(self._db)

    async def finish(self) -> None:
        """:meth:`drain`, then :meth:`close` whatever happened; a failure is raised after."""
        try:
            await self.drain()
        finally:
            self.close()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._db.close()


def _journal_error(exc: Exception) -> JournalError:
    error = JournalError(f"cannot write the journal: {exc}")
    error.__cause__ = exc
    return error
