"""The journal of a run: one SQLite file (WAL mode) that is the single source of truth.

Every row (one target scenario) has exactly one current state; every HTTP attempt is recorded;
the run's metadata (never credentials) sits next to them. Resuming a run is filtering its rows by
state. A row is marked ``in_flight`` with its pre-image in one committed transaction before its
PUT is sent (``synchronous=FULL``, so a commit survives a power cut as well as a kill).

Public API (what ``migrate/engine`` and ``migrate/reports`` use)::

    journal = Journal.create(path, metadata)    # new run; or Journal.open(path) for an existing one
    journal.metadata() -> dict[str, str]         # run id, tool version, operator, base URL, ...
    journal.counts() -> dict[str, int]           # state -> number of rows (every state present)
    journal.rows(states=None, bodies=True)       # Iterator[RowRecord] in plan order
    journal.row(row_id) -> RowRecord
    journal.row(row_id, bodies=False)            # without read/planned body and pre-image
    journal.body(row_id, "pre_image")            # one stored body, decoded
    journal.attempts(row_id=None)                # Iterator[AttemptRecord] in time order
    journal.attempt_counts()                     # attempts by kind, + rate_limited (429s), errors
    journal.transitions(row_id=None)             # Iterator[Transition]: every state change
    journal.close()                              # also a context manager

Writing: ``add_rows``, ``mark_in_flight``, ``set_state``, ``note_error``, ``replan_row`` commit
at once. The engine's workers use the same writes (``*_write`` factories) through
:class:`GroupCommit`, which batches them into shared transactions on a writer thread: a worker
awaits its ``in_flight`` commit before sending the PUT, and one fsync serves every worker
waiting at that moment. Readers (reports, ``status``) may open the journal while a run writes
it (WAL); they take no lock. ``lock()`` (the run folder's ``run.lock``) keeps a second writing
process out.

Schema (times are Unix epoch seconds as REAL, bodies are compact JSON text)::

    run(key TEXT PRIMARY KEY, value TEXT)        -- metadata, see META_* names below
    rows(
      id INTEGER PRIMARY KEY,                    -- plan order
      scenario_id TEXT UNIQUE, name TEXT,
      sheet_rows TEXT,         -- JSON list of SheetRowRef dicts: file, row, target, rule,
                               --   params (converted values), cells (raw text by column)
      rules TEXT,              -- rule names in order, comma separated (for display)
      state TEXT, retryable INTEGER (NULL unless state = failed),
      operation TEXT,          -- 'apply' or 'rollback': the last operation that touched the row
      read_body TEXT, read_fingerprint TEXT, read_update_time TEXT,   -- what plan read
      planned_body TEXT, planned_fingerprint TEXT,                    -- what apply writes
      pre_image TEXT, pre_fingerprint TEXT,     -- the scenario read right before our first PUT
      final_fingerprint TEXT,                   -- the scenario as last seen after our write
      changes TEXT, change_count INTEGER,       -- JSON list of Change dicts (see below)
      validation_errors TEXT,                   -- JSON list of {"path", "message"}
      http_status INTEGER, error_class TEXT, error_text TEXT,        -- last outcome
      attempts INTEGER,                         -- HTTP attempts made for this row
      planned_at REAL, in_flight_at REAL, finished_at REAL)
    attempts(id INTEGER PRIMARY KEY, row_id INTEGER, scenario_id TEXT, operation TEXT,
             kind TEXT,           -- SEARCH, GET, PUT, VERIFY, RECONCILE
             method TEXT, path TEXT, started_at REAL, duration REAL,
             status INTEGER, error_class TEXT)
    transitions(id INTEGER PRIMARY KEY, row_id INTEGER, time REAL, operation TEXT,
                from_state TEXT, to_state TEXT)

A change dict is ``{"action_path", "field", "path", "before", "after", "rule"}`` where ``path``
is the full field path (``script[4].sendSms.from``). A row's ``sheet_rows`` hold everything
needed to write it back as a valid sheet row (``target`` is the ``scenario_id`` cell as written:
an id, ``*`` or ``name:GLOB``).

Fingerprints: :func:`fingerprint` hashes the canonical JSON (sorted keys, no spaces) of the
scenario's writable fields only (:data:`SCENARIO_FIELDS`), so read-only fields, key order and
``null`` versus absent never make two equal scenarios look different.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Final

from migrate.errors import JournalError
from transforms.validate import REQUEST_FIELDS

SCHEMA_VERSION: Final = "1"
JOURNAL_FILE: Final = "journal.sqlite"
LOCK_FILE: Final = "run.lock"

#: The fields of a scenario that a PUT writes (classic + 2026 spec); everything else is read-only.
SCENARIO_FIELDS: Final = REQUEST_FIELDS

# Metadata keys written by the engine.
META_RUN_ID: Final = "run_id"
META_TOOL_VERSION: Final = "tool_version"
META_SCHEMA_VERSION: Final = "schema_version"
META_OPERATOR: Final = "operator"
META_BASE_URL: Final = "base_url"
META_SANDBOX: Final = "sandbox"
META_SHEET_NAME: Final = "sheet_name"
META_SHEET_COPY: Final = "sheet_copy"
META_SHEET_SHA256: Final = "sheet_sha256"
META_CREATED_AT: Final = "created_at"
META_PLAN_FINISHED_AT: Final = "plan_finished_at"
META_APPLY_STARTED_AT: Final = "apply_started_at"
META_APPLY_FINISHED_AT: Final = "apply_finished_at"
META_ROLLBACK_STARTED_AT: Final = "rollback_started_at"
META_ROLLBACK_FINISHED_AT: Final = "rollback_finished_at"
META_WRITE_RATE: Final = "write_rate"
META_READ_RATE: Final = "read_rate"
META_CONCURRENCY: Final = "concurrency"


class RowState(StrEnum):
    """The current state of one row (DESIGN §6)."""

    PLANNED = "planned"
    UNCHANGED = "unchanged"
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    IN_FLIGHT = "in_flight"
    UPDATED = "updated"
    CONFLICT = "conflict"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    ROLLBACK_CONFLICT = "rollback_conflict"


#: States in which a row needs nothing more from ``apply``.
SETTLED_OK: Final = frozenset({RowState.UPDATED, RowState.UNCHANGED, RowState.ROLLED_BACK})


class Operation(StrEnum):
    PLAN = "plan"
    APPLY = "apply"
    ROLLBACK = "rollback"


class AttemptKind(StrEnum):
    SEARCH = "SEARCH"
    GET = "GET"
    PUT = "PUT"
    VERIFY = "VERIFY"
    RECONCILE = "RECONCILE"


def compact_json(value: Any) -> str:
    """JSON text that keeps key order: what we store and what the server gets."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """JSON text independent of key order, for comparisons."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def scenario_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The writable fields of a scenario, in its own key order; ``null`` counts as absent."""
    return {key: body[key] for key in body if key in SCENARIO_FIELDS and body[key] is not None}


def fingerprint(body: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of the writable fields."""
    return hashlib.sha256(canonical_json(scenario_fields(body)).encode("utf-8")).hexdigest()


@dataclass
class PlannedRow:
    """What ``plan`` decided for one target scenario, ready to be journaled."""

    scenario_id: str
    name: str | None
    sheet_rows: list[dict[str, Any]]
    state: RowState
    read_body: dict[str, Any] | None = None
    planned_body: dict[str, Any] | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    validation_errors: list[dict[str, str]] = field(default_factory=list)
    retryable: bool | None = None
    http_status: int | None = None
    error_class: str | None = None
    error_text: str | None = None
    #: Fingerprints of the bodies above, when the caller already computed them.
    read_fingerprint: str | None = None
    planned_fingerprint: str | None = None

    def fingerprints(self) -> tuple[str | None, str | None]:
        """Fingerprints of the read and planned bodies (computed once)."""
        if self.read_fingerprint is None and self.read_body is not None:
            self.read_fingerprint = fingerprint(self.read_body)
        if self.planned_fingerprint is None and self.planned_body is not None:
            self.planned_fingerprint = fingerprint(self.planned_body)
        return self.read_fingerprint, self.planned_fingerprint


@dataclass
class RowRecord:
    """One row of the journal, decoded. Body fields are ``None`` when read with ``bodies=False``."""

    id: int
    scenario_id: str
    name: str | None
    sheet_rows: list[dict[str, Any]]
    rules: list[str]
    state: RowState
    retryable: bool | None
    operation: str | None
    read_fingerprint: str | None
    read_update_time: str | None
    planned_fingerprint: str | None
    pre_fingerprint: str | None
    final_fingerprint: str | None
    changes: list[dict[str, Any]]
    change_count: int
    validation_errors: list[dict[str, str]]
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


@dataclass(frozen=True)
class RowHead:
    """The few columns of a row that apply and rollback decide on."""

    id: int
    scenario_id: str
    state: RowState
    operation: str | None
    read_update_time: str | None
    read_fingerprint: str | None
    planned_fingerprint: str | None
    pre_fingerprint: str | None


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Transition:
    """One state change of a row."""

    row_id: int
    time: float
    operation: str
    from_state: str | None
    to_state: str


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    id INTEGER PRIMARY KEY,
    scenario_id TEXT NOT NULL UNIQUE,
    name TEXT,
    sheet_rows TEXT NOT NULL,
    rules TEXT NOT NULL,
    state TEXT NOT NULL,
    retryable INTEGER,
    operation TEXT,
    read_body TEXT,
    read_fingerprint TEXT,
    read_update_time TEXT,
    planned_body TEXT,
    planned_fingerprint TEXT,
    pre_image TEXT,
    pre_fingerprint TEXT,
    final_fingerprint TEXT,
    changes TEXT NOT NULL DEFAULT '[]',
    change_count INTEGER NOT NULL DEFAULT 0,
    validation_errors TEXT NOT NULL DEFAULT '[]',
    http_status INTEGER,
    error_class TEXT,
    error_text TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    planned_at REAL,
    in_flight_at REAL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS rows_state ON rows (state, id);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    row_id INTEGER,
    scenario_id TEXT,
    operation TEXT NOT NULL,
    kind TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    started_at REAL NOT NULL,
    duration REAL NOT NULL,
    status INTEGER,
    error_class TEXT
);
CREATE INDEX IF NOT EXISTS attempts_row ON attempts (row_id);
CREATE INDEX IF NOT EXISTS attempts_scenario ON attempts (scenario_id);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY,
    row_id INTEGER NOT NULL,
    time REAL NOT NULL,
    operation TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transitions_row ON transitions (row_id);
"""

_ROW_COLUMNS_LIGHT: Final = (
    "id, scenario_id, name, sheet_rows, rules, state, retryable, operation, read_fingerprint, "
    "read_update_time, planned_fingerprint, pre_fingerprint, final_fingerprint, changes, "
    "change_count, validation_errors, http_status, error_class, error_text, attempts, "
    "planned_at, in_flight_at, finished_at"
)
_ROW_COLUMNS_FULL: Final = _ROW_COLUMNS_LIGHT + ", read_body, planned_body, pre_image"


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dumps(value: Any) -> str | None:
    return None if value is None else compact_json(value)


class Journal:
    """A run's journal. Not thread-safe: use it from one thread (the event loop's)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._pending_attempts: list[tuple[Any, ...]] = []
        self._lock_file: IO[str] | None = None
        self._closed = False

    # -- opening --------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], metadata: Mapping[str, str]) -> Journal:
        """Create a new journal file (it must not exist) with the run's metadata."""
        path = Path(path)
        if path.exists():
            raise JournalError(f"{path} already exists: a run folder holds one run")
        journal = cls(path, cls._connect(path))
        with journal._db:
            journal._db.executescript(_SCHEMA)
        values = {META_SCHEMA_VERSION: SCHEMA_VERSION, **metadata}
        journal.set_metadata(values)
        return journal

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Journal:
        """Open an existing journal; :class:`JournalError` if it is missing or not ours."""
        path = Path(path)
        if not path.is_file():
            raise JournalError(f"no journal at {path}: is this a run folder made by plan?")
        journal = cls(path, cls._connect(path))
        try:
            version = journal.metadata().get(META_SCHEMA_VERSION)
        except sqlite3.DatabaseError as exc:
            journal.close()
            raise JournalError(f"{path} is not a readable journal ({exc})") from exc
        if version != SCHEMA_VERSION:
            journal.close()
            raise JournalError(
                f"{path} has journal schema {version!r}; this ivr-migrate reads {SCHEMA_VERSION!r}"
            )
        return journal

    @staticmethod
    def _connect(path: Path, *, threads: bool = False) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(
                path, isolation_level=None, timeout=10.0, check_same_thread=not threads
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the journal {path}: {exc}") from exc
        return db

    def lock(self) -> None:
        """Hold the run folder's lock until :meth:`close`: one writing process per run."""
        lock_path = self.path.parent / LOCK_FILE
        handle = open(lock_path, "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise JournalError(
                f"the run in {self.path.parent} is in use by another ivr-migrate process"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.flush()
        finally:
            self._db.close()
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- metadata -------------------------------------------------------------------------------

    def metadata(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM run ORDER BY key").fetchall())

    def set_metadata(self, values: Mapping[str, str]) -> None:
        with self._transaction():
            self._db.executemany(
                "INSERT INTO run (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [(k, str(v)) for k, v in values.items()],
            )

    # -- writing --------------------------------------------------------------------------------
    # Every write is a function of a connection (the ``*_write`` factories below), run inside a
    # transaction together with the attempts buffered so far: right away by these methods, or
    # batched with other workers' writes by :class:`GroupCommit`.

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def run(self, *writes: Write) -> None:
        """Commit ``writes`` (and the buffered attempts) in one transaction, now."""
        with self._transaction():
            insert_attempts(self._db, self.take_attempts())
            for write in writes:
                write(self._db)

    def add_rows(self, rows: Iterable[PlannedRow]) -> None:
        """Insert plan results in one transaction (callers batch them)."""
        self.run(rows_write(list(rows)))

    def replan_row(self, row_id: int, row: PlannedRow) -> None:
        """Replace a row's plan (``retry --all``): new read, body, changes and state."""
        self.run(replan_write(row_id, row))

    def mark_in_flight(
        self, row_id: int, pre_image: Mapping[str, Any] | None, operation: Operation
    ) -> None:
        """Commit ``in_flight`` (and the pre-image, when given) before the PUT is sent."""
        self.run(in_flight_write(row_id, pre_image, operation))

    def set_state(self, row_id: int, state: RowState, operation: Operation, **outcome: Any) -> None:
        """Record a row's new state and its last outcome (see :func:`state_write`)."""
        self.run(state_write(row_id, state, operation, **outcome))

    def note_error(
        self, row_id: int, *, http_status: int | None, error_class: str | None, error_text: str
    ) -> None:
        """Record the last error of a row whose state does not change (an ``in_flight`` row)."""
        self.run(note_write(row_id, http_status, error_class, error_text))

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
            )
        )
        if len(self._pending_attempts) >= 2000:
            self.flush()

    def take_attempts(self) -> list[tuple[Any, ...]]:
        """Hand over the buffered attempts (to be inserted by whoever commits next)."""
        pending, self._pending_attempts = self._pending_attempts, []
        return pending

    def flush(self) -> None:
        """Write buffered attempts."""
        if self._pending_attempts:
            self.run()

    # -- reading --------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Rows per state; every state is present, zero when no row has it."""
        found = dict(self._db.execute("SELECT state, COUNT(*) FROM rows GROUP BY state"))
        return {str(state): int(found.get(str(state), 0)) for state in RowState}

    def total(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM rows").fetchone()[0])

    def rows(
        self,
        states: Iterable[RowState | str] | None = None,
        *,
        bodies: bool = True,
        after_id: int = 0,
        limit: int | None = None,
        retryable: bool | None = None,
    ) -> Iterator[RowRecord]:
        """Rows in plan order, optionally only those in ``states``; pages through the table."""
        wanted = None if states is None else [str(s) for s in states]
        columns = _ROW_COLUMNS_FULL if bodies else _ROW_COLUMNS_LIGHT
        last = after_id
        remaining = limit
        page = 500
        while remaining is None or remaining > 0:
            size = page if remaining is None else min(page, remaining)
            sql = f"SELECT {columns} FROM rows WHERE id > ?"
            args: list[Any] = [last]
            if wanted is not None:
                sql += f" AND state IN ({','.join('?' * len(wanted))})"
                args.extend(wanted)
            if retryable is not None:
                sql += " AND retryable = ?"
                args.append(int(retryable))
            sql += " ORDER BY id LIMIT ?"
            args.append(size)
            batch = self._db.execute(sql, args).fetchall()
            if not batch:
                return
            for raw in batch:
                yield _decode_row(raw, bodies)
            last = batch[-1][0]
            if remaining is not None:
                remaining -= len(batch)
            if len(batch) < size:
                return

    def row(self, row_id: int, *, bodies: bool = True) -> RowRecord:
        columns = _ROW_COLUMNS_FULL if bodies else _ROW_COLUMNS_LIGHT
        raw = self._db.execute(f"SELECT {columns} FROM rows WHERE id = ?", (row_id,)).fetchone()
        if raw is None:
            raise JournalError(f"no row {row_id} in {self.path}")
        return _decode_row(raw, bodies)

    def body(self, row_id: int, which: str) -> dict[str, Any] | None:
        """One stored body of a row: ``read_body``, ``planned_body`` or ``pre_image``."""
        if which not in ("read_body", "planned_body", "pre_image"):
            raise ValueError(f"no body called {which!r}")
        raw = self._db.execute(f"SELECT {which} FROM rows WHERE id = ?", (row_id,)).fetchone()
        if raw is None:
            raise JournalError(f"no row {row_id} in {self.path}")
        found: dict[str, Any] | None = _loads(raw[0])
        return found

    def _selection(
        self, state: RowState | str, retryable: bool | None, operation: str | None
    ) -> tuple[str, list[Any]]:
        sql = "state = ?"
        args: list[Any] = [str(state)]
        if retryable is not None:
            sql += " AND retryable = ?"
            args.append(int(retryable))
        if operation is not None and str(state) == RowState.IN_FLIGHT:
            sql += " AND COALESCE(operation, 'apply') = ?"
            args.append(str(operation))
        return sql, args

    def count_rows(
        self,
        states: Iterable[RowState | str],
        *,
        retryable: bool | None = None,
        operation: str | None = None,
    ) -> int:
        """Rows in ``states`` (with that ``retryable``; ``in_flight`` ones of ``operation``)."""
        total = 0
        for state in states:
            where, args = self._selection(state, retryable, operation)
            total += int(
                self._db.execute(f"SELECT COUNT(*) FROM rows WHERE {where}", args).fetchone()[0]
            )
        return total

    def row_ids(
        self,
        state: RowState | str,
        *,
        retryable: bool | None = None,
        operation: str | None = None,
        after_id: int = 0,
        limit: int = 500,
    ) -> list[int]:
        """Ids of rows in ``state`` after ``after_id``, in plan order, without decoding them."""
        where, args = self._selection(state, retryable, operation)
        found = self._db.execute(
            f"SELECT id FROM rows WHERE {where} AND id > ? ORDER BY id LIMIT ?",
            [*args, after_id, limit],
        )
        return [int(raw[0]) for raw in found]

    def head(self, row_id: int) -> RowHead:
        """The columns the write path needs, without decoding any JSON."""
        raw = self._db.execute(
            "SELECT id, scenario_id, state, operation, read_update_time, read_fingerprint, "
            "planned_fingerprint, pre_fingerprint FROM rows WHERE id = ?",
            (row_id,),
        ).fetchone()
        if raw is None:
            raise JournalError(f"no row {row_id} in {self.path}")
        return RowHead(raw[0], raw[1], RowState(raw[2]), *raw[3:])

    def attempts(self, row_id: int | None = None) -> Iterator[AttemptRecord]:
        self.flush()
        sql = (
            "SELECT id, row_id, scenario_id, operation, kind, method, path, started_at, duration, "
            "status, error_class FROM attempts"
        )
        args: tuple[Any, ...] = ()
        if row_id is not None:
            sql += " WHERE row_id = ?"
            args = (row_id,)
        for raw in self._db.execute(sql + " ORDER BY started_at, id", args):
            yield AttemptRecord(*raw)

    def transitions(self, row_id: int | None = None) -> Iterator[Transition]:
        sql = "SELECT row_id, time, operation, from_state, to_state FROM transitions"
        args: tuple[Any, ...] = ()
        if row_id is not None:
            sql += " WHERE row_id = ?"
            args = (row_id,)
        for raw in self._db.execute(sql + " ORDER BY id", args):
            yield Transition(*raw)

    def attempt_counts(self) -> dict[str, int]:
        """Attempts by ``kind``, plus ``rate_limited`` (429 answers) and ``errors``."""
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


#: One write of the journal: SQL run on a connection inside a transaction.
Write = Callable[[sqlite3.Connection], None]


def _state_of(db: sqlite3.Connection, row_id: int) -> str:
    found = db.execute("SELECT state FROM rows WHERE id = ?", (row_id,)).fetchone()
    if found is None:
        raise JournalError(f"no row {row_id} in the journal")
    return str(found[0])


def _transition(
    db: sqlite3.Connection, row_id: int, old: str | None, new: str, operation: str
) -> None:
    db.execute(
        "INSERT INTO transitions (row_id, time, operation, from_state, to_state) "
        "VALUES (?, ?, ?, ?, ?)",
        (row_id, time.time(), operation, old, new),
    )


def insert_attempts(db: sqlite3.Connection, attempts: list[tuple[Any, ...]]) -> None:
    """Insert buffered attempts and count them on their rows."""
    if not attempts:
        return
    db.executemany(
        "INSERT INTO attempts (row_id, scenario_id, operation, kind, method, path, "
        "started_at, duration, status, error_class) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        attempts,
    )
    per_row: dict[int, int] = {}
    for attempt in attempts:
        if attempt[0] is not None:
            per_row[attempt[0]] = per_row.get(attempt[0], 0) + 1
    db.executemany(
        "UPDATE rows SET attempts = attempts + ? WHERE id = ?",
        [(count, row_id) for row_id, count in per_row.items()],
    )


def _plan_values(row: PlannedRow) -> tuple[Any, ...]:
    read_fp, planned_fp = row.fingerprints()
    return (
        row.name,
        str(row.state),
        None if row.retryable is None else int(row.retryable),
        _dumps(row.read_body),
        read_fp,
        (row.read_body or {}).get("updateTime"),
        _dumps(row.planned_body),
        planned_fp,
        compact_json(row.changes),
        len(row.changes),
        compact_json(row.validation_errors),
        row.http_status,
        row.error_class,
        row.error_text,
    )


def rows_write(rows: list[PlannedRow]) -> Write:
    """Insert plan results (and link the plan's reads, made before the rows existed)."""
    now = time.time()
    values = [
        (row.scenario_id, compact_json(row.sheet_rows), _rules(row), *_plan_values(row), now)
        for row in rows
    ]

    def write(db: sqlite3.Connection) -> None:
        if not values:
            return
        last = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM rows").fetchone()[0])
        db.executemany(
            "INSERT INTO rows (scenario_id, sheet_rows, rules, name, state, retryable, "
            "read_body, read_fingerprint, read_update_time, planned_body, planned_fingerprint, "
            "changes, change_count, validation_errors, http_status, error_class, error_text, "
            "planned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values,
        )
        db.execute(
            "INSERT INTO transitions (row_id, time, operation, from_state, to_state) "
            "SELECT id, ?, 'plan', NULL, state FROM rows WHERE id > ?",
            (now, last),
        )
        db.execute(
            "UPDATE attempts SET row_id = (SELECT r.id FROM rows r "
            "WHERE r.scenario_id = attempts.scenario_id) WHERE row_id IS NULL "
            "AND kind != 'SEARCH' "
            "AND scenario_id IN (SELECT scenario_id FROM rows WHERE id > ?)",
            (last,),
        )
        db.execute(
            "UPDATE rows SET attempts = (SELECT COUNT(*) FROM attempts a "
            "WHERE a.row_id = rows.id) WHERE id > ?",
            (last,),
        )

    return write


def _rules(row: PlannedRow) -> str:
    return ",".join(str(ref.get("rule", "")) for ref in row.sheet_rows)


def replan_write(row_id: int, row: PlannedRow) -> Write:
    """Replace a row's plan; forgets its pre-image."""
    values = (*_plan_values(row), time.time(), row_id)

    def write(db: sqlite3.Connection) -> None:
        old = _state_of(db, row_id)
        db.execute(
            "UPDATE rows SET name = ?, state = ?, retryable = ?, read_body = ?, "
            "read_fingerprint = ?, read_update_time = ?, planned_body = ?, "
            "planned_fingerprint = ?, changes = ?, change_count = ?, validation_errors = ?, "
            "http_status = ?, error_class = ?, error_text = ?, pre_image = NULL, "
            "pre_fingerprint = NULL, operation = 'apply', planned_at = ? WHERE id = ?",
            values,
        )
        _transition(db, row_id, old, str(row.state), str(Operation.PLAN))

    return write


def in_flight_write(
    row_id: int,
    pre_image: Mapping[str, Any] | None,
    operation: Operation,
    pre_fingerprint: str | None = None,
) -> Write:
    """Mark a row ``in_flight`` for ``operation``; apply also stores the pre-image."""
    image = None
    if pre_image is not None:
        image = (compact_json(pre_image), pre_fingerprint or fingerprint(pre_image))
    now = time.time()

    def write(db: sqlite3.Connection) -> None:
        old = _state_of(db, row_id)
        if image is not None:
            db.execute(
                "UPDATE rows SET pre_image = ?, pre_fingerprint = ? WHERE id = ?",
                (*image, row_id),
            )
        db.execute(
            "UPDATE rows SET state = 'in_flight', operation = ?, retryable = NULL, "
            "in_flight_at = ? WHERE id = ?",
            (str(operation), now, row_id),
        )
        _transition(db, row_id, old, str(RowState.IN_FLIGHT), str(operation))

    return write


def state_write(
    row_id: int,
    state: RowState,
    operation: Operation,
    *,
    retryable: bool | None = None,
    http_status: int | None = None,
    error_class: str | None = None,
    error_text: str | None = None,
    validation_errors: list[dict[str, str]] | None = None,
    final_fingerprint: str | None = None,
) -> Write:
    """A row's new state and its last outcome (validation errors kept unless given)."""
    values = (
        str(state),
        str(operation),
        None if retryable is None else int(retryable),
        http_status,
        error_class,
        error_text,
        time.time(),
        None if validation_errors is None else compact_json(validation_errors),
        final_fingerprint,
        row_id,
    )

    def write(db: sqlite3.Connection) -> None:
        old = _state_of(db, row_id)
        db.execute(
            "UPDATE rows SET state = ?, operation = ?, retryable = ?, http_status = ?, "
            "error_class = ?, error_text = ?, finished_at = ?, "
            "validation_errors = COALESCE(?, validation_errors), "
            "final_fingerprint = COALESCE(?, final_fingerprint) WHERE id = ?",
            values,
        )
        if old != str(state):
            _transition(db, row_id, old, str(state), str(operation))

    return write


def note_write(
    row_id: int, http_status: int | None, error_class: str | None, error_text: str
) -> Write:
    """The last error of a row whose state stays as it is."""

    def write(db: sqlite3.Connection) -> None:
        db.execute(
            "UPDATE rows SET http_status = ?, error_class = ?, error_text = ? WHERE id = ?",
            (http_status, error_class, error_text, row_id),
        )

    return write


class GroupCommit:
    """Commits the writes of many coroutines in shared transactions, on a writer thread.

    ``await commit.write(w)`` returns once ``w`` is durably committed, so an ``in_flight`` mark
    is on disk before its PUT is sent; writes that arrive while a commit is running share the
    next one, so one fsync serves every worker waiting for it and the event loop never blocks
    on the disk. Writes commit in the order they were submitted.
    """

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._db = Journal._connect(journal.path, threads=True)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="journal")
        self._waiting: list[tuple[Write, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None

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
        loop = asyncio.get_running_loop()
        attempts = self._journal.take_attempts()
        if attempts:
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
                self._error = exc
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                        future.exception()  # retrieved: submit() callers may not await it
            else:
                for _, future in batch:
                    if not future.done():
                        future.set_result(None)

    def _commit(self, attempts: list[tuple[Any, ...]], writes: list[Write]) -> None:
        with _Transaction(self._db):
            insert_attempts(self._db, attempts)
            for write in writes:
                write(self._db)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._db.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error); SQLite errors → JournalError."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise JournalError(f"cannot write the journal: {exc}") from exc

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._db.execute("ROLLBACK")
                raise JournalError(f"cannot write the journal: {error}") from error
        else:
            self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise JournalError(f"cannot write the journal: {exc}") from exc


def _decode_row(raw: tuple[Any, ...], bodies: bool) -> RowRecord:
    record = RowRecord(
        id=raw[0],
        scenario_id=raw[1],
        name=raw[2],
        sheet_rows=json.loads(raw[3]),
        rules=[r for r in raw[4].split(",") if r],
        state=RowState(raw[5]),
        retryable=None if raw[6] is None else bool(raw[6]),
        operation=raw[7],
        read_fingerprint=raw[8],
        read_update_time=raw[9],
        planned_fingerprint=raw[10],
        pre_fingerprint=raw[11],
        final_fingerprint=raw[12],
        changes=json.loads(raw[13]),
        change_count=raw[14],
        validation_errors=json.loads(raw[15]),
        http_status=raw[16],
        error_class=raw[17],
        error_text=raw[18],
        attempts=raw[19],
        planned_at=raw[20],
        in_flight_at=raw[21],
        finished_at=raw[22],
    )
    if bodies:
        record.read_body = _loads(raw[23])
        record.planned_body = _loads(raw[24])
        record.pre_image = _loads(raw[25])
    return record
