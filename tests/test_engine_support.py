"""Helpers shared by the engine's test modules (no tests here).

Every engine test runs over real loopback HTTP against a sandbox served in a background thread,
with time compressed: fast write windows, short timeouts, short back-offs.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from migrate.config import Rate
from migrate.engine import ApplyOptions, Connection, PreparedRun, Tally, plan_run, prepare_run
from migrate.journal import JOURNAL_FILE, Journal
from migrate.retry import RetryPolicy
from migrate.sandbox import RunningSandbox, SandboxConfig, start_sandbox
from transforms.model import walk

#: Fast enough for functional tests, still a real limit on both sides.
FAST_WRITES = Rate(40, 0.5)
FAST_READS = Rate(2000, 1.0)
FAST_RETRY = RetryPolicy(max_attempts=8, base_delay=0.02, max_delay=0.1)
NO_SIGNALS = ApplyOptions(handle_signals=False)

#: One row per rule, each matching clones of one seed scenario.
MIGRATION_SHEET: list[dict[str, str]] = [
    {"scenario_id": "*", "rule": "sms-sender", "new": "NordlichtOD", "old": "Nordlicht"},
    {"scenario_id": "*", "rule": "sms-sender", "new": "AuroraBk", "old": "AuroraBank"},
    {
        "scenario_id": "*",
        "rule": "url",
        "find": "https://voicemail.kovac-partners.example",
        "replace": "https://vm.kovac.example",
    },
]


@contextmanager
def sandbox(**config: Any) -> Iterator[RunningSandbox]:
    """A sandbox on a free loopback port; ``generate`` adds clones of the seed scenarios."""
    config.setdefault("write_rate", FAST_WRITES)
    with start_sandbox(SandboxConfig(**config)) as running:
        yield running


def connect(running: RunningSandbox, **overrides: Any) -> Connection:
    values: dict[str, Any] = {
        "read_rate": FAST_READS,
        "write_rate": FAST_WRITES,
        "concurrency": 4,
        "timeout": 2.0,
        "retry": FAST_RETRY,
    }
    values.update(overrides)
    return Connection(running.base_url, running.credentials(), **values)


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def plan(
    tmp_path: Path,
    running: RunningSandbox,
    rows: list[dict[str, str]],
    name: str = "run",
    **connection: Any,
) -> tuple[PreparedRun, Tally]:
    sheet = write_sheet(tmp_path / f"{name}.csv", rows)
    prepared = prepare_run(sheet, out=tmp_path / name)
    tally = plan_run(prepared, connect(running, **connection), handle_signals=False)
    return prepared, tally


def senders_of(scenario: dict[str, Any]) -> list[str]:
    return [
        found.action["sendSms"].get("from")
        for found in walk(scenario["script"])
        if found.kind == "sendSms"
    ]


def expected_targets(running: RunningSandbox) -> set[str]:
    """Scenarios the migration sheet changes, found independently of the engine."""
    found = set()
    for scenario in running.scenarios():
        senders = senders_of(scenario)
        urls = [
            found.action["request"] for found in walk(scenario["script"]) if found.kind == "request"
        ]
        if (
            "Nordlicht" in senders
            or "AuroraBank" in senders
            or any(url.startswith("https://voicemail.kovac-partners.example") for url in urls)
        ):
            found.add(scenario["id"])
    return found


def journal_of(run_dir: Path) -> Journal:
    return Journal.open(run_dir / JOURNAL_FILE)


def states(run_dir: Path) -> dict[str, str]:
    """scenario id → state."""
    with journal_of(run_dir) as journal:
        return {row.scenario_id: str(row.state) for row in journal.rows(bodies=False)}


def puts_in_log(running: RunningSandbox) -> list[str]:
    """Scenario ids of every PUT that reached the sandbox, stored or not, in order."""
    return [entry.scenario_id or "" for entry in running.request_log() if entry.method == "PUT"]
