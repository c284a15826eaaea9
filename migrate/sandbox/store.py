"""Scenario storage for the sandbox: in memory, or in a SQLite file that survives restarts.

Each scenario is kept as a small record whose script is compact JSON text, not nested dicts:
100,000 generated clones share their source's script string and cost a few hundred bytes each.
Every method takes the account name; accounts never see each other's scenarios.

Search order is ``createTime`` then ``id`` (the API documents no order; this one is stable).
"""

from __future__ import annotations

import bisect
import functools
import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

#: Fields the server owns; ignored when a client sends them.
READ_ONLY_FIELDS: Final = ("id", "createTime", "updateTime", "lastUsageDate")
#: Fields kept in columns of their own. Every other key of a body (``notifyUrl``, ``record``,
#: and keys the sandbox does not model, as the 2026 schema forbids none) goes into ``extra``.
COLUMN_FIELDS: Final = ("name", "description", "script")
_NOT_EXTRA: Final = frozenset(COLUMN_FIELDS + READ_ONLY_FIELDS)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def format_time(ms: int) -> str:
    """Infobip's timestamp format: ``2023-09-14T15:13:36.735+0000``."""
    days, ms_of_day = divmod(ms, 86_400_000)
    seconds, millis = divmod(ms_of_day, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}+0000"


@functools.lru_cache(maxsize=4096)
def _day(days_since_epoch: int) -> str:
    # Formatting dates is the slow part; generated scenarios share a few hundred days.
    return (_EPOCH + timedelta(days=days_since_epoch)).date().isoformat()


def parse_time(text: str) -> int:
    """Milliseconds since the epoch of an Infobip timestamp (``+0000`` or ``+01:00`` offsets)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def extra_json(body: Mapping[str, Any]) -> str | None:
    """The body's keys other than the columns and the read-only ones, in body order, or None."""
    extra = {key: value for key, value in body.items() if key not in _NOT_EXTRA}
    return compact_json(extra) if extra else None


@dataclass(slots=True)
class StoredScenario:
    """One scenario as stored: metadata plus the script as compact JSON text."""

    id: str
    name: str
    description: str | None
    create_time: str
    update_time: str | None
    last_usage_date: str | None
    script: str
    #: Compact JSON object of every other writable key (``notifyUrl``, unmodelled ones), or None.
    extra: str | None = None
    create_ms: int = field(default=0)

    @property
    def order_key(self) -> tuple[int, str]:
        return (self.create_ms, self.id)

    @property
    def usage_date(self) -> str:
        """The date the lastUsageDate filters compare: ``lastUsageDate``, else the creation day."""
        return self.last_usage_date or self.create_time[:10]

    def to_json(self) -> str:
        """The API's scenario object, built around the stored script text without parsing it."""
        head: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.description is not None:
            head["description"] = self.description
        head["createTime"] = self.create_time
        head["updateTime"] = self.update_time
        head["lastUsageDate"] = self.last_usage_date
        parts = [compact_json(head)[:-1], ',"script":', self.script]
        if self.extra and self.extra != "{}":
            parts += [",", self.extra[1:-1]]
        parts.append("}")
        return "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.to_json())
        return result

    def writable(self) -> dict[str, Any]:
        """The scenario as a request body: every key but the read-only ones."""
        return {k: v for k, v in self.to_dict().items() if k not in READ_ONLY_FIELDS}


@dataclass(frozen=True)
class SearchQuery:
    """Filters and window of a search; ``limit=None`` returns everything from ``offset``."""

    name: str | None = None
    since: str | None = None
    until: str | None = None
    offset: int = 0
    limit: int | None = None

    @property
    def filtered(self) -> bool:
        return bool(self.name) or self.since is not None or self.until is not None

    def matches(self, scenario: StoredScenario) -> bool:
        # Name: case-insensitive substring ("contains"), the reference leaves it open.
        if self.name and self.name.casefold() not in scenario.name.casefold():
            return False
        date = scenario.usage_date
        if self.since is not None and date < self.since:
            return False
        return not (self.until is not None and date > self.until)


class ScenarioStore(Protocol):
    """What the sandbox needs from a storage backend."""

    def get(self, account: str, scenario_id: str) -> StoredScenario | None: ...
    def save(self, account: str, scenario: StoredScenario) -> None: ...
    def save_many(self, account: str, scenarios: Iterable[StoredScenario]) -> None: ...
    def delete(self, account: str, scenario_id: str) -> bool: ...
    def search(self, account: str, query: SearchQuery) -> list[StoredScenario]: ...
    def count(self, account: str) -> int: ...
    def is_seeded(self, account: str) -> bool: ...
    def mark_seeded(self, account: str) -> None: ...
    def latest_update_ms(self) -> int: ...
    def close(self) -> None: ...


class _AccountScenarios:
    __slots__ = ("by_id", "order")

    def __init__(self) -> None:
        self.by_id: dict[str, StoredScenario] = {}
        self.order: list[tuple[int, str]] = []


class MemoryStore:
    """Scenarios in dicts, with a sorted index so that paging is a slice."""

    def __init__(self) -> None:
        self._accounts: dict[str, _AccountScenarios] = {}
        self._seeded: set[str] = set()
        self._latest_update = 0

    def _account(self, account: str) -> _AccountScenarios:
        return self._accounts.setdefault(account, _AccountScenarios())

    def get(self, account: str, scenario_id: str) -> StoredScenario | None:
        return self._account(account).by_id.get(scenario_id)

    def save(self, account: str, scenario: StoredScenario) -> None:
        held = self._account(account)
        old = held.by_id.get(scenario.id)
        if old is None or old.order_key != scenario.order_key:
            if old is not None:
                self._unindex(held, old)
            bisect.insort(held.order, scenario.order_key)
        held.by_id[scenario.id] = scenario
        self._note_update(scenario)

    def save_many(self, account: str, scenarios: Iterable[StoredScenario]) -> None:
        held = self._account(account)
        for scenario in scenarios:
            held.by_id[scenario.id] = scenario
            self._note_update(scenario)
        held.order = sorted(s.order_key for s in held.by_id.values())

    def delete(self, account: str, scenario_id: str) -> bool:
        held = self._account(account)
        old = held.by_id.pop(scenario_id, None)
        if old is None:
            return False
        self._unindex(held, old)
        return True

    def search(self, account: str, query: SearchQuery) -> list[StoredScenario]:
        held = self._account(account)
        end = None if query.limit is None else query.offset + query.limit
        if not query.filtered:
            return [held.by_id[key[1]] for key in held.order[query.offset : end]]
        found: list[StoredScenario] = []
        skipped = 0
        for _, scenario_id in held.order:
            scenario = held.by_id[scenario_id]
            if not query.matches(scenario):
                continue
            if skipped < query.offset:
                skipped += 1
                continue
            found.append(scenario)
            if query.limit is not None and len(found) >= query.limit:
                break
        return found

    def count(self, account: str) -> int:
        return len(self._account(account).by_id)

    def is_seeded(self, account: str) -> bool:
        return account in self._seeded

    def mark_seeded(self, account: str) -> None:
        self._seeded.add(account)

    def latest_update_ms(self) -> int:
        return self._latest_update

    def close(self) -> None:
        self._accounts.clear()

    @staticmethod
    def _unindex(held: _AccountScenarios, old: StoredScenario) -> None:
        at = bisect.bisect_left(held.order, old.order_key)
        if at < len(held.order) and held.order[at] == old.order_key:
            del held.order[at]

    def _note_update(self, scenario: StoredScenario) -> None:
        if scenario.update_time:
            self._latest_update = max(self._latest_update, parse_time(scenario.update_time))


_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS scenarios (
    account TEXT NOT NULL,
    id TEXT NOT NULL,
    create_ms INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    create_time TEXT NOT NULL,
    update_time TEXT,
    last_usage_date TEXT,
    script TEXT NOT NULL,
    extra TEXT,
    PRIMARY KEY (account, id)
);
CREATE INDEX IF NOT EXISTS scenarios_order ON scenarios (account, create_ms, id);
CREATE TABLE IF NOT EXISTS seeded_accounts (account TEXT PRIMARY KEY);
"""

_COLUMNS: Final = (
    "id, name, description, create_time, update_time, last_usage_date, script, extra, create_ms"
)


class SqliteStore:
    """Scenarios in a SQLite file (WAL); every write is its own committed transaction.

    Used from the server's event loop only; ``check_same_thread`` is off because the loop may
    run in a different thread from the one that built the app.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.create_function("casefold", 1, _casefold, deterministic=True)
        self._db.executescript(_SCHEMA)

    def get(self, account: str, scenario_id: str) -> StoredScenario | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM scenarios WHERE account = ? AND id = ?",
            (account, scenario_id),
        ).fetchone()
        return None if row is None else StoredScenario(*row)

    def save(self, account: str, scenario: StoredScenario) -> None:
        self._db.execute(_UPSERT, _row(account, scenario))

    def save_many(self, account: str, scenarios: Iterable[StoredScenario]) -> None:
        with self._transaction():
            self._db.executemany(_UPSERT, (_row(account, s) for s in scenarios))

    def delete(self, account: str, scenario_id: str) -> bool:
        cursor = self._db.execute(
            "DELETE FROM scenarios WHERE account = ? AND id = ?", (account, scenario_id)
        )
        return cursor.rowcount > 0

    def search(self, account: str, query: SearchQuery) -> list[StoredScenario]:
        where = ["account = ?"]
        args: list[Any] = [account]
        if query.name:
            where.append("instr(casefold(name), ?) > 0")
            args.append(query.name.casefold())
        usage = "coalesce(last_usage_date, substr(create_time, 1, 10))"
        if query.since is not None:
            where.append(f"{usage} >= ?")
            args.append(query.since)
        if query.until is not None:
            where.append(f"{usage} <= ?")
            args.append(query.until)
        args += [-1 if query.limit is None else query.limit, query.offset]
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM scenarios WHERE {' AND '.join(where)} "
            "ORDER BY create_ms, id LIMIT ? OFFSET ?",
            args,
        ).fetchall()
        return [StoredScenario(*row) for row in rows]

    def count(self, account: str) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM scenarios WHERE account = ?", (account,)
        ).fetchone()
        return int(row[0])

    def is_seeded(self, account: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM seeded_accounts WHERE account = ?", (account,)
        ).fetchone()
        return row is not None

    def mark_seeded(self, account: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO seeded_accounts VALUES (?)", (account,))

    def latest_update_ms(self) -> int:
        # Every timestamp the sandbox writes is +0000, so the text order is the time order.
        (text,) = self._db.execute("SELECT max(update_time) FROM scenarios").fetchone()
        return parse_time(text) if text else 0

    def close(self) -> None:
        self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


_UPSERT: Final = (
    "INSERT OR REPLACE INTO scenarios (account, id, name, description, create_time, update_time,"
    " last_usage_date, script, extra, create_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _row(account: str, s: StoredScenario) -> tuple[Any, ...]:
    return (
        account,
        s.id,
        s.name,
        s.description,
        s.create_time,
        s.update_time,
        s.last_usage_date,
        s.script,
        s.extra,
        s.create_ms,
    )


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def open_store(db_path: Path | None) -> ScenarioStore:
    """A SQLite store for a path, else a memory store."""
    return MemoryStore() if db_path is None else SqliteStore(db_path)
