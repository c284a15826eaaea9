"""Reports built from a real journal (SQLite, public API only), checked against that journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from migrate.journal import JOURNAL_FILE, Journal, in_flight_write, rows_write, state_write
from migrate.reports import report_data_from_journal, report_data_from_run, write_reports
from migrate.reports.data import REPLAN_STATES
from migrate.sheet import SheetRow, read_sheet
from migrate.vocabulary import (
    AttemptKind,
    Operation,
    PlannedChange,
    PlannedRow,
    Problem,
    RowState,
    SheetRef,
)
from transforms.body import fingerprint

T0 = 1_771_236_000.0
SHEET = (
    "scenario_id,rule,old,new,find,replace,note\n"
    "*,sms-sender,Nordlicht,NordBrand,,,rebrand\n"
    "*,url,,,https://orders.nordlicht-outdoor.example,https://orders.nordbrand.example,\n"
    "*,number,+41793026727,+41793026728,,,\n"
)


def sheet_ref(row: SheetRow) -> SheetRef:
    """A sheet row as the engine journals it."""
    return SheetRef(
        file=row.file,
        row=row.row,
        target=str(row.target),
        rule=row.rule,
        params=json.loads(json.dumps(row.params, default=str)),
        cells=dict(row.cells),
        note=row.note,
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
    steps = read_sheet(sheet)
    journal = Journal.create(
        folder / JOURNAL_FILE,
        {
            "run_id": "journal-run",
            "tool_version": "0.1.0",
            "operator": "tester",
            "base_url": "http://127.0.0.1:9",
            "sheet_name": "sheet.csv",
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


def test_failures_replan_the_original_rows_with_their_rules(run_folder: Path) -> None:
    files = write_reports(run_folder, report_data_from_run(run_folder), dry_run=False)
    original = read_sheet(run_folder / "sheet.csv")
    again = read_sheet(files.failures)
    with Journal.open(run_folder / JOURNAL_FILE) as journal:
        failed = [r.scenario_id for r in journal.rows(REPLAN_STATES, bodies=False)]
    assert failed == [_id(5), _id(6), _id(7)]
    assert [(str(r.target), r.rule, r.cells, r.params) for r in again] == [
        (sid, step.rule, step.cells, step.params) for sid in failed for step in original
    ]


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
