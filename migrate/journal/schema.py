"""The journal's SQLite schema, and how its rows decode into the records of the vocabulary.

Times are Unix epoch seconds (REAL); bodies, sheet references, changes and problems are compact
JSON text. The tables (``docs/ARCHITECTURE.md`` shows how to query them with ``sqlite3``)::

    run(key TEXT PRIMARY KEY, value TEXT)        -- metadata: migrate.vocabulary.Meta
    rows(id INTEGER PRIMARY KEY,                 -- plan order
         account ('' for a run over one account), scenario_id (unique per account), name,
         sheet_rows (JSON list of SheetRef), rules (comma separated),
         state, retryable (NULL unless failed), operation (last one that touched the row),
         read_body, read_fingerprint, read_update_time,     -- what plan read
         planned_body, planned_fingerprint,                 -- what apply writes
         pre_image, pre_fingerprint,                        -- read right before our first PUT
         final_fingerprint,                                 -- as last seen after our write
         changes (JSON list of PlannedChange), change_count,
         validation_errors, warnings (JSON lists of {path, message}),
         http_status, error_class, error_text,              -- the last outcome
         attempts, planned_at, in_flight_at, finished_at)
    attempts(id, row_id, account, scenario_id, operation, kind, method, path, started_at, duration,
             status, error_class)                          -- every HTTP exchange
    transitions(id, row_id, time, operation, from_state, to_state)   -- every state change
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from migrate.vocabulary import (
    AttemptRecord,
    Operation,
    PlannedChange,
    Problem,
    RowHead,
    RowRecord,
    RowState,
    SheetRef,
    Transition,
)

SCHEMA_VERSION: Final = "3"

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL DEFAULT '',
    scenario_id TEXT NOT NULL,
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
    warnings TEXT NOT NULL DEFAULT '[]',
    http_status INTEGER,
    error_class TEXT,
    error_text TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    planned_at REAL,
    in_flight_at REAL,
    finished_at REAL,
    UNIQUE (account, scenario_id)
);
CREATE INDEX IF NOT EXISTS rows_state ON rows (state, id);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    row_id INTEGER,
    account TEXT NOT NULL DEFAULT '',
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

#: The tables a journal of this schema must have (a missing one is a damaged journal).
TABLES: Final = ("run", "rows", "attempts", "transitions")

#: Body columns of ``rows``: read only when asked for (they are the bulk of the file).
BODY_COLUMNS: Final = ("read_body", "planned_body", "pre_image")


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _problems(text: str) -> list[Problem]:
    return [Problem(str(p.get("path", "")), str(p.get("message", ""))) for p in json.loads(text)]


def _optional_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _operation(value: str | None) -> Operation | None:
    return None if value is None else Operation(value)


#: How each column of ``rows`` becomes a field of :class:`RowRecord` (identity when absent).
_DECODE: Final[Mapping[str, Callable[[Any], Any]]] = {
    "sheet_rows": lambda text: [SheetRef.from_json(ref) for ref in json.loads(text)],
    "rules": lambda text: [rule for rule in text.split(",") if rule],
    "state": RowState,
    "retryable": _optional_bool,
    "operation": _operation,
    "changes": lambda text: [PlannedChange.from_json(c) for c in json.loads(text)],
    "validation_errors": _problems,
    "warnings": _problems,
    "read_body": loads,
    "planned_body": loads,
    "pre_image": loads,
}
#: ``rows`` columns whose record field has another name.
_FIELD_NAMES: Final = {"sheet_rows": "sheet_refs"}

ROW_COLUMNS: Final = (
    "id",
    "account",
    "scenario_id",
    "name",
    "sheet_rows",
    "rules",
    "state",
    "retryable",
    "operation",
    "read_fingerprint",
    "read_update_time",
    "planned_fingerprint",
    "pre_fingerprint",
    "final_fingerprint",
    "changes",
    "change_count",
    "validation_errors",
    "warnings",
    "http_status",
    "error_class",
    "error_text",
    "attempts",
    "planned_at",
    "in_flight_at",
    "finished_at",
)
ROW_COLUMNS_WITH_BODIES: Final = ROW_COLUMNS + BODY_COLUMNS


def decode_row(columns: tuple[str, ...], raw: tuple[Any, ...]) -> RowRecord:
    """A ``rows`` row, selected as ``columns``, as a :class:`RowRecord` (decoded by name)."""
    values = {
        _FIELD_NAMES.get(name, name): _DECODE[name](value)
        if name in _DECODE and value is not None
        else value
        for name, value in zip(columns, raw, strict=True)
    }
    return RowRecord(**values)


HEAD_COLUMNS: Final = (
    "id",
    "account",
    "scenario_id",
    "state",
    "operation",
    "read_update_time",
    "read_fingerprint",
    "planned_fingerprint",
    "pre_fingerprint",
)


def decode_head(raw: tuple[Any, ...]) -> RowHead:
    values = dict(zip(HEAD_COLUMNS, raw, strict=True))
    values["state"] = RowState(values["state"])
    values["operation"] = _operation(values["operation"])
    return RowHead(**values)


ATTEMPT_COLUMNS: Final = (
    "id",
    "row_id",
    "scenario_id",
    "operation",
    "kind",
    "method",
    "path",
    "started_at",
    "duration",
    "status",
    "error_class",
    "account",
)


def decode_attempt(raw: tuple[Any, ...]) -> AttemptRecord:
    return AttemptRecord(**dict(zip(ATTEMPT_COLUMNS, raw, strict=True)))


TRANSITION_COLUMNS: Final = ("row_id", "time", "operation", "from_state", "to_state")


def decode_transition(raw: tuple[Any, ...]) -> Transition:
    return Transition(**dict(zip(TRANSITION_COLUMNS, raw, strict=True)))
