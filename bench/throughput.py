"""Unthrottled throughput: ivr-migrate ``run`` between a ``requests`` loop and a bare aiohttp floor.

The sandbox serves on loopback in its own process, write and read limits lifted, with N
scenarios (the bundled examples plus synthetic clones). Every side changes every scenario's name
to ``{name} (2026)``:

- loop: a sequential ``requests`` loop (one keep-alive session) that GETs each scenario and PUTs
  it back with the new name, and does nothing else (what an engineer writes by hand);
- floor: bench/floor.py, bare aiohttp GET + PUT with the same concurrency as ivr-migrate (one
  ``TCPConnector(limit=N)``, N workers), no journal, no checks: the speed the safety is paid from;
- ivr-migrate: ``ivr-migrate run SHEET --yes`` with one ``rename`` row per scenario id: the full
  pipeline (plan reads, rule, validation, journal, conflict re-read, PUT, verification) and the
  final reports.

Each side gets a freshly started sandbox, so all do the same work. It runs at 0 ms and at 20 ms
of latency added by the server to every request. CPU seconds are those of the client process
(``wait4`` of the child, so ivr-migrate's report child is included); the sandbox's own CPU is
shown apart.

DESIGN §9 targets: ivr-migrate ≥ 0.6x the floor's speed at 0 ms and ≥ 0.85x at 20 ms, with a
client CPU ≤ 0.8x the loop's (reports included).

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
    NAME_SUFFIX,
    ROOT,
    UNLIMITED_RATE,
    WRITABLE_FIELDS,
    ChildResult,
    client_env,
    emit,
    ivr_migrate,
    run_child,
    sandbox_process,
    table,
    verdict,
    write_sheet,
)

RULE = "rename"
PARAMS = {"name": "{name}" + NAME_SUFFIX}
FLOOR_SCRIPT = ROOT / "bench" / "floor.py"
#: DESIGN §9: ivr-migrate's speed as a share of the floor's, per added latency (ms).
TARGET_FLOOR_SHARE = {0.0: 0.6, 20.0: 0.85}
#: DESIGN §9: ivr-migrate's client CPU at most this multiple of the loop's.
TARGET_CPU_VS_LOOP = 0.8
SIDES = ("loop", "floor", "ivr-migrate")


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
        body = {key: scenario[key] for key in WRITABLE_FIELDS if key in scenario}
        body["name"] = scenario["name"] + NAME_SUFFIX
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
        if side in ("loop", "floor"):
            ids_file = workdir / "ids.txt"
            ids_file.write_text("\n".join(ids))
            if side == "loop":
                argv = [sys.executable, __file__, "--loop", sandbox.base_url, str(ids_file)]
                label = "requests loop (GET+PUT, sequential)"
            else:
                argv = [sys.executable, str(FLOOR_SCRIPT), sandbox.base_url, str(ids_file)]
                argv.append(str(concurrency))
                label = f"floor: aiohttp GET+PUT, {concurrency} at once"
            result = run_child(argv).check()
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


def measure(
    args: argparse.Namespace, scenarios: int, latency: float, workdir: Path
) -> tuple[list[Side], list[str]]:
    """Every side ``--repeat`` times, alternating (noise hits them alike); each side's median."""
    runs: dict[str, list[Side]] = {name: [] for name in SIDES}
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
    notes = []
    if args.repeat > 1:
        walls = "; ".join(
            f"{name} " + ", ".join(f"{side.result.wall:.2f}" for side in found)
            for name, found in runs.items()
        )
        notes.append(f"{latency:g} ms, wall s of each run: {walls}")
    return [median_run(runs[name]) for name in SIDES], notes


def side_row(side: Side) -> list[object]:
    return [
        f"{side.latency:g} ms",
        side.label,
        f"{side.result.wall:.2f}",
        f"{side.per_second:.1f}",
        f"{side.result.cpu:.2f}",
        f"{side.cpu_ms_per_scenario:.2f}",
        f"{side.server_cpu:.2f}",
        side.puts,
    ]


def comparison(loop: Side, floor: Side, ours: Side) -> tuple[list[object], list[str]]:
    """ivr-migrate against the loop and the floor, with the targets; and notes on the reports."""
    latency = ours.latency
    speedup = loop.result.wall / ours.result.wall
    share = floor.result.wall / ours.result.wall
    cpu = ours.result.cpu / loop.result.cpu
    target_share = TARGET_FLOOR_SHARE.get(latency)
    share_verdict = (
        f">= {target_share:g}x: {verdict(share >= target_share)}" if target_share else "none"
    )
    row: list[object] = [
        f"{latency:g} ms",
        f"{speedup:.2f}x",
        f"{share:.2f}x",
        share_verdict,
        f"{cpu:.2f}x",
        f"<= {TARGET_CPU_VS_LOOP:g}x: {verdict(cpu <= TARGET_CPU_VS_LOOP)}",
        f"{floor.result.cpu / loop.result.cpu:.2f}x",
    ]
    notes = []
    if ours.phases:
        shares = ", ".join(f"{k} {v:.2f}" for k, v in ours.phases.items())
        notes.append(f"ivr-migrate at {latency:g} ms, seconds: {shares}")
        reports = ours.phases["reports"] + ours.phases["exit"]
        share_without = floor.result.wall / (ours.result.wall - reports)
        cpu_without = (ours.result.cpu - ours.phases["reports CPU"]) / loop.result.cpu
        notes.append(
            f"ivr-migrate at {latency:g} ms without the final reports (their wall, and the CPU of "
            f"ivr-migrate report on the same run): {share_without:.2f}x the floor's speed, "
            f"{cpu_without:.2f}x the loop's CPU"
        )
    return row, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 scenarios instead of 2,000")
    parser.add_argument("--scenarios", type=int, help="scenarios on the sandbox")
    parser.add_argument("--latency", default="0,20", help="added server latency (ms), e.g. 0,20")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="ivr-migrate --concurrency and the floor's"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run every side N times (alternating) and show each side's median run",
    )
    parser.add_argument("--loop", nargs=2, metavar=("URL", "IDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop:
        loop_main(*args.loop)
        return
    scenarios = args.scenarios or (200 if args.quick else 2000)
    latencies = [float(x) for x in args.latency.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-throughput-"))
    rows: list[list[object]] = []
    ratios: list[list[object]] = []
    notes: list[str] = []
    try:
        for latency in latencies:
            (loop, floor, ours), walls = measure(args, scenarios, latency, workdir)
            notes += walls
            rows += [side_row(side) for side in (loop, floor, ours)]
            row, found = comparison(loop, floor, ours)
            ratios.append(row)
            notes += found
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    headers = ["latency", "side", "wall s", "scen/s", "client CPU s", "CPU ms/scen"]
    body = table([*headers, "server CPU s", "PUTs"], rows)
    body += "\n\n" + table(
        [
            "ivr-migrate",
            "x loop speed",
            "x floor speed",
            "DESIGN §9",
            "CPU x loop",
            "DESIGN §9",
            "floor CPU x loop",
        ],
        ratios,
    )
    notes = [
        f"{scenarios:,} scenarios, rule {RULE} {PARAMS}; each side against a fresh sandbox in its "
        "own process (limits lifted); client CPU = user+sys of the client process and its "
        f"children (wait4), start-up and reports included; median of {max(1, args.repeat)} "
        "run(s) per side. x floor speed = floor wall / ivr-migrate wall (its share of the floor).",
        *notes,
    ]
    emit("throughput", "Throughput against the sandbox on loopback", body, notes)


if __name__ == "__main__":
    main()
