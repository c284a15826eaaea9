"""Reports built from a real journal (SQLite, public API only), checked against that journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from migrate.engine.plan import sheet_ref
from migrate.journal import (
    JOURNAL_FILE,
    Journal,
    in_flight_write,
    replan_write,
    rows_write,
    state_write,
)
from migrate.reports import report_data_from_journal, report_data_from_run, write_reports
from migrate.reports.data import ERROR_FILE_STATES
from migrate.sheet import read_sheet
from migrate.vocabulary import (
    AttemptKind,
    Operation,
    PlannedChange,
    PlannedRow,
    Problem,
    RowState,
)
from transforms.body import fingerprint

T0 = 1_771_236_000.0
SHEET = (
    "scenario_id,rule,old,new,find,replace,note\n"
    "*,sms-sender,Nordlicht,NordBrand,,,rebrand\n"
    "*,url,,,https://orders.nordlicht-outdoor.example,https://orders.nordbrand.example,\n"
    "*,number,+41793026727,+41793026728,,,\n"
    "name:Nobody is called this*,sms-text,,,hello,hallo,matches no scenario\n"
)


def body(name: str, sender: str) -> dict[str, Any]:
    return {"name": name, "script": [{"sendSms": {"from": sender, "to": "${from}", "text": "hi"}}]}


def _id(n: int) -> str:
    return f"{n:032X}"


# Final state of each scenario and the operation sequence that gets it there.
PLAN = {
    1: "updated",
    2: "unchanged",
    3: "invalid",
    4: "not_found",
    5: "conflict",
    6: "failed_retryable",
    7: "failed_permanent",
    8: "rolled_back",
    9: "rollback_conflict",
    10: "planned",
    11: "in_flight",
}


def build_journal(folder: Path) -> Journal:
    folder.mkdir(parents=True, exist_ok=True)
    sheet = folder / "sheet.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    steps = read_sheet(sheet)[:3]  # the selector of the 4th row matched no scenario
    journal = Journal.create(
        folder / JOURNAL_FILE,
        {
            "run_id": "journal-run",
            "tool_version": "0.1.0",
            "operator": "tester",
            "base_url": "http://127.0.0.1:9",
            "sheet_name": "sheet.csv",
            "sheet_copy": "sheet.csv",
            "sheet_sha256": "ab" * 32,
            "created_at": str(T0),
            "plan_started_at": str(T0),
            "write_rate": "6/60s",
        },
    )
    planned = []
    for n, outcome in PLAN.items():
        read = body(f"=Scenario {n}", "Nordlicht")
        new = body(f"=Scenario {n}", "NordBrand")
        rows = [sheet_ref(step) for step in steps]
        common = {"scenario_id": _id(n), "name": read["name"], "sheet_refs": rows}
        change = PlannedChange(
            "script[0]", "sendSms.from", "Nordlicht", "NordBrand", "sms-sender", 2
        )
        if outcome == "unchanged":
            planned.append(PlannedRow(**common, state=RowState.UNCHANGED, read_body=read))
        elif outcome == "invalid":
            planned.append(
                PlannedRow(
                    **common,
                    state=RowState.INVALID,
                    read_body=read,
                    planned_body=new,
                    changes=[change],
                    validation_errors=[Problem("script[0].sendSms.from", "too long")],
                )
            )
        elif outcome == "not_found":
            planned.append(
                PlannedRow(
                    scenario_id=_id(n),
                    name=None,
                    sheet_refs=rows,
                    state=RowState.NOT_FOUND,
                    http_status=404,
                    error_class="NotFound",
                    error_text="no such scenario",
                )
            )
        else:
            planned.append(
                PlannedRow(
                    **common,
                    state=RowState.PLANNED,
                    read_body=read,
                    planned_body=new,
                    changes=[change],
                )
            )
    journal.commit(rows_write(planned))
    journal.set_metadata({"plan_finished_at": str(T0 + 5), "apply_started_at": str(T0 + 10)})
    ids = {record.scenario_id: record.id for record in journal.rows(bodies=False)}
    clock = T0 + 10
    for n, outcome in PLAN.items():
        row_id, sid = ids[_id(n)], _id(n)
        if outcome in ("unchanged", "invalid", "not_found", "planned"):
            continue
        new = body(f"=Scenario {n}", "NordBrand")
        if outcome == "conflict":
            journal.commit(
                state_write(
                    row_id, RowState.CONFLICT, Operation.APPLY, error_text="changed since the plan"
                )
            )
            continue
        journal.commit(
            in_flight_write(row_id, body(f"=Scenario {n}", "Nordlicht"), Operation.APPLY)
        )
        clock += 10
        status = {"failed_retryable": 503, "failed_permanent": 400}.get(outcome, 200)
        if outcome == "updated":
            put(journal, row_id, sid, clock - 5, 429)
        put(journal, row_id, sid, clock, status)
        if outcome == "in_flight":
            continue
        if outcome.startswith("failed"):
            journal.commit(
                state_write(
                    row_id,
                    RowState.FAILED,
                    Operation.APPLY,
                    retryable=outcome == "failed_retryable",
                    http_status=status,
                    error_class="ServerError" if status == 503 else "BadRequest",
                    error_text=f'=HYPERLINK("x") status {status}',
                )
            )
            continue
        journal.commit(
            state_write(
                row_id, RowState.UPDATED, Operation.APPLY, final_fingerprint=fingerprint(new)
            )
        )
    journal.set_metadata({"apply_finished_at": str(clock + 1)})
    journal.set_metadata({"rollback_started_at": str(clock + 2)})
    for n, state in ((8, RowState.ROLLED_BACK), (9, RowState.ROLLBACK_CONFLICT)):
        row_id = ids[_id(n)]
        if state == RowState.ROLLED_BACK:
            journal.commit(in_flight_write(row_id, None, Operation.ROLLBACK))
            put(journal, row_id, _id(n), clock + 3, 200)
        journal.commit(state_write(row_id, state, Operation.ROLLBACK))
    journal.set_metadata({"rollback_finished_at": str(clock + 4)})
    journal.flush()
    return journal


def put(journal: Journal, row_id: int, sid: str, started: float, status: int) -> None:
    journal.record_attempt(
        row_id=row_id,
        scenario_id=sid,
        operation=Operation.APPLY,
        kind=AttemptKind.PUT,
        method="PUT",
        path=f"/voice/ivr/1/scenarios/{sid}",
        started_at=started,
        duration=0.1,
        status=status,
        error_class=None if status < 400 else "HttpError",
    )


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    build_journal(folder).close()
    return folder


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_results_match_the_journal_row_by_row(run_folder: Path) -> None:
    files = write_reports(run_folder, report_data_from_run(run_folder), dry_run=False)
    results = read_csv(files.results)
    with Journal.open(run_folder / JOURNAL_FILE) as journal:
        records = list(journal.rows(bodies=False))
        counts = journal.counts()
    assert list(results["scenario_id"]) == [r.scenario_id for r in records]
    assert list(results["state"]) == [str(r.state) for r in records]
    assert results["state"].value_counts().to_dict() == {k: v for k, v in counts.items() if v}
    by_id = results.set_index("scenario_id")
    for record in records:
        got = by_id.loc[record.scenario_id]
        assert got["attempts"] == str(record.attempts)
        assert got["changes"] == str(record.change_count)
        assert got["before_fingerprint"] == (record.read_fingerprint or "")
        assert got["name"] == ("'" + record.name if record.name else "")
        assert got["rules"] == "sms-sender; url; number"
        assert got["sheet_rows"] == "2; 3; 4"
    assert by_id.loc[_id(1), "after_fingerprint"] == fingerprint(body("=Scenario 1", "NordBrand"))
    assert by_id.loc[_id(3), "error"] == "script[0].sendSms.from: too long"
    assert by_id.loc[_id(6), "outcome"] == "failed (retryable)"
    assert by_id.loc[_id(7), "outcome"] == "failed (permanent)"
    assert str(by_id.loc[_id(6), "error"]).startswith("'=HYPERLINK")
    assert by_id.loc[_id(11), "state"] == "in_flight"


def test_changes_match_the_journal(run_folder: Path) -> None:
    files = write_reports(run_folder, report_data_from_run(run_folder), dry_run=False)
    changes = read_csv(files.changes)
    with Journal.open(run_folder / JOURNAL_FILE) as journal:
        expected = [
            (r.scenario_id, c.action_path, c.field, c.before, c.after, c.rule)
            for r in journal.rows(bodies=False)
            for c in r.changes
        ]
    got = [
        (r["scenario_id"], r["action_path"], r["field"], r["before"], r["after"], r["rule"])
        for r in changes.to_dict("records")
    ]
    assert got == expected


def test_failures_list_the_rows_that_changed_each_scenario(run_folder: Path) -> None:
    files = write_reports(run_folder, report_data_from_run(run_folder), dry_run=False)
    original = {row.row: row for row in read_sheet(run_folder / "sheet.csv")}
    again = read_sheet(files.failures)
    with Journal.open(run_folder / JOURNAL_FILE) as journal:
        bad = [r.scenario_id for r in journal.rows(ERROR_FILE_STATES, bodies=False)]
    assert bad == [_id(3), _id(4), _id(5), _id(6), _id(7), _id(9)]
    # Every change was made by row 2 (sms-sender); the not-found scenario has no change, so
    # every row that targeted it is listed.
    expected_rows = {sid: [2, 3, 4] if sid == _id(4) else [2] for sid in bad}
    assert [(str(r.target), r.rule, r.cells) for r in again] == [
        (sid, original[n].rule, original[n].cells) for sid in bad for n in expected_rows[sid]
    ]
    failures = read_csv(files.failures)
    assert list(failures["#sheet_row"]) == [str(n) for sid in bad for n in expected_rows[sid]]
    assert failures["note"].iloc[0] == "rebrand"


def test_a_sheet_row_that_changed_nothing_is_named(run_folder: Path) -> None:
    from migrate.reports import summarise
    from migrate.reports.data import SheetLine

    data = report_data_from_run(run_folder)
    assert data.sheet_read
    assert data.unmatched_sheet_rows == [SheetLine(5, "sms-text", "name:Nobody is called this*")]
    summary = summarise(data)
    rows = {r.row: r for r in summary.by_sheet_row}
    assert sorted(rows) == [2, 3, 4, 5]
    assert (rows[2].matched, rows[2].changed, rows[2].changes) == (11, 9, 9)
    assert (rows[3].matched, rows[3].changed) == (11, 0)
    assert (rows[5].matched, rows[5].changed, rows[5].target) == (
        0,
        0,
        "name:Nobody is called this*",
    )
    assert [r.row for r in summary.idle_sheet_rows] == [3, 4, 5]
    files = write_reports(run_folder, data, dry_run=False)
    html = files.html.read_text("utf-8")
    assert '<tr data-sheet-row="5" class="idle">' in html
    assert "3 sheet rows changed nothing: 3, 4, 5" in html
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    table = list(load_workbook(files.xlsx)["sheet rows"].iter_rows(values_only=True))
    assert table[0][:4] == ("row", "rule", "target", "scenarios matched")
    assert table[4][:4] == (5, "sms-text", "name:Nobody is called this*", 0)
    assert table[4][-1] == "changed nothing: its scenario_id matched no scenario"


def test_a_sheet_copy_that_is_not_this_runs_sheet_is_not_read(run_folder: Path) -> None:
    (run_folder / "sheet.csv").write_text(
        "scenario_id,rule,new\n*,sms-sender,Other\n", encoding="utf-8"
    )
    data = report_data_from_run(run_folder)
    assert not data.sheet_read and data.unmatched_sheet_rows == []
    html = write_reports(run_folder, data, dry_run=False).html.read_text("utf-8")
    assert "could not be read back" in html


def test_summary_counts_requests_from_the_journal(run_folder: Path) -> None:
    from migrate.reports import summarise

    with Journal.open(run_folder / JOURNAL_FILE) as journal:
        data = report_data_from_journal(journal)
        attempt_counts = journal.attempt_counts()
    summary = summarise(data)
    assert summary.writes == attempt_counts["PUT"]
    assert summary.rate_limited == attempt_counts["rate_limited"] == 1
    assert summary.metadata["phase"] == "rollback"
    assert summary.started_at == T0
    assert set(summary.phase_durations) == {"plan", "apply", "rollback"}
    assert summary.outcomes["in_flight"] == 1


def test_a_rolled_back_run_shows_its_history_with_times(run_folder: Path) -> None:
    from migrate.reports.data import HistoryStep

    data = report_data_from_run(run_folder)
    steps = {(h.event, h.state): h for h in data.history}
    assert {key: h.scenarios for key, h in steps.items()} == {
        ("planned", "planned"): 8,
        ("planned", "unchanged"): 1,
        ("planned", "invalid"): 1,
        ("planned", "not_found"): 1,
        ("applied", "updated"): 3,
        ("applied", "conflict"): 1,
        ("applied", "failed"): 2,
        ("rollback", "rolled_back"): 1,
        ("rollback", "rollback_conflict"): 1,
    }
    assert isinstance(steps[("rollback", "rolled_back")], HistoryStep)
    assert steps[("applied", "updated")].first_at <= steps[("rollback", "rolled_back")].first_at
    # Per scenario, only the histories that say more than "planned, applied"
    assert set(data.histories) == {_id(8), _id(9)}
    assert [(e.event, e.state) for e in data.histories[_id(8)]] == [
        ("planned", "planned"),
        ("applied", "updated"),
        ("rollback", "rolled_back"),
    ]
    html = write_reports(run_folder, data, dry_run=False).html.read_text("utf-8")
    assert '<section id="history">' in html
    assert '<tr data-step="rollback" data-state="rolled_back">' in html
    box = html.split(f'data-scenario-id="{_id(8)}"')[1].split("</details>")[0]
    assert '<li data-step="rollback" data-state="rolled_back"><time>' in box
    assert "Changes the run applied, then undone by the rollback:" in box


def test_retries_and_replans_are_steps_of_the_history(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path / JOURNAL_FILE, {"run_id": "retry-run"})
    rows = [
        PlannedRow(_id(n), f"S{n}", [], RowState.PLANNED, planned_body=body("x", "y"))
        for n in (1, 2)
    ]
    journal.commit(rows_write(rows))
    first, second = (r.id for r in journal.rows(bodies=False))
    journal.commit(in_flight_write(first, None, Operation.APPLY))
    journal.commit(state_write(first, RowState.FAILED, Operation.APPLY, retryable=True))
    journal.commit(state_write(second, RowState.CONFLICT, Operation.APPLY))
    journal.commit(in_flight_write(first, None, Operation.APPLY))  # retry
    journal.commit(state_write(first, RowState.UPDATED, Operation.APPLY))
    journal.commit(replan_write(second, rows[1]))  # retry --all
    journal.commit(in_flight_write(second, None, Operation.APPLY))
    journal.commit(state_write(second, RowState.UPDATED, Operation.APPLY))
    data = report_data_from_journal(journal)
    journal.close()
    assert [(h.event, h.state, h.scenarios) for h in data.history] == [
        ("planned", "planned", 2),
        ("applied", "updated", 1),
        ("applied", "conflict", 1),
        ("applied", "failed", 1),
        ("retried", "updated", 1),
        ("re-planned", "planned", 1),
    ]
    assert [e.event for e in data.histories[_id(1)]] == ["planned", "applied", "retried"]
    assert [e.event for e in data.histories[_id(2)]] == [
        "planned",
        "applied",
        "re-planned",
        "applied",
    ]
