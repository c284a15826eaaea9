"""Stopping at once, and the account's write budget across processes (issue: stopping, errors
that escape, and the account's write budget).

Real ``ivr-migrate`` processes against a sandbox in this process that counts a strict sliding
window (compressed time); what reached the server is read from the sandbox's request log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from test_engine_support import (
    FAST_READS,
    FAST_RETRY,
    NO_SIGNALS,
    journal_of,
    plan,
    sandbox,
    states,
    write_sheet,
)

from migrate.config import Rate
from migrate.engine import Connection, ProgressEvent, apply_run, plan_run, prepare_run
from migrate.engine.options import WAIT
from migrate.sandbox import RunningSandbox
from migrate.sandbox.faults import OK
from migrate.vocabulary import RowState

RENAME_ALL = [{"scenario_id": "*", "rule": "rename", "description": "{description} (stop)"}]
ROWS = 14
#: The server's strict window, and the client's rate: the same, as for a real account.
WINDOW = Rate(4, 1.0)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[RunningSandbox, Path]]:
    with sandbox(generate=ROWS - 7, write_rate=WINDOW) as running:
        prepared, tally = plan(tmp_path, running, RENAME_ALL, write_rate=WINDOW)
        assert tally.counts["planned"] == ROWS
        yield running, prepared.run_dir


def command(
    running: RunningSandbox, verb: str, run_dir: Path, *extra: str
) -> subprocess.Popen[str]:
    args = [
        sys.executable, "-m", "migrate", verb, str(run_dir), "--yes", "--no-progress",
        "--base-url", running.base_url, "--write-rate", str(WINDOW), "--concurrency", "4",
        "--timeout", "3", *extra,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOBIP_")}
    env["INFOBIP_API_KEY"] = running.api_key
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def entries(running: RunningSandbox, method: str | None = None) -> list[tuple[float, str, int]]:
    return [
        (entry.time, entry.method, entry.status or 0)
        for entry in running.request_log()
        if method is None or entry.method == method
    ]


def wait_for(running: RunningSandbox, process: subprocess.Popen[str], puts: int) -> None:
    deadline = time.monotonic() + 30
    while len(entries(running, "PUT")) < puts:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.002)


def most_in_any_window(times: Sequence[float], period: float) -> int:
    ordered = sorted(times)
    return max(
        (sum(1 for t in ordered[i:] if t < start + period) for i, start in enumerate(ordered)),
        default=0,
    )


def test_first_sigint_sends_nothing_more_and_the_rerun_writes_each_row_once(
    world: tuple[RunningSandbox, Path],
) -> None:
    running, run_dir = world
    process = command(running, "apply", run_dir)
    wait_for(running, process, 3)
    signalled = time.time()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=20)
    took = time.time() - signalled

    assert process.returncode == 130, err
    assert "stopping: " in err and "Ctrl-C again to leave now" in err
    # no write reached the server after the signal; a read already on its way when the signal
    # came may arrive a moment later, but none starts once the process has handled it
    late_puts = [entry for entry in entries(running, "PUT") if entry[0] > signalled]
    assert late_puts == [], f"writes after the signal: {late_puts}"
    with journal_of(run_dir) as journal:
        starts = [attempt.started_at for attempt in journal.attempts()]
        # writes in flight finished; rows waiting for their turn went back to planned
        assert journal.counts()[RowState.IN_FLIGHT] == 0
    assert [t for t in starts if t > signalled + 1.0] == []
    assert "continue with: ivr-migrate apply" in out
    assert "left" in out
    assert took < 10

    rerun = command(running, "apply", run_dir)
    _, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert set(states(run_dir).values()) == {RowState.UPDATED}
    assert set(running.put_counts().values()) == {1} and len(running.put_counts()) == ROWS


def test_sigterm_while_the_server_hangs_leaves_at_once_and_sends_nothing_after(
    world: tuple[RunningSandbox, Path],
) -> None:
    running, run_dir = world
    # the connection check is answered; every read after it hangs
    running.set_faults(sequence=(OK,), hang_rate=1.0, methods={"GET"})
    process = command(running, "apply", run_dir, "--timeout", "20")
    deadline = time.monotonic() + 30
    # every worker's read hangs (4 workers)
    while len([entry for entry in running.request_log() if entry.held]) < 4:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.2)
    seen = len(running.request_log())
    signalled = time.time()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=20)

    assert process.returncode == 130, err
    # reads in flight are cancelled: far quicker than the 20 s request timeout
    assert time.time() - signalled < 5
    assert len(running.request_log()) == seen
    assert running.put_counts() == {}


def test_resume_then_rollback_right_after_a_kill_get_no_429(
    world: tuple[RunningSandbox, Path],
) -> None:
    running, run_dir = world
    process = command(running, "apply", run_dir)
    wait_for(running, process, WINDOW.count + 1)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)

    resumed = command(running, "apply", run_dir)
    _, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    rolled = command(running, "rollback", run_dir)
    _, err = rolled.communicate(timeout=60)
    assert rolled.returncode == 0, err

    assert [entry for entry in entries(running) if entry[2] == 429] == []
    puts = [entry[0] for entry in entries(running, "PUT")]
    assert most_in_any_window(puts, WINDOW.period) <= WINDOW.count
    assert set(states(run_dir).values()) == {RowState.ROLLED_BACK}


def test_two_runs_on_one_account_at_once_get_no_429_and_both_finish(tmp_path: Path) -> None:
    with sandbox(generate=ROWS - 7, write_rate=WINDOW) as running:
        ids = sorted(scenario["id"] for scenario in running.scenarios())
        halves = [ids[: ROWS // 2], ids[ROWS // 2 :]]
        runs = []
        for n, half in enumerate(halves):
            rows = [
                {"scenario_id": i, "rule": "rename", "description": "{description} 2"} for i in half
            ]
            prepared, tally = plan(tmp_path, running, rows, name=f"run{n}", write_rate=WINDOW)
            assert tally.counts["planned"] == len(half)
            runs.append(prepared.run_dir)

        processes = [command(running, "apply", run_dir) for run_dir in runs]
        for process in processes:
            _, err = process.communicate(timeout=90)
            assert process.returncode == 0, err

        assert [entry for entry in entries(running) if entry[2] == 429] == []
        puts = [entry[0] for entry in entries(running, "PUT")]
        assert len(puts) == ROWS
        assert most_in_any_window(puts, WINDOW.period) <= WINDOW.count
        for run_dir in runs:
            assert set(states(run_dir).values()) == {RowState.UPDATED}


def test_a_resume_waits_for_the_accounts_window_and_says_so(tmp_path: Path) -> None:
    slow = Rate(2, 3.0)
    with sandbox(write_rate=slow) as running:
        ids = sorted(scenario["id"] for scenario in running.scenarios())[:4]
        runs = []
        for n, pair in enumerate((ids[:2], ids[2:])):
            rows = [
                {"scenario_id": i, "rule": "rename", "description": "{description} w"} for i in pair
            ]
            prepared = prepare_run(write_sheet(tmp_path / f"{n}.csv", rows), out=tmp_path / f"r{n}")
            connection = Connection(
                running.base_url, running.credentials(), read_rate=FAST_READS, write_rate=slow,
                retry=FAST_RETRY,
            )  # fmt: skip
            plan_run(prepared, connection, handle_signals=False)
            runs.append((prepared.run_dir, connection))
        events: list[ProgressEvent] = []
        first = apply_run(runs[0][0], runs[0][1], NO_SIGNALS)
        # another process of this machine (another run, the same account) right after it
        second = apply_run(runs[1][0], runs[1][1], NO_SIGNALS, progress=events.append)
        assert first.ok and second.ok
        waits = [e.message for e in events if e.phase == WAIT and e.message]
        assert waits and all("for the account's write window" in text for text in waits)
        assert [e for e in running.request_log() if e.status == 429] == []
