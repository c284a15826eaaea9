"""The journal's one write API: each write is a value, a function of a connection.

A write is built from typed records by one of the factories below, then committed in a
transaction together with the attempts buffered so far: now, by ``Journal.commit(write, …)``,
or batched with other workers' writes by :class:`~migrate.journal.groupcommit.GroupCommit`.
Every state change also inserts a row into ``transitions``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from sqlite3 import Connection
from typing import Any

from migrate.errors import JournalError
from migrate.vocabulary import AttemptKind, Operation, PlannedRow, Problem, RowState
from transforms.body import compact_json, fingerprint

#: One write of the journal: SQL run on a connection inside a transaction.
Write = Callable[[Connection], None]

#: A buffered attempt: the values of one ``attempts`` row, in ``ATTEMPT_INSERT`` order.
AttemptValues = tuple[Any, ...]

ATTEMPT_INSERT = (
    "INSERT INTO attempts (row_id, scenario_id, operation, kind, method, path, "
    "started_at, duration, status, error_class, account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _dumps(value: Any) -> str | None:
    return None if value is None else compact_json(value)


def _problems(problems: Sequence[Problem]) -> str:
    return compact_json([{"path": p.path, "message": p.message} for p in problems])


def state_of(db: Connection, row_id: int) -> str:
    found = db.execute("SELECT state FROM rows WHERE id = ?", (row_id,)).fetchone()
    if found is None:
        raise JournalError(f"no row {row_id} in the journal")
    return str(found[0])


def _transition(db: Connection, row_id: int, old: str | None, new: str, operation: str) -> None:
    db.execute(
        "INSERT INTO transitions (row_id, time, operation, from_state, to_state) "
        "VALUES (?, ?, ?, ?, ?)",
        (row_id, time.time(), operation, old, new),
    )


def insert_attempts(db: Connection, attempts: Sequence[AttemptValues]) -> None:
    """Insert buffered attempts and count them on their rows."""
    if not attempts:
        return
    db.executemany(ATTEMPT_INSERT, attempts)
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
        compact_json([change.to_json() for change in row.changes]),
        len(row.changes),
        _problems(row.validation_errors),
        _problems(row.warnings),
        row.http_status,
        row.error_class,
        row.error_text,
    )


def rows_write(rows: Sequence[PlannedRow], *, queued: bool = False) -> Write:
    """Insert plan results (and link the plan's reads, made before the rows existed).

    ``queued``: targets not read yet (``run --yes``); their first transition is recorded when
    they are planned, in their write turn."""
    now = time.time()
    values = [
        (
            row.account,
            row.scenario_id,
            compact_json([ref.to_json() for ref in row.sheet_refs]),
            ",".join(row.rules),
            *_plan_values(row),
            now,
        )
        for row in rows
    ]

    def write(db: Connection) -> None:
        if not values:
            return
        last = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM rows").fetchone()[0])
        db.executemany(
            "INSERT INTO rows (account, scenario_id, sheet_rows, rules, name, state, retryable, "
            "read_body, read_fingerprint, read_update_time, planned_body, planned_fingerprint, "
            "changes, change_count, validation_errors, warnings, http_status, error_class, "
            "error_text, planned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?)",
            values,
        )
        if not queued:
            db.execute(
                "INSERT INTO transitions (row_id, time, operation, from_state, to_state) "
                "SELECT id, ?, ?, NULL, state FROM rows WHERE id > ?",
                (now, str(Operation.PLAN), last),
            )
        db.execute(
            "UPDATE attempts SET row_id = (SELECT r.id FROM rows r "
            "WHERE r.scenario_id = attempts.scenario_id AND r.account = attempts.account) "
            "WHERE row_id IS NULL AND kind != ? AND EXISTS (SELECT 1 FROM rows r WHERE r.id > ? "
            "AND r.scenario_id = attempts.scenario_id AND r.account = attempts.account)",
            (str(AttemptKind.SEARCH), last),
        )
        db.execute(
            "UPDATE rows SET attempts = (SELECT COUNT(*) FROM attempts a "
            "WHERE a.row_id = rows.id) WHERE id > ?",
            (last,),
        )

    return write


def replan_write(row_id: int, row: PlannedRow) -> Write:
    """Replace a row's plan (``retry --all``); forgets its pre-image."""
    values = (*_plan_values(row), str(Operation.APPLY), time.time(), row_id)

    def write(db: Connection) -> None:
        old = state_of(db, row_id)
        db.execute(
            "UPDATE rows SET name = ?, state = ?, retryable = ?, read_body = ?, "
            "read_fingerprint = ?, read_update_time = ?, planned_body = ?, "
            "planned_fingerprint = ?, changes = ?, change_count = ?, validation_errors = ?, "
            "warnings = ?, http_status = ?, error_class = ?, error_text = ?, pre_image = NULL, "
            "pre_fingerprint = NULL, operation = ?, planned_at = ? WHERE id = ?",
            values,
        )
        # a queued row (run --yes) is planned here for the first time: no state before
        first = db.execute("SELECT 1 FROM transitions WHERE row_id = ? LIMIT 1", (row_id,))
        before = old if first.fetchone() else None
        _transition(db, row_id, before, str(row.state), str(Operation.PLAN))

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

    def write(db: Connection) -> None:
        old = state_of(db, row_id)
        if image is not None:
            db.execute(
                "UPDATE rows SET pre_image = ?, pre_fingerprint = ? WHERE id = ?",
                (*image, row_id),
            )
        db.execute(
            "UPDATE rows SET state = ?, operation = ?, retryable = NULL, in_flight_at = ? "
            "WHERE id = ?",
            (str(RowState.IN_FLIGHT), str(operation), now, row_id),
        )
        _transition(db, row_id, old, str(RowState.IN_FLIGHT), str(operation))

    return write


def in_flight_from_read_write(row_id: int, operation: Operation) -> Write:
    """Mark a row ``in_flight`` whose plan read was made in this write turn: that read is the
    pre-image (copied in SQL: the body is not serialised a second time)."""
    now = time.time()

    def write(db: Connection) -> None:
        old = state_of(db, row_id)
        db.execute(
            "UPDATE rows SET pre_image = read_body, pre_fingerprint = read_fingerprint, "
            "state = ?, operation = ?, retryable = NULL, in_flight_at = ? WHERE id = ?",
            (str(RowState.IN_FLIGHT), str(operation), now, row_id),
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
    validation_errors: Sequence[Problem] | None = None,
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
        None if validation_errors is None else _problems(validation_errors),
        final_fingerprint,
        row_id,
    )

    def write(db: Connection) -> None:
        old = state_of(db, row_id)
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
    """The last error of a row whose state stays as it is (an ``in_flight`` row)."""

    def write(db: Connection) -> None:
        db.execute(
            "UPDATE rows SET http_status = ?, error_class = ?, error_text = ? WHERE id = ?",
            (http_status, error_class, error_text, row_id),
        )

    return write


def metadata_write(values: Mapping[str, str]) -> Write:
    """Set metadata keys (``migrate.vocabulary.Meta``)."""
    pairs = [(str(key), str(value)) for key, value in values.items()]

    def write(db: Connection) -> None:
        db.executemany(
            "INSERT INTO run (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            pairs,
        )

    return write


def combined(*writes: Write) -> Write:
    """Several writes as one, committed in the same transaction."""

    def write(db: Connection) -> None:
        for each in writes:
            each(db)

    return write
