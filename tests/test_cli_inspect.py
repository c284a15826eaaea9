"""Looking at runs without touching the API: ``show``, ``status`` (one run, or all of them),
the sheet rows a plan names because they changed nothing, and what ``inventory`` prints."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from test_cli_engine import DEMO_SHEET, KEY, READS, invoke
from test_engine_support import sandbox, write_sheet

from migrate.journal import JOURNAL_FILE, SCHEMA_VERSION, Journal
from migrate.sandbox import Account, RunningSandbox
from migrate.vocabulary import AttemptKind


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),)) as served:
        yield served


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def plan_demo(out: Path, *extra: str) -> Path:
    ok(invoke("plan", str(DEMO_SHEET), "--sandbox", "--out", str(out), *extra, key=None))
    return out


# -- show ----------------------------------------------------------------------------------------


def test_show_prints_each_change_before_and_after(here: Path) -> None:
    run_dir = plan_demo(here / "run")
    shown = ok(invoke("show", str(run_dir))).stdout
    assert shown.startswith(f"run {run_dir.name}: 3 planned, 4 unchanged")
    assert (
        "409FF7F2506B87C59893F6DD0BD398D7  Telephone banking PIN check  would update  "
        "2 changes; sms-sender, url"
    ) in shown
    assert (
        '    script[4].if.then[1].sendSms.from: "AuroraBank" → "AuroraBk"  (sms-sender, row 3)'
    ) in shown
    assert shown.rstrip().endswith("not shown (nothing changes): 4 unchanged")

    ok(invoke("apply", str(run_dir), "--yes", "--sandbox", key=None))
    assert "Telephone banking PIN check  updated" in ok(invoke("show", str(run_dir))).stdout


def test_show_json_has_every_change_as_json_values(here: Path) -> None:
    run_dir = plan_demo(here / "run")
    data = json.loads(ok(invoke("show", str(run_dir), "--json")).stdout)
    assert data["counts"] == {"planned": 3, "unchanged": 4}
    assert data["dry_run"] is True and data["not_shown"] == {"unchanged": 4}
    assert len(data["scenarios"]) == 3
    pin = next(s for s in data["scenarios"] if s["name"] == "Telephone banking PIN check")
    assert pin["state"] == "planned" and pin["rules"] == ["sms-sender", "url"]
    assert pin["changes"][0] == {
        "path": "script[4].if.then[1].sendSms.from",
        "before": "AuroraBank",
        "after": "AuroraBk",
        "rule": "sms-sender",
        "sheet_row": 3,
    }


def test_show_prints_values_as_text_never_as_markup(here: Path) -> None:
    sheet = write_sheet(
        here / "s.csv", [{"scenario_id": "*", "rule": "rename", "name": "{name} [bold]v2[/bold]"}]
    )
    ok(invoke("plan", str(sheet), "--sandbox", "--out", "run", key=None))
    shown = ok(invoke("show", "run")).stdout
    assert '→ "City weather broadcast [bold]v2[/bold]"' in shown


def test_show_says_why_a_row_could_not_be_planned(here: Path) -> None:
    sheet = write_sheet(
        here / "s.csv",
        [{"scenario_id": "0" * 32, "rule": "sms-sender", "new": "NewBrand"}],
    )
    result = invoke("plan", str(sheet), "--sandbox", "--out", "run", key=None)
    assert result.exit_code == 1
    shown = ok(invoke("show", "run")).stdout
    assert f"{'0' * 32}  (no name)  not found  0 changes; sms-sender" in shown
    assert "    NotFound HTTP 404: GET /voice/ivr/1/scenarios/" in shown


# -- status --------------------------------------------------------------------------------------


def test_status_without_run_lists_the_runs_newest_first(here: Path) -> None:
    assert "no runs under reports/" in ok(invoke("status")).stdout
    first = plan_demo(here / "reports" / "first")
    second = plan_demo(here / "reports" / "second")
    ok(invoke("apply", str(second), "--yes", "--sandbox", "--limit", "1", key=None))
    (here / "reports" / "broken").mkdir()
    (here / "reports" / "broken" / JOURNAL_FILE).write_bytes(b"not a database" * 100)
    (here / "reports" / "inventory-1").mkdir()  # not a run: no journal

    columns = [re.split(r"\s{2,}", line) for line in ok(invoke("status")).stdout.splitlines()]
    assert columns[0] == ["RUN", "STARTED", "SHEET", "PHASE", "ROWS"]
    assert [row[0] for row in columns[1:]] == ["second", "first", "broken"]
    second_row, first_row, broken = columns[1:]
    assert second_row[2:] == [
        "demo-sheet.csv",
        "apply (unfinished)",
        "1 updated, 2 planned, 4 unchanged",
    ]
    assert first_row[2:] == ["demo-sheet.csv", "plan", "3 planned, 4 unchanged"]
    assert first_row[1] <= second_row[1]
    assert broken[1] == "unreadable" and "journal" in broken[2]

    listed = json.loads(ok(invoke("status", "--json")).stdout)
    assert [item["run_dir"] for item in listed] == [
        "reports/second",
        "reports/first",
        "reports/broken",
    ]
    assert listed[0]["finished"] is False and listed[0]["ok"] is False
    assert listed[0]["counts"] == {"updated": 1, "planned": 2, "unchanged": 4}
    assert listed[1]["phase"] == "plan" and listed[1]["sheet"] == "demo-sheet.csv"
    assert "error" in listed[2]
    assert first.is_dir()


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def test_status_json_has_typed_values_and_the_duration_of_a_limited_apply(
    here: Path, running: RunningSandbox
) -> None:
    base = ["--base-url", running.base_url]
    ok(invoke("plan", str(DEMO_SHEET), "--out", "run", *base, *READS))
    # two writes at most 2 per second: the second waits for its turn
    started = time.monotonic()
    limited = invoke("apply", "run", "--yes", "--limit", "2", *base, *READS,
                     "--write-rate", "2/1s")  # fmt: skip
    wall = time.monotonic() - started
    assert limited.exit_code == 0, limited.output

    data = json.loads(ok(invoke("status", "run", "--json")).stdout)
    assert data["ok"] is False and data["finished"] is False and data["pending"] == 1
    assert data["metadata"]["concurrency"] == 8
    assert data["metadata"]["schema_version"] == int(SCHEMA_VERSION)
    assert isinstance(data["summary"]["writes"], int)
    # every time once, as ISO 8601 text: no epoch number anywhere
    assert not [v for v in walk(data) if isinstance(v, float) and v > 1e9]
    assert set(data["times"]) == {"created", "plan_started", "plan_finished", "apply_started"}
    assert all(text.endswith("Z") and "T" in text for text in data["times"].values())

    with Journal.open(here / "run" / JOURNAL_FILE, read_only=True) as journal:
        puts = [a for a in journal.attempts() if a.kind == AttemptKind.PUT]
    span = puts[-1].started_at + puts[-1].duration - puts[0].started_at
    assert span <= data["durations_s"]["apply"] <= wall

    text = ok(invoke("status", "run")).stdout
    assert "apply (unfinished)" not in text  # the per-run view shows the summary
    apply_line = next(line for line in text.splitlines() if line.strip().startswith("apply "))
    assert apply_line.split()[-2:] != ["0.0", "s"], apply_line


def test_status_of_a_finished_run_is_ok(here: Path) -> None:
    run_dir = plan_demo(here / "run")
    assert json.loads(ok(invoke("status", str(run_dir), "--json")).stdout)["ok"] is False
    ok(invoke("apply", str(run_dir), "--yes", "--sandbox", key=None))
    data = json.loads(ok(invoke("status", str(run_dir), "--json")).stdout)
    assert data["ok"] is True and data["finished"] is True and data["pending"] == 0


# -- sheet rows that changed nothing -------------------------------------------------------------


IDLE_SHEET = [
    {"scenario_id": "*", "rule": "sms-sender", "new": "NordlichtOD", "old": "Nordlicht"},
    {"scenario_id": "*", "rule": "sms-sender", "new": "Brand", "old": "NoSuchSender"},
    {"scenario_id": "name:Nothing like this*", "rule": "sms-sender", "new": "Other"},
    {"scenario_id": "97D7570CA5C53185824F6D896957394D", "rule": "say-text", "find": "zzz",
     "replace": "y"},
]  # fmt: skip


@pytest.mark.parametrize("command", [["plan"], ["run", "--yes"]])
def test_plan_names_the_sheet_rows_that_changed_nothing(here: Path, command: list[str]) -> None:
    sheet = write_sheet(here / "s.csv", IDLE_SHEET)
    result = ok(invoke(command[0], str(sheet), *command[1:], "--sandbox", key=None))
    lines = result.stdout.splitlines()
    assert (
        "row 3 (sms-sender new=Brand old=NoSuchSender; scenario_id *): changed nothing in 7 "
        "scenarios" in lines
    )
    assert (
        "row 4 (sms-sender new=Other; scenario_id name:Nothing like this*): matched no scenario"
        in lines
    )
    assert (
        "row 5 (say-text find=zzz replace=y; scenario_id 97D7570CA5C53185824F6D896957394D): "
        "changed nothing in 1 scenario" in lines
    )
    assert not [line for line in lines if line.startswith("row 2 ")]


# -- inventory -----------------------------------------------------------------------------------


def test_inventory_prints_what_it_found_with_counts(here: Path) -> None:
    result = ok(invoke("inventory", "--sandbox", "--out", "inv", key=None))
    lines = result.stdout.splitlines()
    senders = lines.index("senders:")
    assert lines[senders + 1 : senders + 5] == [
        "  4930123456  1 scenario",
        "  AuroraBank  1 scenario",
        "  Nordlicht  1 scenario",
        "  SakuraWx  1 scenario",
    ]
    for category in ("hosts:", "audio:", "numbers:", "voices:"):
        assert category in lines
