"""The account's shared write ledger: one write budget per account for every process on the machine.

The IVR API counts writes per *account* (6 per 60 s, a strict sliding window), so a resumed
``apply``, a ``rollback`` right after an ``apply`` and two runs at once must share one budget.
Every write any ivr-migrate process starts is recorded here, in a small SQLite file under the
user's state directory (:func:`default_ledger_path`), and before each write a process takes its
turn against the account's recent starts (:meth:`WriteLedger.try_start`):

- never more than N starts in any window of ``period × (1 + margin)``, for *every* rate a process
  declared for the account within its last window (so the strictest one always holds);
- starts spaced at least one interval (``window / N``, the longest declared) after the account's
  latest start, whoever made it, so processes interleave instead of bursting;
- no start before a pause recorded after a 429 (:meth:`WriteLedger.pause`).

An account is its normalised base URL plus a sha256 of its ``Authorization`` header
(:func:`account_id`): the credential itself is never stored. There are no reservations: a process
only records a start it is making, in one ``BEGIN IMMEDIATE`` transaction. A process killed inside
that transaction leaves nothing (SQLite rolls it back and the OS drops its file lock); a start
recorded by a process that then died counts until it leaves the window, one period at most.

Times are wall-clock (``time.time``), the one clock processes share. A start dated in the future
(the clock was set back) is moved to now, so it delays others by one window at most.

:class:`AccountLedger` is the async side a :class:`~migrate.ratelimit.WriteLimiter` uses: it runs
the SQLite call in a worker thread (a lock held by another process then never stalls the event
loop) and sleeps, cancellably, until its turn, telling ``on_wait`` how long.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from migrate.config import Credentials, Rate
from migrate.errors import ConfigError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Overrides the folder of the ledger (and of any future per-user state).
ENV_STATE_DIR: Final = "IVR_MIGRATE_STATE_DIR"
LEDGER_FILE: Final = "ledger.sqlite"
#: How long one transaction waits for another process's lock before trying again later.
LOCK_TIMEOUT: Final = 5.0
#: After a lock wait ran out (another process stuck inside its transaction), retry this soon.
LOCKED_RETRY: Final = 0.05
_SCHEMA_VERSION: Final = 1
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS starts (
    account    TEXT NOT NULL,
    started_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS starts_by_account ON starts (account, started_at);
CREATE TABLE IF NOT EXISTS rates (
    account        TEXT    NOT NULL,
    max_starts     INTEGER NOT NULL,
    window_seconds REAL    NOT NULL,
    declared_until REAL    NOT NULL,
    PRIMARY KEY (account, max_starts, window_seconds)
);
CREATE TABLE IF NOT EXISTS pauses (
    account      TEXT PRIMARY KEY,
    paused_until REAL NOT NULL
);
"""


def account_id(base_url: str, credentials: Credentials) -> str:
    """A stable id of the account: sha256 of the normalised base URL and of a credential hash.

    ``https://X.example/`` and ``https://x.example:443`` are one account; the credential only
    enters as its own sha256, so the id reveals nothing of it.
    """
    secret = hashlib.sha256(credentials.authorization().encode()).hexdigest()
    return hashlib.sha256(f"{normalise_base_url(base_url)}\n{secret}".encode()).hexdigest()


def normalise_base_url(base_url: str) -> str:
    """Scheme and host lower-cased, default port and trailing slash dropped, no user info."""
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def default_ledger_path(env: Mapping[str, str] | None = None) -> Path:
    """``$IVR_MIGRATE_STATE_DIR/ledger.sqlite``, else under ``$XDG_STATE_HOME/ivr-migrate/``,
    else under ``~/.local/state/ivr-migrate/``. (A relative XDG path is ignored, per the spec.)"""
    env = os.environ if env is None else env
    if env.get(ENV_STATE_DIR, "").strip():
        return Path(env[ENV_STATE_DIR].strip()).expanduser() / LEDGER_FILE
    xdg = env.get("XDG_STATE_HOME", "").strip()
    state = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return state / "ivr-migrate" / LEDGER_FILE


class WriteLedger:
    """One connection to the ledger file; every method is one short transaction.

    Thread-safe (one lock per instance), so :class:`AccountLedger` may call it from a worker
    thread. Open one per process and share it between the accounts it writes to.
    """

    def __init__(
        self, path: Path, *, clock: Clock = time.time, lock_timeout: float = LOCK_TIMEOUT
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = _open(self.path, lock_timeout)
        try:
            self._prune_everything()
        except sqlite3.Error as exc:
            if not _is_busy(exc):  # else pruning can wait for the next process that opens it
                self._db.close()
                raise _unusable(self.path, exc) from None

    def try_start(self, account: str, rate: Rate, margin: float) -> float:
        """Record a write start for ``account`` now and return 0, or return the seconds to wait.

        ``rate`` and ``margin`` are the caller's: its window is ``rate.period × (1 + margin)``.
        """
        window = rate.period * (1 + margin)
        try:
            with self._transaction() as db:
                now = self._clock()
                _declare(db, account, rate.count, window, now)
                ready = _ready_at(db, account, now)
                if ready > now:
                    return ready - now
                db.execute("INSERT INTO starts VALUES (?, ?)", (account, now))
                return 0.0
        except sqlite3.Error as exc:
            if _is_busy(exc):
                return LOCKED_RETRY
            raise _unusable(self.path, exc) from None

    def pause(self, account: str, seconds: float) -> None:
        """After a 429: no process starts a write to ``account`` before ``now + seconds``."""
        try:
            with self._transaction() as db:
                until = self._clock() + max(seconds, 0.0)
                db.execute(
                    "INSERT INTO pauses VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET "
                    "paused_until = max(paused_until, excluded.paused_until)",
                    (account, until),
                )
        except sqlite3.Error as exc:
            if not _is_busy(exc):
                raise _unusable(self.path, exc) from None
            # another process has held the lock for LOCK_TIMEOUT: the pause of the process
            # that hit the 429 still holds, and the others' spacing makes another 429 unlikely

    def paused_until(self, account: str) -> float:
        """Wall-clock time before which no write to ``account`` starts (``-inf`` if none)."""
        with self._lock:
            row = self._db.execute(
                "SELECT paused_until FROM pauses WHERE account = ?", (account,)
            ).fetchone()
        return -math.inf if row is None else float(row[0])

    def starts(self, account: str) -> list[float]:
        """The recorded starts of ``account`` still kept, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT started_at FROM starts WHERE account = ? ORDER BY started_at", (account,)
            ).fetchall()
        return [float(started_at) for (started_at,) in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> WriteLedger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WriteLedger({str(self.path)!r})"

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, _immediate(self._db):
            yield self._db

    def _prune_everything(self) -> None:
        """Drop what no account's window can need any more (other accounts included)."""
        with self._transaction() as db:
            now = self._clock()
            db.execute("DELETE FROM rates WHERE declared_until <= ?", (now,))
            db.execute("DELETE FROM pauses WHERE paused_until <= ?", (now,))
            longest = db.execute("SELECT max(window_seconds) FROM rates").fetchone()[0]
            db.execute("DELETE FROM starts WHERE started_at <= ?", (now - (longest or 0.0),))


def _declare(db: sqlite3.Connection, account: str, count: int, window: float, now: float) -> None:
    """This process's rate holds for the account until one window after its latest attempt."""
    db.execute(
        "INSERT INTO rates VALUES (?, ?, ?, ?) "
        "ON CONFLICT (account, max_starts, window_seconds) DO UPDATE SET "
        "declared_until = max(declared_until, excluded.declared_until)",
        (account, count, window, now + window),
    )


def _ready_at(db: sqlite3.Connection, account: str, now: float) -> float:
    """When the account's next start may happen, given every rate declared for it."""
    rates: list[tuple[int, float]] = db.execute(
        "SELECT max_starts, window_seconds FROM rates WHERE account = ? AND declared_until > ?",
        (account, now),
    ).fetchall()
    longest = max(window for _, window in rates)  # the caller's own rate is always there
    db.execute("DELETE FROM starts WHERE account = ? AND started_at <= ?", (account, now - longest))
    # a start in the future means the clock was set back: count it as made now
    db.execute(
        "UPDATE starts SET started_at = ? WHERE account = ? AND started_at > ?", (now, account, now)
    )
    row = db.execute("SELECT paused_until FROM pauses WHERE account = ?", (account,)).fetchone()
    ready = -math.inf if row is None else float(row[0])
    newest = db.execute(
        "SELECT max(started_at) FROM starts WHERE account = ?", (account,)
    ).fetchone()
    if newest[0] is not None:
        ready = max(ready, newest[0] + max(window / count for count, window in rates))
    for count, window in rates:
        # the count-th newest start must have left the window before one more may start
        nth = db.execute(
            "SELECT started_at FROM starts WHERE account = ? "
            "ORDER BY started_at DESC LIMIT 1 OFFSET ?",
            (account, count - 1),
        ).fetchone()
        if nth is not None:
            ready = max(ready, nth[0] + window)
    return ready


def _open(path: Path, lock_timeout: float) -> sqlite3.Connection:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        db = sqlite3.connect(
            path, isolation_level=None, timeout=lock_timeout, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as exc:
        raise _unusable(path, exc) from None
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL, not FULL: in WAL mode a commit is written to the WAL before COMMIT returns, so
        # a crashed or killed process never loses a committed start; only a power cut or an OS
        # crash can lose the last ones, and that also stops every process using the budget.
        # FULL would add an fsync to every turn (see the report on measured costs).
        db.execute("PRAGMA synchronous=NORMAL")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != _SCHEMA_VERSION:
            with _immediate(db):
                for statement in _SCHEMA.split(";"):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
    except sqlite3.Error as exc:
        db.close()
        raise _unusable(path, exc) from None
    return db


@contextmanager
def _immediate(db: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: the write lock is taken first, so the turn is atomic."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _unusable(path: Path, exc: BaseException) -> ConfigError:
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return ConfigError(
        f"cannot use the write ledger {path}: {reason}; set {ENV_STATE_DIR} to a writable folder"
    )


class AccountLedger:
    """One account's turn-taking on a :class:`WriteLedger`, for a process's write limiter."""

    def __init__(
        self,
        ledger: WriteLedger,
        account: str,
        *,
        on_wait: Callable[[float], None] | None = None,
        sleep: Sleep = asyncio.sleep,
        in_thread: bool = True,
    ) -> None:
        """``on_wait(seconds)`` is called before each wait for the account's window (the engine
        prints "waiting 8 s for the account's write window"). ``in_thread=False`` runs the
        SQLite call on the event loop itself (fake-clock tests)."""
        self.ledger = ledger
        self.account = account
        self._on_wait = on_wait
        self._sleep = sleep
        self._in_thread = in_thread

    @classmethod
    def open(
        cls,
        base_url: str,
        credentials: Credentials,
        *,
        path: Path | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> AccountLedger:
        """The account's ledger at ``path`` (default: :func:`default_ledger_path`)."""
        ledger = WriteLedger(path or default_ledger_path())
        return cls(ledger, account_id(base_url, credentials), on_wait=on_wait)

    async def take_turn(self, rate: Rate, margin: float) -> float:
        """Wait until the account's window allows a write, record its start; seconds waited.

        Cancellable while waiting. A cancel that lands while the SQLite call runs in its thread
        may leave one recorded start unused: it only makes the others a little more careful.
        """
        waited = 0.0
        while True:
            if self._in_thread:
                wait = await asyncio.to_thread(self.ledger.try_start, self.account, rate, margin)
            else:
                wait = self.ledger.try_start(self.account, rate, margin)
            if wait <= 0:
                return waited
            if self._on_wait is not None:
                self._on_wait(wait)
            await self._sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """After a 429: every process waits ``seconds`` before its next write to the account.

        Runs inline: it is rare, and the transaction is short.
        """
        self.ledger.pause(self.account, seconds)

    def close(self) -> None:
        self.ledger.close()

    def __repr__(self) -> str:
        return f"AccountLedger({self.ledger!r}, account={self.account[:12]}…)"
