"""Every hint the tool prints runs as printed (DESIGN §3, issue 11.5).

Each test makes the situation for real (a plan, a canary, an interrupt, a conflict, a row left in
flight), takes the command the tool printed, splits it with shlex and runs it in a child process
in the same folder and environment; where the command asks for confirmation, its stdin is a
terminal with the answer typed. Folders have spaces in their names, so quoting is exercised.
"""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_support import environment, hints, in_terminal, the_hint
from openpyxl import Workbook  # type: ignore[import-untyped]
from test_engine_support import MIGRATION_SHEET, sandbox, write_sheet

from migrate.journal import JOURNAL_FILE, Journal, in_flight_write
from migrate.sandbox import Account
from migrate.vocabulary import Operation, RowState

DEMO = Path(__file__).resolve().parent.parent / "migrate" / "examples" / "demo-sheet.csv"
KEY = "hints-test-key"
#: No INFOBIP_BASE_URL: a hint must carry --base-url itself when the run needs it.
WITH_KEY = environment(INFOBIP_API_KEY=KEY)
NO_ACCOUNT = environment()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A working folder whose name needs quoting."""
    path = tmp_path / "ivr runs (test)"
    path.mkdir()
    return path


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A command that asks nothing (it reads, or has --yes): stdin is not a terminal."""
    assert argv[0] == "ivr-migrate", argv
    return subprocess.run(
        [sys.executable, "-m", "migrate", *argv[1:]],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_next_after_a_plan_on_the_embedded_sandbox(folder: Path) -> None:
    planned = run(["ivr-migrate", "plan", str(DEMO), "--sandbox"], folder, NO_ACCOUNT)
    assert planned.returncode == 0, planned.stderr
    hint = the_hint(planned.stdout, "next:")
    assert hint[:2] == ["ivr-migrate", "apply"] and "--sandbox" in hint

    applied = in_terminal(hint, folder, NO_ACCOUNT)
    assert applied.returncode == 0, applied.stderr
    assert "3 updated, 4 unchanged" in applied.stdout


def test_next_after_a_plan_carries_the_base_url(folder: Path) -> None:
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),)) as running:
        out = folder / "run one"
        argv = ["ivr-migrate", "plan", str(DEMO), "--out", str(out), "--base-url", running.base_url]
        planned = run(argv, folder, WITH_KEY)
        assert planned.returncode == 0, planned.stderr
        hint = the_hint(planned.stdout, "next:")
        assert hint[hint.index("--base-url") + 1] == running.base_url
        assert hint[2] == str(out)

        applied = in_terminal(hint, folder, WITH_KEY)
        assert applied.returncode == 0, applied.stderr
        assert len(running.put_counts()) == 3


def test_continue_after_a_canary(folder: Path) -> None:
    argv = ["ivr-migrate", "run", str(DEMO), "--sandbox", "--yes", "--canary", "1",
            "--write-rate", "60/1s"]  # fmt: skip
    canary = run(argv, folder, NO_ACCOUNT)
    assert canary.returncode == 0, canary.stderr
    hint = the_hint(canary.stdout, "continue with:")
    assert "--sandbox" in hint and hint[-2:] == ["--write-rate", "60/1s"]

    rest = in_terminal(hint, folder, NO_ACCOUNT)
    assert rest.returncode == 0, rest.stderr
    assert "3 updated, 4 unchanged" in rest.stdout


def test_the_plans_check_suggests_run_as_printed(folder: Path) -> None:
    workbook = Workbook()
    rules = workbook.active
    rules.title = "Rules of 2026"
    for row in [["scenario_id", "rule", "new", "old"], ["*", "sms-sender", "NordBk", "Nordlicht"]]:
        rules.append(row)
    workbook.create_sheet("Notes").append(["who", "when"])
    workbook.save(folder / "rules book.xlsx")

    checked = run(["ivr-migrate", "check", "rules book.xlsx", "--sheet", "Rules of 2026"],
                  folder, NO_ACCOUNT)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    plain, on_sandbox = hints(checked.stdout)
    assert plain == ["ivr-migrate", "plan", "rules book.xlsx", "--sheet", "Rules of 2026"]
    assert on_sandbox == [*plain, "--sandbox"]

    planned = run(on_sandbox, folder, NO_ACCOUNT)
    assert planned.returncode == 0, planned.stderr
    assert "plan: 1 planned, 6 unchanged" in planned.stdout
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),)) as running:
        env = {**WITH_KEY, "INFOBIP_BASE_URL": running.base_url}
        planned = run(plain, folder, env)
        assert planned.returncode == 0, planned.stderr
        assert "plan: 1 planned, 6 unchanged" in planned.stdout


def wait_for(condition: object, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_continue_after_an_interrupted_apply(folder: Path) -> None:
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),)) as running:
        out = folder / "run"
        plan = ["ivr-migrate", "plan", str(DEMO), "--out", str(out), "--base-url", running.base_url]
        assert run(plan, folder, WITH_KEY).returncode == 0
        apply = subprocess.Popen(
            [sys.executable, "-m", "migrate", "apply", str(out), "--yes", "--write-rate", "1/1s",
             "--base-url", running.base_url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder, env=WITH_KEY,
        )  # fmt: skip
        wait_for(lambda: running.put_counts(), apply)
        apply.send_signal(signal.SIGINT)
        stdout, stderr = apply.communicate(timeout=60)
        assert apply.returncode == 130, stderr
        hint = the_hint(stdout, "interrupted:")
        assert hint[:3] == ["ivr-migrate", "apply", str(out)]

        rest = in_terminal(hint, folder, WITH_KEY)
        assert rest.returncode == 0, rest.stderr
        assert "3 updated, 4 unchanged" in rest.stdout
        assert set(running.put_counts().values()) == {1}


def test_plan_again_after_an_interrupted_plan(folder: Path) -> None:
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),), generate=40) as running:
        sheet = write_sheet(folder / "big sheet.csv", MIGRATION_SHEET)
        plan = subprocess.Popen(
            [sys.executable, "-m", "migrate", "plan", sheet.name, "--read-rate", "5/1s",
             "--base-url", running.base_url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder, env=WITH_KEY,
        )  # fmt: skip
        wait_for(lambda: len(running.request_log()) > 3, plan)
        plan.send_signal(signal.SIGINT)
        stdout, stderr = plan.communicate(timeout=60)
        assert plan.returncode == 130, stderr
        hint = the_hint(stdout, "plan the sheet again:")
        assert hint == ["ivr-migrate", "plan", sheet.name, "--base-url", running.base_url]

        again = run(hint, folder, WITH_KEY)
        assert again.returncode == 0, again.stderr
        assert "next: ivr-migrate apply" in again.stdout


def test_rows_left_in_flight_are_settled_by_the_printed_command(folder: Path) -> None:
    planned = run(["ivr-migrate", "plan", str(DEMO), "--sandbox", "--out", "run"], folder,
                  NO_ACCOUNT)  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    # as if an apply died after marking its first row in flight, before its PUT
    with Journal.open(folder / "run" / JOURNAL_FILE) as journal:
        first = next(journal.rows([RowState.PLANNED], bodies=False))
        journal.commit(in_flight_write(first.id, None, Operation.APPLY))

    rollback = run(["ivr-migrate", "rollback", "run", "--yes", "--sandbox"], folder, NO_ACCOUNT)
    hint = the_hint(rollback.stdout, "settle them with:")
    assert hint == ["ivr-migrate", "apply", "run", "--sandbox"]

    settled = in_terminal(hint, folder, NO_ACCOUNT)
    assert settled.returncode == 0, settled.stderr
    assert "3 updated, 4 unchanged" in settled.stdout


def test_retry_suggestions_run_as_printed(folder: Path) -> None:
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),), generate=3) as running:
        sheet = write_sheet(folder / "s.csv", MIGRATION_SHEET)
        plan = ["ivr-migrate", "plan", sheet.name, "--out", "run", "--base-url", running.base_url]
        assert run(plan, folder, WITH_KEY).returncode == 0
        edited = running.scenarios()[0]["id"]
        running.edit_scenario(edited, {"description": "edited meanwhile"})
        running.set_faults(error_rates={503: 1.0}, methods={"PUT"})
        applied = run(["ivr-migrate", "apply", "run", "--yes", "--write-rate", "40/0.5s",
                       "--base-url", running.base_url], folder, WITH_KEY)  # fmt: skip
        assert applied.returncode == 1, applied.stderr
        retry = the_hint(applied.stdout, "may succeed on another try")
        assert retry == ["ivr-migrate", "retry", "run", "--base-url", running.base_url,
                         "--write-rate", "40/0.5s"]  # fmt: skip
        running.set_faults()

        retried = in_terminal(retry, folder, WITH_KEY)
        assert retried.returncode == 1, retried.stderr  # the conflict is still there
        everything = the_hint(retried.stdout, "need a fresh plan")
        assert everything[:4] == ["ivr-migrate", "retry", "run", "--all"]

        replanned = in_terminal(everything, folder, WITH_KEY)
        assert replanned.returncode == 0, replanned.stderr
        assert running.scenario(edited)["description"].startswith("edited meanwhile")  # type: ignore[index]


def test_nothing_to_retry_suggests_all(folder: Path) -> None:
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),)) as running:
        plan = ["ivr-migrate", "plan", str(DEMO), "--out", "run", "--base-url", running.base_url]
        assert run(plan, folder, WITH_KEY).returncode == 0
        conflicted = "97D7570CA5C53185824F6D896957394D"
        running.edit_scenario(conflicted, {"description": "edited meanwhile"})
        applied = run(["ivr-migrate", "apply", "run", "--yes", "--base-url", running.base_url],
                      folder, WITH_KEY)  # fmt: skip
        assert applied.returncode == 1

        # without --base-url: the hint takes the run's own from its journal
        running.reset_log()
        nothing = run(["ivr-migrate", "retry", "run", "--yes"], folder, WITH_KEY)
        assert nothing.returncode == 1
        assert running.request_log() == []
        lines = nothing.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("nothing to retry:"), lines
        everything = the_hint(nothing.stderr, "nothing to retry")
        assert everything == ["ivr-migrate", "retry", "run", "--all", "--base-url",
                              running.base_url]  # fmt: skip

        done = in_terminal(everything, folder, WITH_KEY)
        assert done.returncode == 0, done.stderr
        assert "Write 1 re-planned row(s)" in done.stderr


def test_inventory_starter_sheet_hint(folder: Path) -> None:
    listed = run(["ivr-migrate", "inventory", "--sandbox", "--out", "inventory 1"], folder,
                 NO_ACCOUNT)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    hint = the_hint(listed.stdout, "starter sheet:")
    assert hint == ["ivr-migrate", "plan", "inventory 1/starter-rules.csv", "--sandbox"]
    # the operator fills in one new value and deletes the other rows
    starter = folder / "inventory 1" / "starter-rules.csv"
    with starter.open(encoding="utf-8-sig", newline="") as handle:
        header, first = list(csv.reader(handle))[:2]
    first[header.index("new")] = "NewSender"
    with starter.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, first])

    planned = run(hint, folder, NO_ACCOUNT)
    assert planned.returncode == 0, planned.stderr
    assert "planned" in planned.stdout
