"""One journal transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, SQLite errors as JournalError."""

from __future__ import annotations

import contextlib
import sqlite3

from migrate.errors import JournalError


class Transaction:
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
                self._rollback()
                raise JournalError(f"cannot write the journal: {error}") from error
        else:
            self._rollback()
            if isinstance(exc, sqlite3.Error):
                raise JournalError(f"cannot write the journal: {exc}") from exc

    def _rollback(self) -> None:
        # SQLite may have rolled back already (a full disk does that); nothing was committed
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")
