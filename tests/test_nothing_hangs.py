"""Nothing hangs: an error that escapes one row fails that row (or stops the run cleanly), the
worker pool never waits on a queue nobody reads, and a bad answer cannot fill memory.

In-process runs over loopback against the sandbox, faults injected by the sandbox; the full
disk is a real tmpfs filled while a real ``ivr-migrate apply`` process runs.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from test_engine_support import NO_SIGNALS, connect, journal_of, plan, sandbox, states

from migrate.engine import apply_run
from migrate.engine.execute import UNREACHABLE_ROWS, Executor
from migrate.engine.pool import Stop, run_pool
from migrate.journal import JOURNAL_FILE
from migrate.retry import RetryPolicy
from migrate.sandbox import RunningSandbox
from migrate.sandbox.faults import HUGE, NESTED, OK
from migrate.vocabulary import RowHead, RowState

RENAME_ALL = [{"scenario_id": "*", "rule": "rename", "description": "{description} (hang)"}]
ROWS = 12


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[RunningSandbox, Path]]:
    with sandbox(generate=ROWS - 7) as running:
        prepared, tally = plan(tmp_path, running, RENAME_ALL)
        assert tally.counts["planned"] == ROWS
        yield running, prepared.run_dir


def test_a_failing_handler_with_a_full_queue_is_raised_at_once() -> None:
    # The old pool waited in its finally to put end markers on a full queue nobody read.
    async def items() -> AsyncIterator[int]:
        for n in range(1000):
            yield n

    async def handle(item: int) -> None:
        if item == 3:
            raise RuntimeError("boom")
        await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.wait_for(run_pool(items(), handle, concurrency=2, stop=Stop()), timeout=30)

    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(main())


def test_an_error_escaping_one_row_fails_that_row_only(
    world: tuple[RunningSandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    running, run_dir = world
    victim = sorted(scenario["id"] for scenario in running.scenarios())[4]
    original = Executor.process

    async def process(self: Executor, row: RowHead) -> None:
        if row.scenario_id == victim:
            raise RuntimeError("a bug in the row's processing")
        await original(self, row)

    monkeypatch.setattr(Executor, "process", process)
    tally = apply_run(run_dir, connect(running), NO_SIGNALS)

    found = states(run_dir)
    assert found.pop(victim) == RowState.FAILED
    assert set(found.values()) == {RowState.UPDATED}
    with journal_of(run_dir) as journal:
        row = next(r for r in journal.rows(bodies=False) if r.scenario_id == victim)
    assert row.error_class == "RuntimeError" and "a bug in the row" in (row.error_text or "")
    assert not tally.ok and victim not in running.put_counts()


def test_a_journal_row_that_is_not_json_fails_alone(world: tuple[RunningSandbox, Path]) -> None:
    running, run_dir = world
    with sqlite3.connect(run_dir / JOURNAL_FILE) as db:
        victim = db.execute("SELECT scenario_id FROM rows ORDER BY id LIMIT 1 OFFSET 2").fetchone()[
            0
        ]
        db.execute("UPDATE rows SET planned_body = '{not json' WHERE scenario_id = ?", (victim,))

    tally = apply_run(run_dir, connect(running), NO_SIGNALS)

    found = states(run_dir)
    assert found.pop(victim) == RowState.FAILED
    assert set(found.values()) == {RowState.UPDATED}
    with journal_of(run_dir) as journal:
        row = next(r for r in journal.rows(bodies=False) if r.scenario_id == victim)
    assert "damaged planned_body" in (row.error_text or "")
    assert tally.counts[RowState.UPDATED] == ROWS - 1
    assert set(running.put_counts().values()) == {1} and victim not in running.put_counts()


@pytest.mark.parametrize(("fault", "words"), [(NESTED, "nested too deeply"), (HUGE, "larger than")])
def test_an_unreadable_answer_fails_its_row_with_the_error_named(
    world: tuple[RunningSandbox, Path], fault: str, words: str
) -> None:
    running, run_dir = world
    # the connection check is answered normally; the next read gets the bad answer
    running.set_faults(sequence=(OK, fault), methods={"GET"}, huge_body_bytes=17 * 1024 * 1024)
    tally = apply_run(run_dir, connect(running, concurrency=1, timeout=20.0), NO_SIGNALS)

    found = states(run_dir)
    failed = [sid for sid, state in found.items() if state == RowState.FAILED]
    assert len(failed) == 1
    assert tally.counts[RowState.UPDATED] == ROWS - 1
    with journal_of(run_dir) as journal:
        row = next(r for r in journal.rows(bodies=False) if r.scenario_id == failed[0])
    assert words in (row.error_text or "")
    assert row.retryable is True  # the read failed: a retry reads it again


def test_an_unreachable_api_stops_the_run_instead_of_failing_every_row(
    world: tuple[RunningSandbox, Path],
) -> None:
    running, run_dir = world
    running.set_faults(sequence=(OK,), drop_before_rate=1.0, methods={"GET"})
    fast = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
    tally = apply_run(run_dir, connect(running, concurrency=2, retry=fast), NO_SIGNALS)

    assert tally.stopped is not None and "could not be reached" in tally.stopped
    counts = tally.counts
    assert UNREACHABLE_ROWS <= counts[RowState.FAILED] < ROWS
    assert counts[RowState.PLANNED] > 0
    assert running.put_counts() == {}


@pytest.fixture
def small_disk(tmpfs: Callable[[str], Path]) -> Path:
    return tmpfs("80m")


def test_a_disk_that_fills_up_during_apply_stops_it_cleanly(small_disk: Path) -> None:
    with sandbox(generate=ROWS - 7) as running:
        prepared, _ = plan(small_disk, running, RENAME_ALL)
        run_dir = prepared.run_dir
        args = [
            sys.executable, "-m", "migrate", "apply", str(run_dir), "--yes", "--no-progress",
            "--base-url", running.base_url, "--write-rate", "4/1s", "--concurrency", "2",
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("INFOBIP_")}
        env["INFOBIP_API_KEY"] = running.api_key
        process = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while len(running.put_counts()) < 3:
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.01)
        filler = small_disk / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M"], capture_output=True)
        _, err = process.communicate(timeout=60)

        assert process.returncode in (1, 2), err
        lines = err.strip().splitlines()
        assert "Traceback" not in err
        assert any("journal" in line and "full" in line for line in lines), err
        filler.unlink()

        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert set(states(run_dir).values()) == {RowState.UPDATED}
        assert set(running.put_counts().values()) == {1} and len(running.put_counts()) == ROWS
