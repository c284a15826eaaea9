"""The report, status and inventory commands over real runs against the sandbox."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from migrate.cli import cli
from migrate.config import Rate
from migrate.journal import JOURNAL_FILE, Journal
from migrate.sandbox import Account, RunningSandbox, SandboxConfig, start_sandbox

DEMO_SHEET = Path(__file__).resolve().parent.parent / "migrate" / "examples" / "demo-sheet.csv"
KEY = "r3p0rt-t3st-k3y-n0t-t0-be-s33n"
ORDER_STATUS = "49CE29A1153455B82A1D5D9E0C54F3BE"
READS = ["--read-rate", "500/1s", "--timeout", "5", "--no-progress"]
FAST = ["--write-rate", "50/1s", *READS]
REPORT_FILES = {"results.csv", "changes.csv", "failures.csv", "report.xlsx", "report.html"}


def invoke(*args: str) -> Result:
    env = {"INFOBIP_API_KEY": KEY, "INFOBIP_TOKEN": None, "INFOBIP_USERNAME": None}
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def running() -> Iterator[RunningSandbox]:
    config = SandboxConfig(accounts=(Account("ops", api_keys=(KEY,)),), write_rate=Rate(50, 1.0))
    with start_sandbox(config) as sandbox:
        yield sandbox


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_failures_csv_replans_exactly_the_conflicted_rows(
    running: RunningSandbox, tmp_path: Path
) -> None:
    base = ["--base-url", running.base_url, *FAST]
    run_dir = tmp_path / "run"
    reads = ["--base-url", running.base_url, *READS]
    planned = invoke("plan", str(DEMO_SHEET), "--out", str(run_dir), *reads)
    assert planned.exit_code == 0, planned.output
    running.edit_scenario(ORDER_STATUS, {"description": "edited by someone else meanwhile"})
    applied = invoke("apply", str(run_dir), "--yes", *base)
    assert applied.exit_code == 1, applied.output

    reported = invoke("report", str(run_dir))
    assert reported.exit_code == 0, reported.output
    assert "2 updated, 4 unchanged, 1 conflict" in reported.stdout
    assert {p.name for p in run_dir.iterdir()} >= REPORT_FILES
    results = read_csv(run_dir / "results.csv")
    assert results.set_index("scenario_id").loc[ORDER_STATUS, "state"] == "conflict"
    failures = read_csv(run_dir / "failures.csv")
    assert set(failures["scenario_id"]) == {ORDER_STATUS}

    with Journal.open(run_dir / JOURNAL_FILE) as journal:
        original = next(r for r in journal.rows() if r.scenario_id == ORDER_STATUS)
    again = tmp_path / "again"
    replanned = invoke("plan", str(run_dir / "failures.csv"), "--out", str(again), *reads)
    assert replanned.exit_code == 0, replanned.output
    with Journal.open(again / JOURNAL_FILE) as journal:
        rows = list(journal.rows())
    assert [r.scenario_id for r in rows] == [ORDER_STATUS]
    assert [str(r.state) for r in rows] == ["planned"]
    # the error file holds the sheet rows that changed this scenario, not every row of the sheet
    changed_by = {change.sheet_row for change in original.changes}
    assert [(s.rule, s.cells) for s in rows[0].sheet_refs] == [
        (s.rule, s.cells) for s in original.sheet_refs if s.row in changed_by
    ]
    assert [(c.path, c.before, c.after) for c in rows[0].changes] == [
        (c.path, c.before, c.after) for c in original.changes
    ]


def test_status_shows_the_report_summary(running: RunningSandbox, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = invoke("run", str(DEMO_SHEET), "--out", str(run_dir), "--yes", "--base-url",
                  running.base_url, *FAST)  # fmt: skip
    assert done.exit_code == 0, done.output
    text = invoke("status", str(run_dir))
    assert text.exit_code == 0, text.output
    for expected in ("Outcomes", "Figures", "By rule", "sms-sender", "3 updated, 4 unchanged"):
        assert expected in text.stdout
    as_json = invoke("status", str(run_dir), "--json")
    data = json.loads(as_json.stdout)
    assert data["counts"]["updated"] == 3
    summary = data["summary"]
    assert summary["outcomes"] == {"updated": 3, "unchanged": 4}
    assert summary["writes"] == summary["writes_ok"] == 3
    assert summary["rate_limited"] == 0
    assert data["phase"] == "apply" and data["finished"] is True and data["ok"] is True
    assert {r["rule"] for r in summary["by_rule"]} == {"sms-sender", "url", "sms-text"}
    for result in (done, text, as_json):
        assert KEY not in result.output


def test_report_of_a_planned_run_says_would_update(running: RunningSandbox, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    planned = invoke("plan", str(DEMO_SHEET), "--out", str(run_dir), "--base-url",
                     running.base_url, *READS)  # fmt: skip
    assert planned.exit_code == 0, planned.output
    reported = invoke("report", str(run_dir))
    assert reported.exit_code == 0, reported.output
    assert "3 would update, 4 unchanged" in reported.stdout
    html = (run_dir / "report.html").read_text("utf-8")
    assert "Dry run: nothing has been written" in html
    assert "script[4].if.then[1].sendSms.from" in re.sub(r"<[^>]+>", "", html)
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_report_of_a_missing_run_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("report", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


def test_inventory_command_on_the_embedded_sandbox(tmp_path: Path) -> None:
    out = tmp_path / "inventory"
    result = invoke("inventory", "--sandbox", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scenarios"] == 7
    assert data["distinct"]["senders"] == 4 and data["distinct"]["hosts"] == 5
    names = {Path(p).name for p in data["files"]}
    assert {"inventory.xlsx", "inventory.csv", "starter-rules.csv"} <= names
    senders = read_csv(out / "inventory-senders.csv")
    assert set(senders["value"]) == {"Nordlicht", "AuroraBank", "4930123456", "SakuraWx"}
    assert "starter sheet:" in result.stderr
    assert not list(out.glob("*.sqlite")), "the sandbox store must not land in the output"


def test_inventory_against_a_base_url(running: RunningSandbox, tmp_path: Path) -> None:
    out = tmp_path / "inventory"
    result = invoke("inventory", "--base-url", running.base_url, "--out", str(out), *READS)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("7 scenarios")
    assert {entry.method for entry in running.request_log()} == {"GET"}


def test_help_never_imports_pandas() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from migrate.cli import cli\n"
        "for args in (['--help'], ['report', '--help'], ['inventory', '--help'],"
        " ['status', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
        "print('pandas' in sys.modules, 'openpyxl' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
