"""The journal of a run: one SQLite file (WAL mode) that is the single source of truth.

Every row (one target scenario) has exactly one current state; every HTTP attempt is recorded;
the run's metadata (never credentials) sits next to them. Resuming a run is filtering its rows by
state. A row is marked ``in_flight`` with its pre-image in one committed transaction before its
PUT is sent (``synchronous=FULL``, so a commit survives a power cut as well as a kill).

Writing: build writes with :mod:`migrate.journal.writes` and commit them with
:meth:`Journal.commit` (now) or a :class:`~migrate.journal.groupcommit.GroupCommit` (batched,
from many coroutines). Reading: the methods below return the records of
:mod:`migrate.vocabulary`. Readers (reports, ``status``) may open the journal while a run writes
it (WAL), or read-only, e.g. an archived run on a read-only filesystem.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from migrate.errors import JournalError, RowDataError
from migrate.journal.runlock import Holder, RunLock
from migrate.journal.schema import (
    ATTEMPT_COLUMNS,
    BODY_COLUMNS,
    HEAD_COLUMNS,
    ROW_COLUMNS,
    ROW_COLUMNS_WITH_BODIES,
    SCHEMA,
    SCHEMA_VERSION,
    TABLES,
    TRANSITION_COLUMNS,
    decode_attempt,
    decode_head,
    decode_row,
    decode_transition,
    loads,
)
from migrate.journal.transaction import Transaction
from migrate.journal.writes import AttemptValues, Write, insert_attempts, metadata_write
from migrate.vocabulary import (
    AttemptKind,
    AttemptRecord,
    Meta,
    Operation,
    RowHead,
    RowRecord,
    RowState,
    Transition,
)

JOURNAL_FILE: Final = "journal.sqlite"
#: Attempts buffered in memory before they are written on their own.
_ATTEMPT_BUFFER: Final = 2000
#: Rows read per query while paging through the table.
_PAGE: Final = 500


class Journal:
    """A run's journal. Not thread-safe: use it from one thread (the event loop's)."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *, read_only: bool) -> None:
        self.path = path
        self.read_only = read_only
        self._db = connection
        self._pending_attempts: list[AttemptValues] = []
        self._lock: RunLock | None = None
        self._closed = False

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], metadata: Mapping[str, str]) -> Journal:
        """Create a new journal file (it must not exist) with the run's metadata."""
        path = Path(path)
        if path.exists():
            raise JournalError(f"{path} already exists: a run folder holds one run")
        journal = cls(path, _connect(path), read_only=False)
        with journal._db:
            journal._db.executescript(SCHEMA)
        journal.commit(metadata_write({Meta.SCHEMA_VERSION: SCHEMA_VERSION, **metadata}))
        return journal

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, read_only: bool = False) -> Journal:
        """Open an existing journal, checked; :class:`JournalError` if missing or not ours.

        ``read_only`` opens it without writing anything, even on a read-only filesystem.
        """
        path = Path(path)
        if not path.is_file():
            raise JournalError(f"no journal at {path}: is this a run folder made by plan?")
        db = _connect_read_only(path) if read_only else _connect(path)
        journal = cls(path, db, read_only=read_only)
        try:
            journal._check()
        except BaseException:
            journal.close()
            raise
        return journal

    def _check(self) -> None:
        try:
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
            if "run" not in tables:
                raise JournalError(f"{self.path} is not an ivr-migrate journal (no run table)")
            version = self.metadata().get(Meta.SCHEMA_VERSION)
            if version != SCHEMA_VERSION:
                raise JournalError(
                    f"{self.path} has journal schema {version!r}; this ivr-migrate reads "
                    f"{SCHEMA_VERSION!r}: use the ivr-migrate version that made it"
                )
            missing = [table for table in TABLES if table not in tables]
            if missing:
                raise JournalError(
                    f"{self.path} is damaged: table {', '.join(missing)} is missing; restore "
                    "the run folder from a backup or plan the sheet again"
                )
            known = [str(state) for state in RowState]
            odd = self._db.execute(
                f"SELECT id, state FROM rows WHERE state NOT IN ({','.join('?' * len(known))}) "
                "ORDER BY id LIMIT 1",
                known,
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from exc
        if odd is not None:
            raise JournalError(
                f"{self.path} is damaged: row {odd[0]} has the unknown state {odd[1]!r}; "
                "restore the run folder from a backup or plan the sheet again"
            )

    def connect_writer(self) -> sqlite3.Connection:
        """A second connection for a writer thread (:class:`GroupCommit`)."""
        if self.read_only:
            raise JournalError(f"{self.path} was opened read-only")
        return _connect(self.path, threads=True)

    def lock(self, command: str) -> RunLock:
        """Hold the run folder's lock until :meth:`close`: one writing process per run."""
        self._lock = RunLock.acquire(self.path.parent, command)
        return self._lock

    @property
    def lock_taken_over(self) -> Holder | None:
        """The holder named in a lock left behind by a process that did not release it."""
        return None if self._lock is None else self._lock.previous

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if not self.read_only:
                with contextlib.suppress(JournalError):  # the error was reported where it arose
                    self.flush()
        finally:
            self._db.close()
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------

    def commit(self, *writes: Write) -> None:
        """Commit ``writes`` (and the buffered attempts) in one transaction, now."""
        with Transaction(self._db):
            insert_attempts(self._db, self.take_attempts())
            for write in writes:
                write(self._db)

    def set_metadata(self, values: Mapping[str, str]) -> None:
        self.commit(metadata_write(values))

    def record_attempt(
        self,
        *,
        row_id: int | None,
        scenario_id: str | None,
        operation: Operation,
        kind: AttemptKind,
        method: str,
        path: str,
        started_at: float,
        duration: float,
        status: int | None,
        error_class: str | None,
        account: str = "",
    ) -> None:
        """Buffer one attempt; it is written with the next transaction or :meth:`flush`."""
        self._pending_attempts.append(
            (
                row_id,
                scenario_id,
                str(operation),
                str(kind),
                method,
                path,
                started_at,
                duration,
                status,
                error_class,
                account,
            )
        )
        if len(self._pending_attempts) >= _ATTEMPT_BUFFER:
            self.flush()

    def take_attempts(self) -> list[AttemptValues]:
        """Hand over the buffered attempts (to be inserted by whoever commits next)."""
        pending, self._pending_attempts = self._pending_attempts, []
        return pending

    def flush(self) -> None:
        """Write buffered attempts."""
        if self._pending_attempts:
            self.commit()

    # -- reading --------------------------------------------------------------------------------

    def metadata(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM run ORDER BY key").fetchall())

    def counts(self, account: str | None = None) -> dict[str, int]:
        """Rows per state (keyed by :class:`RowState`); every state is present, zero or more.

        ``account``: that account's rows only."""
        where, args = ("", ()) if account is None else (" WHERE account = ?", (account,))
        found = dict(
            self._db.execute(f"SELECT state, COUNT(*) FROM rows{where} GROUP BY state", args)
        )
        return {state: int(found.get(str(state), 0)) for state in RowState}

    def total(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0])

    def accounts(self) -> list[str]:
        """The accounts the run's rows belong to, in plan order ([""] for a one-account run)."""
        found = self._db.execute("SELECT account, MIN(id) FROM rows GROUP BY account ORDER BY 2")
        return [str(raw[0]) for raw in found]

    def rows(
        self,
        states: Iterable[RowState] | None = None,
        *,
        bodies: bool = True,
        after_id: int = 0,
        limit: int | None = None,
        retryable: bool | None = None,
        account: str | None = None,
    ) -> Iterator[RowRecord]:
        """Rows in plan order, optionally only those in ``states`` (of ``account``)."""
        wanted = None if states is None else [str(s) for s in states]
        columns = ROW_COLUMNS_WITH_BODIES if bodies else ROW_COLUMNS
        listed = ", ".join(columns)
        last, remaining = after_id, limit
        while remaining is None or remaining > 0:
            size = _PAGE if remaining is None else min(_PAGE, remaining)
            sql = f"SELECT {listed} FROM rows WHERE id > ?"
            args: list[Any] = [last]
            if wanted is not None:
                sql += f" AND state IN ({','.join('?' * len(wanted))})"
                args.extend(wanted)
            if retryable is not None:
                sql += " AND retryable = ?"
                args.append(int(retryable))
            if account is not None:
                sql += " AND account = ?"
                args.append(account)
            batch = self._db.execute(sql + " ORDER BY id LIMIT ?", [*args, size]).fetchall()
            for raw in batch:
                yield decode_row(columns, raw)
            if len(batch) < size:
                return
            last = batch[-1][0]
            if remaining is not None:
                remaining -= len(batch)

    def row(self, row_id: int, *, bodies: bool = True) -> RowRecord:
        columns = ROW_COLUMNS_WITH_BODIES if bodies else ROW_COLUMNS
        raw = self._db.execute(
            f"SELECT {', '.join(columns)} FROM rows WHERE id = ?", (row_id,)
        ).fetchone()
        if raw is None:
            raise JournalError(f"no row {row_id} in {self.path}")
        return decode_row(columns, raw)

    def body(self, row_id: int, which: str) -> dict[str, Any] | None:
        """One stored body of a row: ``read_body``, ``planned_body`` or ``pre_image``."""
        if which not in BODY_COLUMNS:
            raise ValueError(f"no body called {which!r}")
        raw = self._db.execute(f"SELECT {which} FROM rows WHERE id = ?", (row_id,)).fetchone()
        if raw is None:
            raise JournalError(f"no row {row_id} in {self.path}")
        try:
            found = loads(raw[0])
        except (ValueError, RecursionError) as exc:
            raise RowDataError(f"row {row_id} has a damaged {which} (not JSON: {exc})") from None
        if found is not None and not isinstance(found, dict):
            raise RowDataError(f"row {row_id} has a damaged {which} (not a JSON object)")
        return found

    def head(self, row_id: int) -> RowHead:
        """The columns the write path needs, without decoding any JSON."""
        raw = self._db.execute(
            f"SELECT {', '.join(HEAD_COLUMNS)} FROM rows WHERE id = ?", (row_id,)
        ).fetchone()
        if raw is None:
            raise JournalError(f"no row {row_id} in {self.path}")
        return decode_head(raw)

    def _selection(
        self,
        state: RowState,
        retryable: bool | None,
        operation: Operation | None,
        account: str | None,
    ) -> tuple[str, list[Any]]:
        sql = "state = ?"
        args: list[Any] = [str(state)]
        if account is not None:
            sql += " AND account = ?"
            args.append(account)
        if retryable is not None:
            sql += " AND retryable = ?"
            args.append(int(retryable))
        if operation is not None and state is RowState.IN_FLIGHT:
            sql += " AND COALESCE(operation, ?) = ?"
            args.extend([str(Operation.APPLY), str(operation)])
        return sql, args

    def count_rows(
        self,
        states: Iterable[RowState],
        *,
        retryable: bool | None = None,
        operation: Operation | None = None,
        account: str | None = None,
    ) -> int:
        """Rows in ``states`` (with that ``retryable``; ``in_flight`` ones of ``operation``)."""
        total = 0
        for state in states:
            where, args = self._selection(state, retryable, operation, account)
            found = self._db.execute(f"SELECT COUNT(*) FROM rows WHERE {where}", args)
            total += int(found.fetchone()[0])
        return total

    def row_ids(
        self,
        state: RowState,
        *,
        retryable: bool | None = None,
        operation: Operation | None = None,
        after_id: int = 0,
        limit: int = _PAGE,
        account: str | None = None,
    ) -> list[int]:
        """Ids of rows in ``state`` after ``after_id``, in plan order, without decoding them."""
        where, args = self._selection(state, retryable, operation, account)
        found = self._db.execute(
            f"SELECT id FROM rows WHERE {where} AND id > ? ORDER BY id LIMIT ?",
            [*args, after_id, limit],
        )
        return [int(raw[0]) for raw in found]

    def attempts(self, row_id: int | None = None) -> Iterator[AttemptRecord]:
        if not self.read_only:
            self.flush()
        sql = f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM attempts"
        args: tuple[Any, ...] = ()
        if row_id is not None:
            sql += " WHERE row_id = ?"
            args = (row_id,)
        for raw in self._db.execute(sql + " ORDER BY started_at, id", args):
            yield decode_attempt(raw)

    def transitions(self, row_id: int | None = None) -> Iterator[Transition]:
        sql = f"SELECT {', '.join(TRANSITION_COLUMNS)} FROM transitions"
        args: tuple[Any, ...] = ()
        if row_id is not None:
            sql += " WHERE row_id = ?"
            args = (row_id,)
        for raw in self._db.execute(sql + " ORDER BY id", args):
            yield decode_transition(raw)

    def attempt_counts(self) -> dict[str, int]:
        """Attempts by ``kind``, plus ``rate_limited`` (429 answers) and ``errors``."""
        if not self.read_only:
            self.flush()
        out = {str(kind): 0 for kind in AttemptKind}
        out.update(dict(self._db.execute("SELECT kind, COUNT(*) FROM attempts GROUP BY kind")))
        out["rate_limited"] = int(
            self._db.execute("SELECT COUNT(*) FROM attempts WHERE status = 429").fetchone()[0]
        )
        out["errors"] = int(
            self._db.execute(
                "SELECT COUNT(*) FROM attempts WHERE error_class IS NOT NULL"
            ).fetchone()[0]
        )
        return out


def _connect(path: Path, *, threads: bool = False) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(
            path, isolation_level=None, timeout=10.0, check_same_thread=not threads
        )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open the journal {path}: {exc}") from exc
    return db


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Read without writing: ``mode=ro``; on a read-only filesystem, where SQLite cannot make the
    WAL's shared-memory file, ``immutable=1`` (nothing else may be writing there anyway)."""
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.Error:
        pass
    try:
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open the journal {path}: {exc}") from exc
