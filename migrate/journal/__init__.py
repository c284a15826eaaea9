"""The run's journal: SQLite storage of the vocabulary's records (``migrate.vocabulary``).

Modules: ``schema`` (tables and decoding), ``store`` (:class:`Journal`: open, read, commit),
``writes`` (the write values), ``groupcommit`` (batched commits from many coroutines),
``runlock`` (one writing process per run folder).
"""

from migrate.journal.groupcommit import GroupCommit
from migrate.journal.runlock import LOCK_FILE, Holder, RunLock
from migrate.journal.schema import SCHEMA_VERSION
from migrate.journal.store import JOURNAL_FILE, Journal
from migrate.journal.writes import (
    Write,
    combined,
    in_flight_from_read_write,
    in_flight_write,
    metadata_write,
    note_write,
    replan_write,
    rows_write,
    state_write,
)

__all__ = [
    "JOURNAL_FILE",
    "LOCK_FILE",
    "SCHEMA_VERSION",
    "GroupCommit",
    "Holder",
    "Journal",
    "RunLock",
    "Write",
    "combined",
    "in_flight_from_read_write",
    "in_flight_write",
    "metadata_write",
    "note_write",
    "replan_write",
    "rows_write",
    "state_write",
]
