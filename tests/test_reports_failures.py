"""failures.csv as an error file (issue 12.1): one line per sheet row × scenario that did not end
well, the sheet row's own cells first, then outcome, http_status and error; a valid sheet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result
from test_reports_sample import E164, E164_NEW, sample_data

from migrate.cli import cli
from migrate.config import Rate
from migrate.reports import ReportData, ReportFiles, ReportRow, SheetStep, write_reports
from migrate.reports.data import ERROR_FILE_STATES, ReportChange
from migrate.reports.failures import ROLLBACK_CONFLICT_OUTCOME, failures_frame
from migrate.sandbox import Account, Faults, RunningSandbox, SandboxConfig, start_sandbox
from migrate.sheet import read_sheet

KEY = "f41lur3s-t3st-k3y"
FAST = ["--write-rate", "50/1s", "--read-rate", "500/1s", "--timeout", "5", "--no-progress"]
DEMO_SHEET = Path(__file__).resolve().parent.parent / "migrate" / "examples" / "demo-sheet.csv"
MISSING_ID = "0" * 31 + "1"


def _id(n: int) -> str:
    return f"{n:032X}"


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def invoke(*args: str) -> Result:
    env = {"INFOBIP_API_KEY": KEY, "INFOBIP_TOKEN": None, "INFOBIP_USERNAME": None}
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def files(tmp_path: Path) -> ReportFiles:
    return write_reports(tmp_path / "run", sample_data(), dry_run=False)


def test_one_line_per_sheet_row_and_scenario_that_did_not_end_well(files: ReportFiles) -> None:
    failures = read_csv(files.failures)
    got = list(zip(failures["scenario_id"], failures["#sheet_row"], strict=True))
    assert got == [
        (_id(3), "2"),  # invalid, no change known: every row that targeted it
        (_id(3), "3"),
        (_id(4), "4"),  # not found
        (_id(5), "2"),  # conflict: only its sms-sender row changed it (sheet row journaled)
        (_id(6), "4"),  # failed (retryable), read failed: its rows
        (_id(7), "3"),  # failed (permanent): only its url rule changed it (older journal)
        (_id(9), "4"),  # rollback conflict
    ]
    states = {row.scenario_id: row.state for row in sample_data().rows}
    assert {states[sid] for sid in failures["scenario_id"]} == set(ERROR_FILE_STATES)


def test_the_sheet_rows_own_cells_come_first_then_outcome_status_and_error(
    files: ReportFiles,
) -> None:
    failures = read_csv(files.failures)
    assert list(failures.columns) == [
        "scenario_id",
        "rule",
        "old",
        "new",
        "find",
        "replace",
        "note",
        "outcome",
        "http_status",
        "error",
        "#sheet_row",
    ]
    by_key = {(r["scenario_id"], r["#sheet_row"]): r for r in failures.to_dict("records")}
    not_found = by_key[(_id(4), "4")]
    assert (not_found["rule"], not_found["old"], not_found["new"]) == ("number", E164, E164_NEW)
    assert not_found["outcome"] == "not found"
    assert not_found["http_status"] == "404"
    assert not_found["error"] == "NotFound: no scenario with this id"
    retryable = by_key[(_id(6), "4")]
    assert (retryable["outcome"], retryable["http_status"]) == ("failed (retryable)", "503")
    assert retryable["error"] == "ServerError: =cmd() service unavailable"
    conflict = by_key[(_id(5), "2")]
    assert (conflict["old"], conflict["new"], conflict["note"]) == (
        "Nordlicht",
        "NordBrand",
        "rebrand",
    )
    assert conflict["outcome"] == "conflict" and conflict["http_status"] == ""
    invalid = by_key[(_id(3), "2")]
    assert invalid["outcome"] == "invalid"
    assert "sender id 'NordBrandLongName' is too long" in invalid["error"]
    permanent = by_key[(_id(7), "3")]
    assert permanent["error"].startswith("BadRequest: Request body is not valid.")
    assert "\n" not in "".join(failures["error"])


def test_a_rollback_conflict_line_says_running_it_does_not_undo(files: ReportFiles) -> None:
    failures = read_csv(files.failures)
    line = failures[failures["scenario_id"] == _id(9)].iloc[0]
    assert line["outcome"] == ROLLBACK_CONFLICT_OUTCOME
    assert "does not undo" in line["outcome"]


def test_check_accepts_the_error_file_and_reads_back_the_sheet_rows(files: ReportFiles) -> None:
    checked = invoke("check", str(files.failures))
    assert checked.exit_code == 0, checked.output
    rows = read_sheet(files.failures)
    failures = read_csv(files.failures)
    assert [(str(r.target), r.rule) for r in rows] == list(
        zip(failures["scenario_id"], failures["rule"], strict=True)
    )
    numbers = [r for r in rows if r.rule == "number"]
    assert numbers[0].params == {"old": E164, "new": E164_NEW}  # verbatim: no apostrophe
    assert {r.note for r in rows if r.rule == "sms-sender"} == {"rebrand"}


@pytest.mark.parametrize(
    "header",
    ["outcome,http_status,error", "Outcome,HTTP Status,Error", "error,outcome,http-status"],
)
def test_the_sheet_ignores_the_error_file_columns(tmp_path: Path, header: str) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        f"scenario_id,rule,new,{header}\n"
        f"{_id(1)},sms-sender,NordBrand,failed (retryable),503,ServerError: down\n",
        encoding="utf-8",
    )
    rows = read_sheet(sheet)
    assert [(r.rule, r.params, r.cells) for r in rows] == [
        ("sms-sender", {"new": "NordBrand"}, {"new": "NordBrand"})
    ]


def test_a_rule_repeated_by_two_selectors_is_one_line(tmp_path: Path) -> None:
    """Without sheet rows on the changes, the rows of the changing rule stand in; two rows with
    the same rule and cells (``*`` and ``name:…``) would make a sheet ``check`` refuses."""
    cells = {"old": "Nordlicht", "new": "NordBrand"}
    steps = (
        SheetStep("sms-sender", cells, 2, target="*"),
        SheetStep("sms-sender", cells, 3, target="name:Order*"),
        SheetStep("url", {"find": "a", "replace": "b"}, 4, target="*"),
    )
    change = ReportChange(
        _id(1), "script[0]", "sendSms.from", "Nordlicht", "NordBrand", "sms-sender"
    )
    data = ReportData(
        rows=[ReportRow(_id(1), "x", "failed", steps, retryable=True, http_status=502)],
        changes=[change],
    )
    frame = failures_frame(data)
    assert list(frame["#sheet_row"]) == [2]
    path = tmp_path / "failures.csv"
    write_reports(tmp_path, data, dry_run=False)
    assert invoke("check", str(path)).exit_code == 0


@pytest.fixture
def running() -> Iterator[RunningSandbox]:
    config = SandboxConfig(accounts=(Account("ops", api_keys=(KEY,)),), write_rate=Rate(50, 1.0))
    with start_sandbox(config) as sandbox:
        yield sandbox


def test_a_run_with_a_missing_id_and_two_failed_writes(
    running: RunningSandbox, tmp_path: Path
) -> None:
    """The issue's run: the error file lists the not-found row and, for the two failed writes,
    only the rows that changed those scenarios; ``run`` on it retries exactly those."""
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        DEMO_SHEET.read_text("utf-8") + f"{MISSING_ID},sms-sender,NordlichtOD,Nordlicht,,,gone\n",
        encoding="utf-8",
    )
    base = ["--base-url", running.base_url, *FAST, "--concurrency", "1"]
    run_dir = tmp_path / "run"
    running.set_faults(sequence=(400, 400), methods={"PUT"})
    done = invoke("run", str(sheet), "--out", str(run_dir), "--yes", *base)
    assert done.exit_code == 1, done.output
    results = read_csv(run_dir / "results.csv").set_index("scenario_id")
    failed = sorted(results.index[results["state"] == "failed"])
    assert len(failed) == 2 and results.loc[MISSING_ID, "state"] == "not_found"
    changes = read_csv(run_dir / "changes.csv")

    failures = read_csv(run_dir / "failures.csv")
    assert MISSING_ID in set(failures["scenario_id"])
    assert sorted(set(failures["scenario_id"])) == sorted([*failed, MISSING_ID])
    sheet_rows = read_sheet(sheet)
    for sid in failed:
        lines = failures[failures["scenario_id"] == sid]
        rules_that_changed = set(changes.loc[changes["scenario_id"] == sid, "rule"])
        assert set(lines["rule"]) == rules_that_changed
        # every row of the sheet targets it through the two `*` rows at least; only those
        # whose rule changed something are listed
        assert len(lines) < len(sheet_rows)
        assert set(lines["outcome"]) == {"failed (permanent)"}
        assert set(lines["http_status"]) == {"400"}
    missing = failures[failures["scenario_id"] == MISSING_ID]
    assert list(missing["outcome"]) == ["not found"] and list(missing["note"]) == ["gone"]

    assert invoke("check", str(run_dir / "failures.csv")).exit_code == 0
    running.set_faults(Faults())
    before = running.put_counts()
    again = invoke("run", str(run_dir / "failures.csv"), "--out", str(tmp_path / "again"),
                   "--yes", *base)  # fmt: skip
    assert again.exit_code == 1, again.output  # the missing id is still missing
    after = running.put_counts()
    assert {sid for sid in after if after[sid] != before.get(sid, 0)} == set(failed)
    retried = read_csv(tmp_path / "again" / "results.csv").set_index("scenario_id")
    assert dict(retried["state"]) == {**dict.fromkeys(failed, "updated"), MISSING_ID: "not_found"}
