"""Crash safety and interrupts: a real ``ivr-migrate apply`` process killed, then resumed.

The sandbox runs in the test process (SQLite-backed, its request log inspectable); the apply
runs in a subprocess that gets the base URL on its command line and the key in its environment.
From the sandbox's log: every planned scenario is written exactly once, none is lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_engine_support import journal_of, plan, puts_in_log, sandbox, states

from migrate.config import Rate
from migrate.sandbox import RunningSandbox
from migrate.sandbox.faults import HOLD_AFTER, HOLD_BEFORE, OK
from migrate.vocabulary import RowState

RENAME_ALL = [{"scenario_id": "*", "rule": "rename", "description": "{description} (v2)"}]
WINDOW = Rate(10, 0.5)
ROWS = 20


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[RunningSandbox, Path]]:
    with sandbox(generate=ROWS - 7, write_rate=WINDOW, db_path=tmp_path / "sandbox.sqlite") as sb:
        prepared, tally = plan(tmp_path, sb, RENAME_ALL, write_rate=WINDOW)
        assert tally.counts["planned"] == ROWS
        yield sb, prepared.run_dir


def apply_process(
    running: RunningSandbox, run_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "migrate",
        "apply",
        str(run_dir),
        "--yes",
        "--base-url",
        running.base_url,
        "--write-rate",
        str(WINDOW),
        "--concurrency",
        "4",
        "--timeout",
        "2",
        *extra,
    ]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("INFOBIP_")}
    environment = {**inherited, "INFOBIP_API_KEY": running.api_key, **(env or {})}
    return subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_puts(running: RunningSandbox, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while len(puts_in_log(running)) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.002)


def finish(running: RunningSandbox, run_dir: Path, *, after_kill: bool = False) -> None:
    """Resume until done; then every planned scenario was written exactly once."""
    process = apply_process(running, run_dir)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "20 updated" in out
    if after_kill:
        # the killed process could not release the run's lock: it is taken over, with a word
        assert "note: took over the run lock of ivr-migrate apply (pid " in err, err
    assert (run_dir / "run.lock").read_text() == ""
    assert set(states(run_dir).values()) == {"updated"}
    counts = running.put_counts()
    assert len(counts) == ROWS and set(counts.values()) == {1}, counts


@pytest.mark.parametrize("after_puts", [1, 9])
def test_sigkill_mid_apply_then_resume(world: tuple[RunningSandbox, Path], after_puts: int) -> None:
    running, run_dir = world
    process = apply_process(running, run_dir)
    wait_for_puts(running, after_puts, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    assert process.returncode == -signal.SIGKILL
    written = len(running.put_counts())
    assert after_puts <= written < ROWS

    finish(running, run_dir, after_kill=True)


@pytest.mark.parametrize(
    ("hold", "stored"),
    [(HOLD_BEFORE, False), (HOLD_AFTER, True)],
    ids=["in-flight-put-not-stored", "put-stored-outcome-not-journaled"],
)
def test_sigkill_at_exact_points_then_resume(
    world: tuple[RunningSandbox, Path], hold: str, stored: bool
) -> None:
    # The sandbox holds the third PUT without answering, before or after storing it, and logs
    # it the moment it holds it; the process is killed from outside at that moment: its row is
    # committed in flight, and the PUT was not stored (resume sends it) or was stored without
    # its outcome reaching the journal (resume finds it done and sends nothing).
    running, run_dir = world
    running.set_faults(sequence=(OK, OK, hold), methods={"PUT"})
    process = apply_process(running, run_dir, "--concurrency", "1")
    deadline = time.monotonic() + 30
    while not [entry for entry in running.request_log() if entry.outcome.startswith("held")]:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)
    running.set_faults()

    assert len(puts_in_log(running)) == 3
    with journal_of(run_dir) as journal:
        stuck = list(journal.rows([RowState.IN_FLIGHT]))
        assert len(stuck) == 1 and stuck[0].pre_image is not None
        assert journal.counts()["updated"] == 2
        third = stuck[0].scenario_id
    assert (third in running.put_counts()) is stored

    finish(running, run_dir)


def test_sigint_exits_130_with_a_consistent_journal(world: tuple[RunningSandbox, Path]) -> None:
    running, run_dir = world
    process = apply_process(running, run_dir, "--write-rate", "2/0.5s")
    wait_for_puts(running, 3, process)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)

    assert process.returncode == 130, err
    assert "interrupted" in out and "apply" in out
    assert "Traceback" not in err
    with journal_of(run_dir) as journal:
        counts = journal.counts()
        # every row has one state that a rerun can act on
        assert counts["updated"] + counts["planned"] + counts["in_flight"] == ROWS
        assert counts["planned"] > 0
        for row in journal.rows([RowState.IN_FLIGHT]):
            assert row.pre_image is not None
    assert set(running.put_counts().values()) == {1}

    finish(running, run_dir)


def test_sigint_during_plan_exits_130_and_the_plan_cannot_be_applied(
    tmp_path: Path, world: tuple[RunningSandbox, Path]
) -> None:
    running, _ = world
    sheet = tmp_path / "again.csv"
    sheet.write_text("scenario_id,rule,name\n*,rename,{name} (3)\n", encoding="utf-8")
    run_dir = tmp_path / "interrupted-plan"
    command = [
        sys.executable, "-m", "migrate", "plan", str(sheet), "--out", str(run_dir),
        "--base-url", running.base_url, "--read-rate", "4/1s", "--concurrency", "1",
    ]  # fmt: skip
    environment = {**os.environ, "INFOBIP_API_KEY": running.api_key}
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not (run_dir / "journal.sqlite").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)

    assert process.returncode == 130, err
    assert "plan the sheet again" in out
    refused = apply_process(running, run_dir)
    _, refusal = refused.communicate(timeout=20)
    assert refused.returncode == 2 and "did not finish" in refusal
