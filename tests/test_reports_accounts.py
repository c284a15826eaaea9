"""Reports of a run over several accounts (issue 14.4): an account column in results, changes
and failures, and a per-account table (rows, updated, problems, writes, rate against the limit)
in the summary, report.html, report.xlsx and ``status``; a run over one account is unchanged."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from rich.console import Console
from test_reports_journal import build_journal, sheet_ref

from migrate.config import Rate
from migrate.engine import ApplyOptions, Connection, apply_run, plan_run, prepare_run
from migrate.errors import SheetError
from migrate.journal import JOURNAL_FILE, Journal, in_flight_write, rows_write, state_write
from migrate.reports import report_data_from_run, summarise, write_reports, write_run_reports
from migrate.reports.data import ERROR_FILE_STATES
from migrate.reports.tables import CHANGES_COLUMNS, RESULTS_COLUMNS
from migrate.reports.terminal import print_summary
from migrate.sandbox import SandboxConfig
from migrate.sandbox.accounts import start_accounts_sandbox
from migrate.sheet import check_accounts, read_sheet
from migrate.vocabulary import AttemptKind, Meta, Operation, PlannedChange, PlannedRow, RowState
from transforms.body import fingerprint

T0 = 1_771_236_000.0
ORDER_STATUS = "49CE29A1153455B82A1D5D9E0C54F3BE"  # a seed scenario that sends as Nordlicht
ACCOUNTS = {
    "eu": {"base_url": "https://eu.api.example", "target": "eu", "write_rate": "6/60s"},
    "us": {"base_url": "https://us.api.example", "target": "us", "write_rate": "12/60s"},
}
SHEET = (
    "account,scenario_id,rule,old,new,note\n"
    "eu,*,sms-sender,Nordlicht,NordBrand,eu rebrand\n"
    "us,*,sms-sender,Nordlicht,NordBrandUS,us rebrand\n"
)
A, B, C = (f"{n:032X}" for n in (0xA, 0xB, 0xC))
#: Scenario ids are the same in both accounts (the sandbox seeds them alike): every report
#: must keep the two apart. Final states by account and id.
FINAL = {
    "eu": {A: RowState.UPDATED, B: RowState.UPDATED, C: RowState.FAILED},
    "us": {A: RowState.UPDATED, B: RowState.CONFLICT, C: RowState.UPDATED},
}
#: Every PUT: account, scenario id, start (seconds after the apply started), HTTP status. eu
#: writes every 10 s (6/min: the whole of its 6/60s), us every 20 s (3/min: 25 % of 12/60s).
PUTS = [
    ("eu", A, 0, 200),
    ("eu", B, 10, 200),
    ("eu", C, 20, 503),
    ("us", A, 0, 200),
    ("us", C, 20, 429),
    ("us", C, 40, 200),
]


def body(sender: str, name: str) -> dict[str, Any]:
    return {"name": name, "script": [{"sendSms": {"from": sender, "to": "${from}", "text": "x"}}]}


def build_accounts_journal(folder: Path, *, apply: bool = True) -> None:
    """A run over the accounts eu and us, written through the journal's public API."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sheet.csv").write_text(SHEET, encoding="utf-8")
    sheet = {row.account: row for row in read_sheet(folder / "sheet.csv")}
    meta = {
        Meta.RUN_ID: "two-accounts",
        Meta.BASE_URL: ACCOUNTS["eu"]["base_url"],
        Meta.WRITE_RATE: "6/60s",
        Meta.SHEET_NAME: "sheet.csv",
        Meta.SHEET_COPY: "sheet.csv",
        Meta.PLAN_STARTED_AT: str(T0),
        Meta.ACCOUNTS: json.dumps(ACCOUNTS),
    }
    journal = Journal.create(folder / JOURNAL_FILE, {str(k): v for k, v in meta.items()})
    planned = []
    for account, finals in FINAL.items():
        new = "NordBrand" if account == "eu" else "NordBrandUS"
        for sid in finals:
            name = f"{account} scenario {sid}"
            change = PlannedChange(
                "script[0]", "sendSms.from", "Nordlicht", new, "sms-sender", sheet[account].row
            )
            planned.append(
                PlannedRow(
                    scenario_id=sid,
                    name=name,
                    sheet_refs=[sheet_ref(sheet[account])],
                    state=RowState.PLANNED,
                    read_body=body("Nordlicht", name),
                    planned_body=body(new, name),
                    changes=[change],
                    account=account,
                )
            )
    journal.commit(rows_write(planned))
    journal.set_metadata({Meta.PLAN_FINISHED_AT: str(T0 + 5)})
    if apply:
        _apply(journal)
    journal.flush()
    journal.close()


def _apply(journal: Journal) -> None:
    journal.set_metadata({Meta.APPLY_STARTED_AT: str(T0 + 10)})
    ids = {(r.account, r.scenario_id): r.id for r in journal.rows(bodies=False)}
    for account, sid, offset, status in PUTS:
        journal.commit(in_flight_write(ids[(account, sid)], None, Operation.APPLY))
        journal.record_attempt(
            row_id=ids[(account, sid)],
            scenario_id=sid,
            operation=Operation.APPLY,
            kind=AttemptKind.PUT,
            method="PUT",
            path=f"/voice/ivr/1/scenarios/{sid}",
            started_at=T0 + 10 + offset,
            duration=0.1,
            status=status,
            error_class=None if status < 400 else "HttpError",
            account=account,
        )
    for (account, sid), row_id in ids.items():
        state = FINAL[account][sid]
        if state is RowState.FAILED:
            journal.commit(
                state_write(
                    row_id,
                    state,
                    Operation.APPLY,
                    retryable=True,
                    http_status=503,
                    error_class="ServerError",
                    error_text="unavailable",
                )
            )
        elif state is RowState.CONFLICT:
            journal.commit(state_write(row_id, state, Operation.APPLY, error_text="changed"))
        else:
            final = fingerprint(body(sid, account))
            journal.commit(state_write(row_id, state, Operation.APPLY, final_fingerprint=final))
    journal.set_metadata({Meta.APPLY_FINISHED_AT: str(T0 + 60)})


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    build_accounts_journal(tmp_path / "run")
    return tmp_path / "run"


def test_results_and_changes_carry_each_rows_account(run_folder: Path) -> None:
    files = write_reports(run_folder, report_data_from_run(run_folder), dry_run=False)
    results = read_csv(files.results)
    assert list(results.columns) == ["account", *RESULTS_COLUMNS]
    got = [(r["account"], r["scenario_id"], r["state"]) for r in results.to_dict("records")]
    assert got == [
        (a, sid, str(state)) for a, finals in FINAL.items() for sid, state in finals.items()
    ]
    # the same id in two accounts: each row counts its own change, names its own name
    assert list(results["changes"]) == ["1"] * 6
    changes = read_csv(files.changes)
    assert list(changes.columns) == ["account", *CHANGES_COLUMNS]
    assert [
        (c["account"], c["scenario_id"], c["after"], c["scenario_name"])
        for c in changes.to_dict("records")
    ] == [
        (a, sid, "NordBrand" if a == "eu" else "NordBrandUS", f"{a} scenario {sid}")
        for a, finals in FINAL.items()
        for sid in finals
    ]


def test_failures_keep_the_account_column_and_read_back_for_those_accounts(
    run_folder: Path,
) -> None:
    files = write_reports(run_folder, report_data_from_run(run_folder), dry_run=False)
    failures = read_csv(files.failures)
    assert list(failures.columns[:3]) == ["account", "scenario_id", "rule"]
    rows = read_sheet(files.failures)
    check_accounts(rows, {"eu", "us"}, str(files.failures))
    cells = {"old": "Nordlicht"}
    assert [(r.account, str(r.target), r.rule, r.cells) for r in rows] == [
        ("eu", C, "sms-sender", {**cells, "new": "NordBrand"}),
        ("us", B, "sms-sender", {**cells, "new": "NordBrandUS"}),
    ]
    with pytest.raises(SheetError) as refused:
        check_accounts(rows, {"eu"}, str(files.failures))
    assert [(p.row, p.column) for p in refused.value.problems] == [(3, "account")]


def test_per_account_counts_of_rows_writes_and_rate_against_the_limit(run_folder: Path) -> None:
    summary = summarise(report_data_from_run(run_folder))
    got = {
        part.account: (
            part.scenarios,
            part.updated,
            part.problems,
            part.writes,
            part.writes_ok,
            part.rate_limited,
            part.write_rate_per_min,
            part.configured_write_rate,
            part.share_of_limit,
        )
        for part in summary.by_account
    }
    assert got == {
        "eu": (3, 2, 1, 3, 2, 0, pytest.approx(6.0), "6/60s", pytest.approx(1.0)),
        "us": (3, 2, 1, 3, 2, 1, pytest.approx(3.0), "12/60s", pytest.approx(0.25)),
    }
    assert [part.base_url for part in summary.by_account] == [
        ACCOUNTS["eu"]["base_url"],
        ACCOUNTS["us"]["base_url"],
    ]
    # the run's figures are the sum; no single limit stands for the run
    assert (summary.writes, summary.rate_limited, summary.configured_write_rate) == (6, 1, None)
    # rule counts keep the two "A" scenarios apart
    assert [(r.rule, r.matched, r.changed, r.written) for r in summary.by_rule] == [
        ("sms-sender", 6, 6, 4)
    ]
    assert [p["account"] for p in summary.to_dict()["by_account"]] == ["eu", "us"]


def test_report_html_xlsx_and_status_show_the_per_account_table(run_folder: Path) -> None:
    files, summary = write_run_reports(run_folder)
    html = files.html.read_text("utf-8")
    table = html.split('<table class="grid" id="by-account">')[1].split("</table>")[0]
    eu = table.split('<tr data-account="eu">')[1].split("</tr>")[0]
    us = table.split('<tr data-account="us">')[1].split("</tr>")[0]
    assert "<td>6.0</td><td>6/60s</td><td>100.0</td>" in eu
    assert "<td>3.0</td><td>12/60s</td><td>25.0</td>" in us
    assert '<div data-fact="accounts"><dt>2 accounts</dt><dd>eu, us</dd></div>' in html
    assert f'data-scenario-id="{B}" data-account="us"' in html
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    cells = [row for row in load_workbook(files.xlsx)["summary"].iter_rows(values_only=True)]
    block = [row[0] for row in cells].index("By account")
    assert cells[block + 1][:3] == ("account", "scenarios", "updated")
    assert cells[block + 2][:4] == ("eu", 3, 2, 1) and cells[block + 2][9] == 100
    assert cells[block + 3][:4] == ("us", 3, 2, 1) and cells[block + 3][9] == 25
    stream = io.StringIO()
    print_summary(summary, Console(file=stream, width=160))
    lines = [line.replace("│", " ").split() for line in stream.getvalue().splitlines()]
    assert ["By", "account"] in lines
    assert ["eu", "3", "2", "1", "2", "of", "3", "0", "6.00/min", "6/60s", "100%"] in lines
    assert ["us", "3", "2", "1", "2", "of", "3", "1", "3.00/min", "12/60s", "25%"] in lines


def test_a_dry_run_over_several_accounts_takes_as_long_as_the_slowest_account(
    tmp_path: Path,
) -> None:
    build_accounts_journal(tmp_path / "run", apply=False)
    data = report_data_from_run(tmp_path / "run")
    summary = summarise(data, dry_run=True)
    # eu: 3 writes at 6/60s = 30 s; us: 3 writes at 12/60s = 15 s; written at once
    assert [(p.account, p.planned_writes, p.eta) for p in summary.by_account] == [
        ("eu", 3, 30.0),
        ("us", 3, 15.0),
    ]
    assert summary.eta == 30.0
    html = write_reports(tmp_path / "run", data, dry_run=True, summary=summary).html
    banner = html.read_text("utf-8").split('id="dry-run">')[1].split("</p>")[0]
    assert "the slowest, <strong>eu</strong> (3 writes at 6/60s), takes about" in banner
    assert "<strong>30.0 s</strong>" in banner
    stream = io.StringIO()
    print_summary(summary, Console(file=stream, width=160))
    assert "written at once: about 30.0 s, eu last" in stream.getvalue()


def test_a_run_over_one_account_keeps_its_reports_without_accounts(tmp_path: Path) -> None:
    build_journal(tmp_path / "run").close()
    files, summary = write_run_reports(tmp_path / "run")
    assert list(read_csv(files.results).columns) == list(RESULTS_COLUMNS)
    assert list(read_csv(files.changes).columns) == list(CHANGES_COLUMNS)
    assert read_csv(files.failures).columns[0] == "scenario_id"
    assert summary.by_account == [] and summary.to_dict()["by_account"] == []
    assert summary.configured_write_rate == "6/60s"
    html = files.html.read_text("utf-8")
    assert 'id="by-account"' not in html and "data-account" not in html
    assert '<div data-fact="base-url"><dt>account</dt>' in html
    from openpyxl import load_workbook

    first_cells = [
        row[0] for row in load_workbook(files.xlsx)["summary"].iter_rows(values_only=True)
    ]
    assert "By account" not in first_cells
    stream = io.StringIO()
    print_summary(summary, Console(file=stream, width=160))
    assert "By account" not in stream.getvalue()


def test_failures_of_a_run_over_two_accounts_replan_exactly_those_rows(tmp_path: Path) -> None:
    fast = Rate(40, 0.5)
    with start_accounts_sandbox(["eu", "us"], SandboxConfig(write_rate=fast)) as sandbox:
        only_eu = sandbox.add_scenario(body("Nordlicht", "only in eu"), account="eu")["id"]
        missing = "0" * 31 + "1"
        rows = [
            ("eu", ORDER_STATUS),  # updated in eu
            ("us", ORDER_STATUS),  # updated in us (the same id)
            ("eu", only_eu),  # updated
            ("us", only_eu),  # not found: the id is eu's
            ("eu", missing),  # not found
        ]
        sheet = tmp_path / "sheet.csv"
        sheet.write_text(
            "account,scenario_id,rule,old,new\n"
            + "".join(f"{a},{sid},sms-sender,Nordlicht,NordBrand\n" for a, sid in rows),
            encoding="utf-8",
        )
        connections = [
            Connection(
                sandbox.base_url,
                sandbox.credentials(name),
                read_rate=Rate(2000, 1.0),
                write_rate=fast,
                timeout=5.0,
                account=name,
                target=name,
            )
            for name in ("eu", "us")
        ]
        prepared = prepare_run(sheet, out=tmp_path / "run")
        plan_run(prepared, connections, handle_signals=False)
        apply_run(prepared.run_dir, connections, ApplyOptions(handle_signals=False))
        files, summary = write_run_reports(prepared.run_dir)
        assert {p.account: (p.updated, p.problems, p.writes) for p in summary.by_account} == {
            "eu": (2, 1, sum(sandbox.put_counts(account="eu").values())),
            "us": (1, 1, sum(sandbox.put_counts(account="us").values())),
        }
        again = read_sheet(files.failures)
        check_accounts(again, {"eu", "us"}, str(files.failures))
        replanned = prepare_run(files.failures, out=tmp_path / "again")
        plan_run(replanned, connections, handle_signals=False)
    with Journal.open(replanned.run_dir / JOURNAL_FILE) as journal:
        got = [(r.account, r.scenario_id, r.state) for r in journal.rows(bodies=False)]
    assert sorted(got) == [("eu", missing, RowState.NOT_FOUND), ("us", only_eu, RowState.NOT_FOUND)]
    with Journal.open(prepared.run_dir / JOURNAL_FILE) as journal:
        bad = {(r.account, r.scenario_id) for r in journal.rows(ERROR_FILE_STATES, bodies=False)}
    assert bad == {(a, sid) for a, sid, _ in got}
