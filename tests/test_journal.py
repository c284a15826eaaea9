"""The journal: states, attempts, metadata and the fingerprints conflicts are decided on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrate.errors import JournalError
from migrate.journal import (
    SCHEMA_VERSION,
    Journal,
    in_flight_write,
    replan_write,
    rows_write,
    state_write,
)
from migrate.vocabulary import (
    AttemptKind,
    Operation,
    PlannedChange,
    PlannedRow,
    Problem,
    RowState,
    SheetRef,
)
from transforms.body import canonical_json, fingerprint, same_scenario, writable

BODY = {
    "id": "A1",
    "name": "Welcome",
    "description": "d",
    "script": [{"say": "hi", "options": {"language": "en"}}, "hangup"],
    "createTime": "2025-01-01T00:00:00.000+0000",
    "updateTime": None,
}


def planned(scenario_id: str, state: RowState = RowState.PLANNED) -> PlannedRow:
    after = {**BODY, "id": scenario_id, "name": "Welcome 2"}
    return PlannedRow(
        scenario_id=scenario_id,
        name="Welcome",
        sheet_refs=[
            SheetRef("s.csv", 2, scenario_id, "rename", {"name": "{name} 2"}, {"name": "{name} 2"})
        ],
        state=state,
        read_body={**BODY, "id": scenario_id},
        planned_body=after if state is RowState.PLANNED else None,
        changes=[PlannedChange("", "name", "Welcome", "Welcome 2", "rename", 2)],
    )


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    made = Journal.create(tmp_path / "journal.sqlite", {"run_id": "r1", "base_url": "http://x"})
    yield made
    made.close()


def test_fingerprint_ignores_read_only_fields_key_order_and_nulls() -> None:
    reordered = {
        "script": [{"options": {"language": "en"}, "say": "hi"}, "hangup"],
        "description": "d",
        "name": "Welcome",
        "updateTime": "2026-01-01T00:00:00.000+0000",
        "notifyUrl": None,
    }
    assert fingerprint(reordered) == fingerprint(BODY)
    assert fingerprint({**BODY, "name": "Other"}) != fingerprint(BODY)
    # the same decision without serialising (the write path compares answers this way)
    assert same_scenario(reordered, BODY)
    assert not same_scenario({**BODY, "name": "Other"}, BODY)
    assert not same_scenario({**BODY, "record": False}, BODY)
    assert fingerprint({**BODY, "record": False}) != fingerprint(BODY)
    assert list(writable(BODY)) == ["name", "description", "script"]
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def test_created_journal_is_wal_with_full_sync_and_metadata(journal: Journal) -> None:
    assert journal._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    meta = journal.metadata()
    assert meta["run_id"] == "r1"
    assert meta["schema_version"] == SCHEMA_VERSION == "3"
    journal.set_metadata({"run_id": "r1", "finished": "yes"})
    assert journal.metadata()["finished"] == "yes"


def test_every_row_has_exactly_one_state_and_transitions_are_kept(journal: Journal) -> None:
    journal.commit(rows_write([planned("A"), planned("B"), planned("C", RowState.UNCHANGED)]))
    counts = journal.counts()
    assert counts["planned"] == 2 and counts["unchanged"] == 1
    assert set(counts) == {str(s) for s in RowState}
    assert sum(counts.values()) == journal.total() == 3

    first = next(journal.rows([RowState.PLANNED]))
    journal.commit(in_flight_write(first.id, first.read_body, Operation.APPLY))
    assert journal.row(first.id).state is RowState.IN_FLIGHT
    assert journal.row(first.id).pre_image == first.read_body
    journal.commit(state_write(first.id, RowState.UPDATED, Operation.APPLY, http_status=200))
    row = journal.row(first.id)
    assert row.state is RowState.UPDATED and row.http_status == 200
    assert row.pre_fingerprint == fingerprint(BODY)
    assert [(t.from_state, t.to_state) for t in journal.transitions(first.id)] == [
        (None, "planned"),
        ("planned", "in_flight"),
        ("in_flight", "updated"),
    ]
    assert journal.counts()["updated"] == 1 and journal.total() == 3


def test_rows_are_paged_in_plan_order_and_filtered(journal: Journal) -> None:
    journal.commit(rows_write([planned(f"S{i:04d}") for i in range(1203)]))
    ids = [r.scenario_id for r in journal.rows(bodies=False)]
    assert ids == [f"S{i:04d}" for i in range(1203)]
    light = next(journal.rows(bodies=False))
    assert light.planned_body is None and light.planned_fingerprint
    assert len(list(journal.rows([RowState.PLANNED], limit=10))) == 10
    assert list(journal.rows([RowState.FAILED])) == []


def test_failed_rows_keep_retryable_and_validation_errors(journal: Journal) -> None:
    journal.commit(rows_write([planned("A"), planned("B")]))
    a, b = journal.rows()
    journal.commit(
        state_write(a.id, RowState.FAILED, Operation.APPLY, retryable=True, error_class="X")
    )
    errors = [Problem("script[0].say", "must not be blank")]
    journal.commit(
        state_write(
            b.id, RowState.FAILED, Operation.APPLY, retryable=False, validation_errors=errors
        )
    )
    assert [r.scenario_id for r in journal.rows([RowState.FAILED], retryable=True)] == ["A"]
    assert journal.row(b.id).validation_errors == errors
    assert journal.count_rows([RowState.FAILED], retryable=False) == 1


def test_attempts_are_buffered_then_written_with_the_next_transaction(
    journal: Journal, tmp_path: Path
) -> None:
    journal.commit(rows_write([planned("A")]))
    row = next(journal.rows())
    for status in (429, 200):
        journal.record_attempt(
            row_id=row.id,
            scenario_id="A",
            operation=Operation.APPLY,
            kind=AttemptKind.PUT,
            method="PUT",
            path="/voice/ivr/1/scenarios/A",
            started_at=1.0,
            duration=0.1,
            status=status,
            error_class="RateLimited" if status == 429 else None,
        )
    journal.commit(state_write(row.id, RowState.UPDATED, Operation.APPLY))
    other = sqlite3.connect(tmp_path / "journal.sqlite")
    assert other.execute("SELECT COUNT(*) FROM attempts").fetchone()[0] == 2
    other.close()
    assert journal.row(row.id).attempts == 2
    assert [a.status for a in journal.attempts(row.id)] == [429, 200]
    assert journal.attempt_counts()["rate_limited"] == 1


def test_reopen_and_refuse_what_is_not_a_journal(journal: Journal, tmp_path: Path) -> None:
    journal.commit(rows_write([planned("A")]))
    journal.close()
    with Journal.open(tmp_path / "journal.sqlite") as again:
        assert again.counts()["planned"] == 1
    with pytest.raises(JournalError, match="no journal"):
        Journal.open(tmp_path / "missing.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(JournalError):
        Journal.open(junk)
    with pytest.raises(JournalError, match="already exists"):
        Journal.create(tmp_path / "journal.sqlite", {})


def test_one_writer_per_run_folder(journal: Journal, tmp_path: Path) -> None:
    journal.lock("apply")
    second = Journal.open(tmp_path / "journal.sqlite")
    with pytest.raises(JournalError, match="in use by ivr-migrate apply"):
        second.lock("rollback")
    second.close()
    journal.close()
    assert (tmp_path / "run.lock").read_text() == ""  # a clean exit leaves no pid behind
    third = Journal.open(tmp_path / "journal.sqlite")
    assert third.lock("apply").previous is None
    third.close()


def test_replan_replaces_the_plan_and_forgets_the_pre_image(journal: Journal) -> None:
    journal.commit(rows_write([planned("A")]))
    row = next(journal.rows())
    journal.commit(in_flight_write(row.id, row.read_body, Operation.APPLY))
    journal.commit(state_write(row.id, RowState.CONFLICT, Operation.APPLY))
    fresh = planned("A")
    assert fresh.read_body is not None
    fresh.read_body["description"] = "edited by someone"
    journal.commit(replan_write(row.id, fresh))
    again = journal.row(row.id)
    assert again.state is RowState.PLANNED
    assert again.pre_image is None
    assert again.read_fingerprint == fingerprint(fresh.read_body)
