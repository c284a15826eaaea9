"""The engine end to end over loopback HTTP: plan, apply, resume, retry, conflicts, rollback."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from test_engine_support import (
    MIGRATION_SHEET,
    NO_SIGNALS,
    connect,
    expected_targets,
    journal_of,
    plan,
    puts_in_log,
    sandbox,
    senders_of,
    states,
    write_sheet,
)

from migrate.engine import (
    ApplyOptions,
    FailureLimit,
    apply_run,
    prepare_run,
    retry_run,
    rollback_run,
    run_sheet,
    run_status,
)
from migrate.errors import ConfigError, JournalError
from migrate.sandbox import Faults
from migrate.vocabulary import RowState
from transforms.body import compact_json, fingerprint, writable

RENAME_ALL = [{"scenario_id": "*", "rule": "rename", "description": "{description} (v2)"}]


def test_migration_changes_exactly_the_planned_scenarios_once(tmp_path: Path) -> None:
    with sandbox(generate=28) as running:
        before = {s["id"]: s for s in running.scenarios()}
        expected = expected_targets(running)
        assert len(before) == 35 and len(expected) == 15

        prepared, planned = plan(tmp_path, running, MIGRATION_SHEET)
        assert planned.ok and not planned.interrupted
        assert planned.counts["planned"] == 15 and planned.counts["unchanged"] == 20
        assert puts_in_log(running) == []  # plan reads only

        tally = apply_run(prepared.run_dir, connect(running), NO_SIGNALS)

        assert tally.ok and tally.line() == "15 updated, 20 unchanged"
        assert running.put_counts() == {scenario_id: 1 for scenario_id in expected}
        with journal_of(prepared.run_dir) as journal:
            for row in journal.rows():
                stored = running.scenario(row.scenario_id)
                assert stored is not None
                if row.scenario_id in expected:
                    assert row.state is RowState.UPDATED
                    assert row.planned_body is not None
                    # exactly as planned, key order included
                    assert compact_json(writable(stored)) == compact_json(row.planned_body)
                    assert row.pre_image is not None
                    assert fingerprint(row.pre_image) == fingerprint(before[row.scenario_id])
                else:
                    assert row.state is RowState.UNCHANGED
                    assert stored == before[row.scenario_id]
            sheet_rows = {ref.row for row in journal.rows() for ref in row.sheet_refs}
            assert sheet_rows == {2, 3, 4}
            attempts = list(journal.attempts())
            assert {"SEARCH", "GET", "PUT"} <= {a.kind for a in attempts}
            # every attempt but the search belongs to its row
            assert all(a.row_id is not None for a in attempts if a.kind != "SEARCH")
            searches = [a for a in attempts if a.kind == "SEARCH"]
            assert sum(row.attempts for row in journal.rows()) == len(attempts) - len(searches)
        for scenario in running.scenarios():
            assert "Nordlicht" not in senders_of(scenario)
            assert "AuroraBank" not in senders_of(scenario)

        again = apply_run(prepared.run_dir, connect(running), NO_SIGNALS)
        assert again.ok and again.puts == 0 and again.this_run == {}
        assert len(puts_in_log(running)) == 15


def test_plan_records_not_found_invalid_and_the_eta(tmp_path: Path) -> None:
    missing = "0" * 32
    rows = [
        {"scenario_id": missing, "rule": "rename", "name": "{name} x"},
        # a speech rate the API refuses: validation stops it, no PUT is planned for it
        {
            "scenario_id": "97D7570CA5C53185824F6D896957394D",
            "rule": "set",
            "action": "say",
            "path": "options.speechRate",
            "value": "7",
        },
        {"scenario_id": "B8442ED12B2940E53ACE6946EC602B82", "rule": "rename", "name": "{name}!"},
    ]
    with sandbox() as running:
        prepared, tally = plan(tmp_path, running, rows)
        assert not tally.ok
        assert tally.counts["not_found"] == 1
        assert tally.counts["invalid"] == 1
        assert tally.counts["planned"] == 1
        assert tally.eta_seconds == pytest.approx(0.5 / 40)
        with journal_of(prepared.run_dir) as journal:
            invalid = next(journal.rows([RowState.INVALID]))
            assert invalid.validation_errors and invalid.planned_body is not None
            assert journal.metadata()["sheet_name"] == "run.csv"
        assert (prepared.run_dir / "sheet.csv").is_file()

        tally = apply_run(prepared.run_dir, connect(running), NO_SIGNALS)
        assert not tally.ok  # invalid and not_found rows are not "ended well"
        assert running.put_counts() == {"B8442ED12B2940E53ACE6946EC602B82": 1}


def test_conflict_and_rollback(tmp_path: Path) -> None:
    with sandbox(generate=7) as running:
        prepared, _ = plan(tmp_path, running, RENAME_ALL)
        ids = [s["id"] for s in running.scenarios()]
        originals = {i: running.scenario(i) for i in ids}
        edited_before_apply = ids[0]
        running.edit_scenario(edited_before_apply, {"description": "edited in the portal"})

        tally = apply_run(prepared.run_dir, connect(running), NO_SIGNALS)

        assert tally.counts["conflict"] == 1 and tally.counts["updated"] == 13
        assert not tally.ok
        stored = running.scenario(edited_before_apply)
        assert stored is not None and stored["description"] == "edited in the portal"
        assert edited_before_apply not in running.put_counts()
        with journal_of(prepared.run_dir) as journal:
            row = next(journal.rows([RowState.CONFLICT]))
            assert "changed since the plan" in (row.error_text or "")

        edited_after_apply = ids[1]
        running.edit_scenario(edited_after_apply, {"name": "renamed by a colleague"})
        back = rollback_run(prepared.run_dir, connect(running), NO_SIGNALS)

        assert back.counts["rolled_back"] == 12
        assert back.counts["rollback_conflict"] == 1
        assert not back.ok
        for scenario_id in ids[2:]:
            restored = running.scenario(scenario_id)
            original = originals[scenario_id]
            assert restored is not None and original is not None
            # byte for byte: same fields, same values, same key order in the script
            assert json.dumps(restored["script"]) == json.dumps(original["script"])
            assert compact_json(writable(restored)) == compact_json(writable(original))
        kept = running.scenario(edited_after_apply)
        assert kept is not None and kept["name"] == "renamed by a colleague"
        assert states(prepared.run_dir)[edited_after_apply] == "rollback_conflict"

        puts = len(puts_in_log(running))
        again = rollback_run(prepared.run_dir, connect(running), NO_SIGNALS)
        assert again.puts == 0 and len(puts_in_log(running)) == puts


def test_canary_then_limit_then_the_rest(tmp_path: Path) -> None:
    with sandbox(generate=7) as running:
        prepared, _ = plan(tmp_path, running, RENAME_ALL)

        canary = apply_run(
            prepared.run_dir, connect(running), ApplyOptions(canary=3, handle_signals=False)
        )
        assert canary.ok and canary.stopped == "canary"
        assert canary.counts["updated"] == 3 and canary.counts["planned"] == 11
        assert len(running.put_counts()) == 3

        limited = apply_run(
            prepared.run_dir, connect(running), ApplyOptions(limit=5, handle_signals=False)
        )
        assert limited.stopped == "limit" and limited.counts["updated"] == 8
        assert len(running.put_counts()) == 8

        rest = apply_run(prepared.run_dir, connect(running), NO_SIGNALS)
        assert rest.ok and rest.stopped is None and rest.counts["updated"] == 14
        assert set(running.put_counts().values()) == {1}
        assert run_status(prepared.run_dir).metadata.get("apply_finished_at")


def test_max_failures_stops_the_run(tmp_path: Path) -> None:
    with sandbox(generate=13) as running:
        prepared, _ = plan(tmp_path, running, RENAME_ALL)
        # every PUT is refused with 400: a permanent failure for each row written
        running.set_faults(error_rates={400: 1.0}, methods={"PUT"})
        options = ApplyOptions(max_failures=FailureLimit.parse("2"), handle_signals=False)

        tally = apply_run(prepared.run_dir, connect(running, concurrency=1), options)

        assert tally.stopped is not None and "--max-failures 2" in tally.stopped
        assert tally.counts["failed"] == 3
        assert tally.counts["planned"] == 20 - 3
        assert not tally.ok
        with journal_of(prepared.run_dir) as journal:
            failed = list(journal.rows([RowState.FAILED]))
            assert all(row.retryable is False and row.http_status == 400 for row in failed)

        assert FailureLimit.parse("10%").threshold(20) == 2


def test_retry_takes_retryable_failures_and_all_replans_conflicts(tmp_path: Path) -> None:
    with sandbox(generate=3) as running:
        prepared, _ = plan(tmp_path, running, RENAME_ALL)
        ids = [s["id"] for s in running.scenarios()]
        running.edit_scenario(ids[0], {"description": "someone else"})
        running.set_faults(error_rates={503: 1.0}, methods={"PUT"})

        first = apply_run(prepared.run_dir, connect(running), NO_SIGNALS)

        assert first.counts["conflict"] == 1 and first.counts["failed"] == 9
        assert running.put_counts() == {}
        running.set_faults(Faults())

        retried = retry_run(prepared.run_dir, connect(running), NO_SIGNALS)
        assert retried.counts["updated"] == 9 and retried.counts["conflict"] == 1
        assert not retried.ok

        everything = retry_run(prepared.run_dir, connect(running), NO_SIGNALS, all_rows=True)
        assert everything.ok and everything.counts["updated"] == 10
        replanned = running.scenario(ids[0])
        assert replanned is not None and replanned["description"] == "someone else (v2)"
        assert set(running.put_counts().values()) == {1}


def test_runs_refuse_the_wrong_target(tmp_path: Path) -> None:
    with sandbox() as running, sandbox() as other:
        prepared, _ = plan(tmp_path, running, RENAME_ALL)
        with pytest.raises(ConfigError, match="was planned against"):
            apply_run(prepared.run_dir, connect(other), NO_SIGNALS)
        assert other.put_counts() == {}
    with pytest.raises(JournalError):
        apply_run(tmp_path / "nowhere", connect(running), NO_SIGNALS)


def test_an_unfinished_plan_cannot_be_applied(tmp_path: Path) -> None:
    with sandbox() as running:
        prepared, _ = plan(tmp_path, running, RENAME_ALL)
        with journal_of(prepared.run_dir) as journal:
            journal.set_metadata({"plan_finished_at": ""})  # as if the plan was interrupted
        with pytest.raises(ConfigError, match="did not finish"):
            apply_run(prepared.run_dir, connect(running), NO_SIGNALS)
        assert running.put_counts() == {}


def test_run_folder_needs_room_before_any_write(tmp_path: Path) -> None:
    from migrate.engine.runfolder import check_writable

    check_writable(tmp_path)
    with pytest.raises(ConfigError, match="MB free"):
        check_writable(tmp_path, min_free=1 << 62)
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing behind


def test_run_reads_each_scenario_once_in_its_write_turn_and_apply_of_a_plan_reads_again(
    tmp_path: Path,
) -> None:
    rows = [{"scenario_id": "*", "rule": "rename", "description": "{description} (once)"}]
    with sandbox(generate=13) as running:
        prepared = prepare_run(write_sheet(tmp_path / "run.csv", rows), out=tmp_path / "run")
        tally = run_sheet(prepared, connect(running), NO_SIGNALS)
        assert tally.ok and tally.counts["updated"] == 20, tally.as_json()
        per_scenario = Counter(
            (entry.method, entry.scenario_id)
            for entry in running.request_log()
            if entry.scenario_id is not None
        )
        # the plan read is the guard of the write: one GET and one PUT per scenario
        assert set(per_scenario.values()) == {1}
        assert len(per_scenario) == 40

    with sandbox(generate=13) as running:
        prepared, _ = plan(tmp_path, running, rows, name="planned")
        running.reset_log()
        apply_run(prepared.run_dir, connect(running), NO_SIGNALS)
        gets = [e for e in running.request_log() if e.method == "GET" and e.scenario_id]
        # a plan read earlier is re-read in the write turn before its PUT
        assert len(gets) == 20
