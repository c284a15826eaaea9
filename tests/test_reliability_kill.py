"""Reliability: ``ivr-migrate apply`` killed with SIGKILL at random points, then resumed.

Each case is seeded (reproducible): a sandbox with a SQLite store and 8–12 scenarios, a plan
that changes all of them, then ``apply RUN --yes`` in real subprocesses (credentials and base
URL from the environment only) killed after a random delay or after a random number of PUTs
seen in the sandbox's log, and started again, until one finishes. Then: no row lost (every
row ``updated``, every scenario on the sandbox equal to its planned body), no PUT stored twice,
and every run resumed to completion.

Fast variant: one run killed three times. Slow variant (``-m slow``): 20 seeded applies.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_engine_support import journal_of, plan, puts_in_log, sandbox, states

from migrate.config import Rate
from migrate.sandbox import RunningSandbox
from transforms.body import fingerprint

RENAME_ALL = [{"scenario_id": "*", "rule": "rename", "description": "{description} (kill-9)"}]
#: Compressed write limit: 10 writes per 0.5 s on both sides.
WINDOW = Rate(10, 0.5)
SEEDED = 7  # scenarios in the bundled seed folder
#: Starts of ``apply`` per case, killed or not, before the case is declared not resumable.
MAX_STARTS = 12


def apply_with_env(running: RunningSandbox, run_dir: Path) -> subprocess.Popen[str]:
    """``ivr-migrate apply RUN --yes`` with the base URL and the key from the environment."""
    command = [
        sys.executable, "-m", "migrate", "apply", str(run_dir), "--yes",
        "--write-rate", str(WINDOW), "--concurrency", "4", "--timeout", "2", "--no-progress",
    ]  # fmt: skip
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("INFOBIP_")}
    environment = {
        **inherited,
        "INFOBIP_BASE_URL": running.base_url,
        "INFOBIP_API_KEY": running.api_key,
    }
    return subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@dataclass
class Case:
    seed: int
    kills: int
    #: Kill after PUTs only (each kill lands mid-run), or by PUTs or a delay at random.
    by_puts_only: bool = False
    #: What happened, for the failure message: ("puts", n) / ("delay", s) / ("exit", 0).
    history: list[tuple[str, float]] = field(default_factory=list)


def kill_when(
    running: RunningSandbox, process: subprocess.Popen[str], rng: random.Random, case: Case
) -> tuple[str, float]:
    """Kill ``process`` after a random number of new PUTs or a random delay; or let it end."""
    unwritten = len(case_rows(running)) - len(running.put_counts())
    if case.by_puts_only or rng.random() < 0.5:
        # at most all but one of the scenarios not yet written: the kill lands mid-run
        wanted = len(puts_in_log(running)) + rng.randint(1, max(1, unwritten - 1))
        deadline = time.monotonic() + 60
        while len(puts_in_log(running)) < wanted and process.poll() is None:
            assert time.monotonic() < deadline, "apply neither wrote nor ended"
            time.sleep(0.002)
        trigger: tuple[str, float] = ("puts", wanted)
    else:
        # start-up (imports, connection check) takes a good part of a second
        delay = rng.uniform(0.2, 2.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=delay)
        trigger = ("delay", round(delay, 3))
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=30)
        if process.returncode == -signal.SIGKILL:
            return trigger
        # it finished in the moment between the last look and the signal: a finished run
        assert process.returncode == 0, (out, err)
        return ("exit", 0)
    out, err = process.communicate()
    assert process.returncode == 0, (out, err)
    assert "Traceback" not in err
    return ("exit", 0)


def case_rows(running: RunningSandbox) -> list[str]:
    return [scenario["id"] for scenario in running.scenarios()]


def run_case(tmp_path: Path, case: Case) -> None:
    rng = random.Random(case.seed)
    rows = SEEDED + rng.randint(1, 5)
    with sandbox(
        generate=rows - SEEDED, write_rate=WINDOW, db_path=tmp_path / "sandbox.sqlite"
    ) as running:
        prepared, tally = plan(tmp_path, running, RENAME_ALL, write_rate=WINDOW)
        assert tally.counts["planned"] == rows
        run_dir = prepared.run_dir

        finished = False
        for _ in range(case.kills):
            outcome = kill_when(running, apply_with_env(running, run_dir), rng, case)
            case.history.append(outcome)
            if outcome[0] == "exit":
                finished = True
                break
        starts = len(case.history)
        while not finished:
            # resume; a run that keeps failing to finish is a failure of this test
            assert starts < MAX_STARTS, f"not resumable to completion: {case}"
            process = apply_with_env(running, run_dir)
            out, err = process.communicate(timeout=120)
            starts += 1
            assert "Traceback" not in err, err
            assert process.returncode == 0, (case, out, err)
            assert f"{rows} updated" in out, out
            finished = True

        # zero lost rows: every row updated, every scenario as planned
        assert set(states(run_dir).values()) == {"updated"}, case
        with journal_of(run_dir) as journal:
            planned = {row.scenario_id: row.planned_body for row in journal.rows()}
        assert len(planned) == rows
        for scenario_id, body in planned.items():
            assert body is not None
            stored = running.scenario(scenario_id)
            assert stored is not None
            assert fingerprint(stored) == fingerprint(body), (case, scenario_id)
            assert stored["description"].endswith("(kill-9)")
        # zero duplicate PUTs: each changed scenario stored exactly once
        counts = running.put_counts()
        assert counts == dict.fromkeys(planned, 1), (case, counts)


def test_kill_9_three_times_then_resume(tmp_path: Path) -> None:
    case = Case(seed=20261126, kills=3, by_puts_only=True)
    run_case(tmp_path, case)
    # killed three times, each after some PUTs and before the last one
    assert [kind for kind, _ in case.history] == ["puts"] * 3, case.history


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_kill_9_at_random_points_of_20_applies(tmp_path: Path, seed: int) -> None:
    rng = random.Random(1000 + seed)
    run_case(tmp_path, Case(seed=1000 + seed, kills=rng.randint(1, 3)))
