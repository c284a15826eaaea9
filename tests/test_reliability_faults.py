"""Reliability: apply through a fault mix; every row updated, retries within their bounds.

The mix, on every request the sandbox serves (GET and PUT alike): 10% 5xx (500, 502, 503),
5% hung (the client gives up after ``--timeout``), 5% connections dropped after the write was
stored, and 429 bursts: the client believes it may write twice as fast as the server's strict
window allows, so the server answers 429 in bursts until the client slows down.

Bounds, derived from ``migrate/engine/execute.py`` and ``migrate/client.py``:

* PUTs: ``Executor.write`` counts one attempt per PUT sent and gives up at
  ``policy.max_attempts``: at most ``max_attempts`` PUTs per row and apply;
* reads: every read (the conflict check, each reconciliation after a failed PUT, the verifying
  read) is one ``IvrClient._read`` call of at most ``max_attempts`` GETs; a row makes one
  conflict check and at most one reconciliation or verification per PUT, hence at most
  ``(1 + max_attempts) × max_attempts`` GETs per row and apply;
* stored PUTs: exactly one per scenario (a write that may have landed is re-read, never re-sent
  blindly).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from test_engine_support import NO_SIGNALS, connect, journal_of, plan, sandbox

from migrate.config import Rate
from migrate.engine import apply_run
from migrate.retry import RetryPolicy
from migrate.sandbox import Faults
from migrate.sandbox.requestlog import DROPPED_AFTER, HUNG
from transforms.body import fingerprint

RENAME_ALL = [{"scenario_id": "*", "rule": "rename", "description": "{description} (faults)"}]
SERVER_WINDOW = Rate(10, 0.5)
#: Twice what the server allows: the server answers 429 in bursts until the client slows down.
CLIENT_WRITES = Rate(20, 0.5)
#: Short back-offs (capped at the server's window, as the default 60 s cap matches 6/min).
POLICY = RetryPolicy(max_attempts=10, base_delay=0.02, max_delay=0.5)
TIMEOUT = 1.0  # seconds: a hung request costs one second, not the default 30


def fault_mix(seed: int) -> Faults:
    return Faults(
        error_rates={500: 0.04, 502: 0.03, 503: 0.03},
        hang_rate=0.05,
        drop_after_rate=0.05,
        seed=seed,
    )


def apply_through_faults(tmp_path: Path, generate: int, seed: int) -> None:
    with sandbox(generate=generate, write_rate=SERVER_WINDOW) as running:
        prepared, planned = plan(tmp_path, running, RENAME_ALL)
        rows = planned.counts["planned"]
        assert rows == generate + 7
        running.reset_log()
        running.set_faults(fault_mix(seed))

        connection = connect(
            running, write_rate=CLIENT_WRITES, retry=POLICY, timeout=TIMEOUT, concurrency=4
        )
        tally = apply_run(prepared.run_dir, connection, NO_SIGNALS)

        # every row ends updated, in this one apply, and holds its planned body
        assert tally.ok, tally.as_json()
        assert tally.counts["updated"] == rows, tally.counts
        with journal_of(prepared.run_dir) as journal:
            planned_bodies = {row.scenario_id: row.planned_body for row in journal.rows()}
            by_row: dict[str, Counter[str]] = {}
            attempts = list(journal.attempts())
            for attempt in attempts:
                if attempt.scenario_id is not None:
                    by_row.setdefault(attempt.scenario_id, Counter())[attempt.method] += 1
        for scenario_id, body in planned_bodies.items():
            stored = running.scenario(scenario_id)
            assert stored is not None and body is not None
            assert fingerprint(stored) == fingerprint(body), scenario_id

        # the faults did happen (or the test would prove nothing)
        log = running.request_log()
        outcomes = Counter(entry.outcome for entry in log)
        statuses = Counter(entry.status for entry in log)
        assert statuses[429] > 0, statuses
        assert any(statuses[code] for code in (500, 502, 503)), statuses
        assert outcomes[HUNG] > 0 and outcomes[DROPPED_AFTER] > 0, outcomes
        errors = Counter(attempt.error_class for attempt in attempts if attempt.error_class)
        assert errors["RequestTimeout"] > 0, errors

        # retries within their bounds
        puts_bound = POLICY.max_attempts
        gets_bound = (1 + POLICY.max_attempts) * POLICY.max_attempts
        for scenario_id, methods in by_row.items():
            assert methods["PUT"] <= puts_bound, (scenario_id, methods)
            assert methods["GET"] <= gets_bound, (scenario_id, methods)
        # what reached the server agrees with the journal: no hidden re-sends
        sent = Counter(entry.scenario_id for entry in log if entry.method == "PUT")
        for sent_id, count in sent.items():
            assert count == by_row[str(sent_id)]["PUT"], (sent_id, count)
        # and each scenario was stored exactly once
        assert running.put_counts() == dict.fromkeys(planned_bodies, 1)
        print(
            f"\nfault mix seed {seed}: {rows} rows, requests {len(log)}, statuses "
            f"{dict(statuses)}, outcomes {dict(outcomes)}, max PUTs/row "
            f"{max(m['PUT'] for m in by_row.values())}, max GETs/row "
            f"{max(m['GET'] for m in by_row.values())}"
        )


def test_fault_mix_every_row_updated_within_bounds(tmp_path: Path) -> None:
    apply_through_faults(tmp_path, generate=23, seed=6)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_fault_mix_long(tmp_path: Path, seed: int) -> None:
    apply_through_faults(tmp_path, generate=73, seed=100 + seed)
