"""Unthrottled throughput: ivr-migrate ``run`` against a sequential ``requests`` loop.

The sandbox serves on loopback in its own process, write and read limits lifted, with N
scenarios (the bundled examples plus synthetic clones). Both sides change every scenario's name
to ``{name} (2026)``:

- baseline: a sequential ``requests`` loop (one keep-alive session) that GETs each scenario and
  PUTs it back with the new name, and does nothing else;
- ivr-migrate: ``ivr-migrate run SHEET --yes`` with one ``rename`` row per scenario id: the full
  pipeline (plan reads, rule, validation, journal, conflict re-read, PUT, verification).

Each side gets a freshly started sandbox, so both do the same work. It runs at 0 ms and at
20 ms of latency added by the server to every request. CPU seconds are those of the client
process only (``wait4`` of the child); the sandbox's own CPU is shown apart.

DESIGN §9 targets: ≥ 2x the loop's speed at 0 ms, ≥ 15x at 20 ms with ``--concurrency 32``,
and no more CPU per scenario than the loop.

    .venv/bin/python bench/throughput.py [--quick] [--repeat N] [--scenarios N] [--latency 0,20]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _common import (
    API_ROOT,
    BENCH_KEY,
    UNLIMITED_RATE,
    ChildResult,
    client_env,
    emit,
    ivr_migrate,
    ratio,
    run_child,
    sandbox_process,
    table,
    verdict,
    write_sheet,
)

RULE = "rename"
PARAMS = {"name": "{name} (2026)"}
SUFFIX = " (2026)"
TARGET_SPEEDUP = {0.0: 2.0, 20.0: 15.0}


@dataclass
class Side:
    label: str
    latency: float
    result: ChildResult
    scenarios: int
    puts: int
    server_cpu: float
    #: ivr-migrate only: where its wall time went (from the run's journal and files).
    phases: dict[str, float] | None = None

    @property
    def per_second(self) -> float:
        return self.scenarios / self.result.wall

    @property
    def cpu_ms_per_scenario(self) -> float:
        return 1000 * self.result.cpu / self.scenarios


def loop_main(base_url: str, ids_file: str) -> None:
    """The baseline: what an engineer writes by hand. Runs in its own process."""
    import requests

    ids = Path(ids_file).read_text().split()
    session = requests.Session()
    session.headers["Authorization"] = f"App {BENCH_KEY}"
    for scenario_id in ids:
        url = f"{base_url}{API_ROOT}/{scenario_id}"
        response = session.get(url, timeout=30)
        response.raise_for_status()
        scenario = response.json()
        body = {key: scenario[key] for key in ("name", "description", "script") if key in scenario}
        body["name"] = scenario["name"] + SUFFIX
        session.put(url, json=body, timeout=30).raise_for_status()


def run_phases(run_dir: Path, result: ChildResult) -> dict[str, float]:
    """Seconds of start-up, plan, apply, reports (journal attempt times, the reports' mtimes)."""
    db = sqlite3.connect(run_dir / "journal.sqlite")
    try:
        spans = {
            operation: db.execute(
                "SELECT min(started_at), max(started_at + duration) FROM attempts "
                "WHERE operation = ?",
                (operation,),
            ).fetchone()
            for operation in ("plan", "apply")
        }
    finally:
        db.close()
    (plan_start, plan_end), (apply_start, apply_end) = spans["plan"], spans["apply"]
    written = [
        path.stat().st_mtime
        for path in run_dir.iterdir()
        if path.suffix in (".csv", ".xlsx", ".html") and path.name != "sheet.csv"
    ]
    reported = max(written, default=apply_end)
    end = result.started_epoch + result.wall
    return {
        "start-up": plan_start - result.started_epoch,
        "plan": plan_end - plan_start,
        "between": apply_start - plan_end,
        "apply": apply_end - apply_start,
        "reports": reported - apply_end,
        "exit": end - reported,
    }


def run_side(side: str, *, scenarios: int, latency: float, concurrency: int, workdir: Path) -> Side:
    phases = None
    with sandbox_process(scenarios=scenarios, latency_ms=latency) as sandbox:
        ids = sandbox.scenario_ids()
        if len(ids) != scenarios:
            raise SystemExit(f"the sandbox holds {len(ids)} scenarios, expected {scenarios}")
        sandbox.reset_log()
        server_cpu = sandbox.cpu_seconds()
        if side == "loop":
            ids_file = workdir / "ids.txt"
            ids_file.write_text("\n".join(ids))
            argv = [sys.executable, __file__, "--loop", sandbox.base_url, str(ids_file)]
            result = run_child(argv).check()
            label = "requests loop (GET+PUT)"
        else:
            sheet = write_sheet(workdir / "sheet.csv", ids, RULE, PARAMS)
            run_dir = Path(tempfile.mkdtemp(prefix=f"run-{latency:g}ms-", dir=workdir)) / "run"
            argv = [
                *ivr_migrate(),
                "run",
                str(sheet),
                "--yes",
                "--quiet",
                "--json",
                "--base-url",
                sandbox.base_url,
                "--write-rate",
                UNLIMITED_RATE,
                "--read-rate",
                UNLIMITED_RATE,
                "--concurrency",
                str(concurrency),
                "--out",
                str(run_dir),
            ]
            result = run_child(argv, env=client_env()).check()
            tally = json.loads(result.stdout)
            updated = tally["counts"].get("updated", 0)
            if updated != scenarios:
                raise SystemExit(f"ivr-migrate updated {updated} of {scenarios}: {tally}")
            label = f"ivr-migrate run (--concurrency {concurrency})"
            phases = run_phases(run_dir, result)
            # the same reports again, alone, to tell their CPU from the pipeline's
            rewrite = run_child([*ivr_migrate(), "report", str(run_dir)], env=client_env())
            phases["reports CPU"] = rewrite.check().cpu
        server_cpu = sandbox.cpu_seconds() - server_cpu
        counts = sandbox.put_counts()
        puts = sum(counts.values())
        if len(counts) != scenarios or puts != scenarios:
            raise SystemExit(f"{label}: {puts} PUTs over {len(counts)} scenarios")
    return Side(label, latency, result, scenarios, puts, server_cpu, phases)


def median_run(runs: list[Side]) -> Side:
    """The run with the median wall time (the lower middle one of an even count)."""
    return sorted(runs, key=lambda side: side.result.wall)[(len(runs) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 scenarios instead of 2,000")
    parser.add_argument("--scenarios", type=int, help="scenarios on the sandbox")
    parser.add_argument("--latency", default="0,20", help="added server latency (ms), e.g. 0,20")
    parser.add_argument("--concurrency", type=int, default=32, help="ivr-migrate --concurrency")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run both sides N times (alternating) and show each side's median run",
    )
    parser.add_argument("--loop", nargs=2, metavar=("URL", "IDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop:
        loop_main(*args.loop)
        return
    scenarios = args.scenarios or (200 if args.quick else 2000)
    latencies = [float(x) for x in args.latency.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-throughput-"))
    rows = []
    notes = []
    try:
        for latency in latencies:
            runs: dict[str, list[Side]] = {"loop": [], "ivr-migrate": []}
            for _ in range(max(1, args.repeat)):
                for name, found in runs.items():
                    found.append(
                        run_side(
                            name,
                            scenarios=scenarios,
                            latency=latency,
                            concurrency=args.concurrency,
                            workdir=workdir,
                        )
                    )
            loop, ours = median_run(runs["loop"]), median_run(runs["ivr-migrate"])
            if args.repeat > 1:
                notes.append(
                    f"{latency:g} ms, wall s of each run: loop "
                    + ", ".join(f"{side.result.wall:.2f}" for side in runs["loop"])
                    + "; ivr-migrate "
                    + ", ".join(f"{side.result.wall:.2f}" for side in runs["ivr-migrate"])
                )
            for side in (loop, ours):
                rows.append(
                    [
                        f"{latency:g} ms",
                        side.label,
                        f"{side.result.wall:.2f}",
                        f"{side.per_second:.1f}",
                        f"{side.result.cpu:.2f}",
                        f"{side.cpu_ms_per_scenario:.2f}",
                        f"{side.server_cpu:.2f}",
                        side.puts,
                    ]
                )
            speedup = ours.per_second / loop.per_second
            cpu_ratio = ours.cpu_ms_per_scenario / loop.cpu_ms_per_scenario
            rows.append(
                [
                    "",
                    "ratio ivr-migrate / loop",
                    ratio(ours.result.wall, loop.result.wall),
                    f"{speedup:.2f}x",
                    ratio(ours.result.cpu, loop.result.cpu),
                    f"{cpu_ratio:.2f}x",
                    ratio(ours.server_cpu, loop.server_cpu),
                    "",
                ]
            )
            reports = reports_cpu = 0.0
            if ours.phases:
                reports = ours.phases["reports"] + ours.phases["exit"]
                reports_cpu = ours.phases["reports CPU"]
                shares = ", ".join(f"{k} {v:.1f}" for k, v in ours.phases.items())
                notes.append(f"ivr-migrate at {latency:g} ms, seconds: {shares}")
            target = TARGET_SPEEDUP.get(latency)
            if target is not None:
                without = loop.result.wall / (ours.result.wall - reports)
                cpu_without = (ours.result.cpu - reports_cpu) / loop.result.cpu
                notes.append(
                    f"target at {latency:g} ms: >= {target:g}x the loop's speed: "
                    f"{speedup:.2f}x {verdict(speedup >= target)} ({without:.2f}x without the "
                    f"final reports); CPU per scenario <= the loop's: {cpu_ratio:.2f}x "
                    f"{verdict(cpu_ratio <= 1.0)} ({cpu_without:.2f}x without the reports)"
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    body = table(
        [
            "latency",
            "side",
            "wall s",
            "scen/s",
            "client CPU s",
            "CPU ms/scen",
            "server CPU s",
            "PUTs",
        ],
        rows,
    )
    notes = [
        f"{scenarios:,} scenarios, rule {RULE} {PARAMS}; each side against a fresh sandbox in its "
        "own process (limits lifted); client CPU = user+sys of the client process (wait4), "
        f"start-up included; median of {max(1, args.repeat)} run(s) per side.",
        *notes,
    ]
    emit("throughput", "Throughput against the sandbox on loopback", body, notes)


if __name__ == "__main__":
    main()
