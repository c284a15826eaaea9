"""Scale: plan and apply of a 100,000-row sheet; wall time and peak memory of ivr-migrate.

The sandbox serves on loopback in its own process (limits lifted) with N scenarios (the bundled
examples plus synthetic clones). The sheet has one ``rename`` row per scenario id, so every
row changes and is written. ``ivr-migrate plan SHEET`` and then ``ivr-migrate apply RUN`` run as
two commands; for each the table shows wall time, CPU and peak memory of the whole command,
including the child process ivr-migrate starts to write its reports: ``ru_maxrss`` from
``wait4`` (the largest single process) and the highest resident set of the command's process
tree, summed, seen by polling (psutil, every 100 ms). CPU includes the report child too.

Baseline: the sequential ``requests`` loop of bench/throughput.py (GET + PUT per scenario,
nothing else) on the first ``--loop-rows`` scenarios of the same sandbox (its memory does not
grow with the sheet, and at full size it would take longer than everything else together).
Rates are compared per scenario.

DESIGN §9 target: peak memory under 300 MB.

    .venv/bin/python bench/scale.py [--quick] [--rows N] [--loop-rows N] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from _common import (
    UNLIMITED_RATE,
    ChildResult,
    client_env,
    emit,
    ivr_migrate,
    ratio,
    run_child,
    sandbox_process,
    self_maxrss,
    table,
    verdict,
    write_sheet,
)

TARGET_MB = 300
MB = 1024 * 1024
POLL = 0.1


def mb(value: int) -> str:
    return f"{value / MB:.0f}" if value else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows instead of 100,000")
    parser.add_argument("--rows", type=int, help="rows in the sheet (= scenarios)")
    parser.add_argument("--loop-rows", type=int, help="rows for the baseline loop")
    parser.add_argument("--concurrency", type=int, default=32, help="ivr-migrate --concurrency")
    parser.add_argument(
        "--keep", action="store_true", help="keep the sheet and run folder (to profile them)"
    )
    args = parser.parse_args()
    rows = args.rows or (10_000 if args.quick else 100_000)
    loop_rows = min(rows, args.loop_rows or (1_000 if args.quick else 10_000))

    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-scale-"))
    results: dict[str, ChildResult] = {}
    try:
        with sandbox_process(scenarios=rows) as sandbox:
            ids = sandbox.scenario_ids()
            if len(ids) != rows:
                raise SystemExit(f"the sandbox holds {len(ids)} scenarios, expected {rows}")
            sheet = write_sheet(workdir / "sheet.csv", ids, "rename", {"name": "{name} (2026)"})
            run_dir = workdir / "run"
            common = [
                "--quiet",
                "--json",
                "--base-url",
                sandbox.base_url,
                "--read-rate",
                UNLIMITED_RATE,
                "--concurrency",
                str(args.concurrency),
            ]
            env = client_env()
            plan_argv = [*ivr_migrate(), "plan", str(sheet), "--out", str(run_dir), *common]
            results["plan"] = run_child(plan_argv, env=env, poll_rss=POLL).check()
            writes = ["--write-rate", UNLIMITED_RATE]  # plan only reads: it takes no write rate
            apply_argv = [*ivr_migrate(), "apply", str(run_dir), "--yes", *common, *writes]
            results["apply"] = run_child(apply_argv, env=env, poll_rss=POLL).check()
            tally = json.loads(results["apply"].stdout)
            updated = tally["counts"].get("updated", 0)
            if updated != rows:
                raise SystemExit(f"ivr-migrate updated {updated} of {rows} rows: {tally}")
            puts = sum(sandbox.put_counts().values())
            if puts != rows:
                raise SystemExit(f"the sandbox stored {puts} PUTs for {rows} rows")

            # the loop sends one GET and one PUT per scenario whatever the scenario holds, so
            # running it after ivr-migrate's run on the same sandbox costs it nothing
            ids_file = workdir / "ids.txt"
            ids_file.write_text("\n".join(ids[:loop_rows]))
            loop_argv = [
                sys.executable,
                str(Path(__file__).with_name("throughput.py")),
                "--loop",
                sandbox.base_url,
                str(ids_file),
            ]
            results["loop"] = run_child(loop_argv, poll_rss=POLL).check()
    finally:
        if args.keep:
            print(f"kept: {workdir} (sheet.csv, run/)", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    plan, apply, loop = results["plan"], results["apply"], results["loop"]
    # the command's process tree: what the machine must hold for it at once
    peak = max(plan.maxrss, plan.polled_rss, apply.maxrss, apply.polled_rss)
    total_wall = plan.wall + apply.wall
    table_rows: list[list[object]] = [
        [
            "requests loop (GET+PUT)",
            loop_rows,
            f"{loop.wall:.1f}",
            f"{loop_rows / loop.wall:.0f}",
            f"{loop.cpu:.1f}",
            mb(loop.maxrss),
            mb(loop.polled_rss),
        ],
        [
            "ivr-migrate plan",
            rows,
            f"{plan.wall:.1f}",
            f"{rows / plan.wall:.0f}",
            f"{plan.cpu:.1f}",
            mb(plan.maxrss),
            mb(plan.polled_rss),
        ],
        [
            "ivr-migrate apply",
            rows,
            f"{apply.wall:.1f}",
            f"{rows / apply.wall:.0f}",
            f"{apply.cpu:.1f}",
            mb(apply.maxrss),
            mb(apply.polled_rss),
        ],
        [
            "ivr-migrate plan + apply",
            rows,
            f"{total_wall:.1f}",
            f"{rows / total_wall:.0f}",
            f"{plan.cpu + apply.cpu:.1f}",
            mb(max(plan.maxrss, apply.maxrss)),
            mb(max(plan.polled_rss, apply.polled_rss)),
        ],
        [
            "ratio ivr-migrate / loop (per scenario)",
            "",
            "",
            ratio(rows / total_wall, loop_rows / loop.wall),
            ratio((plan.cpu + apply.cpu) / rows, loop.cpu / loop_rows),
            "",
            ratio(max(plan.polled_rss, apply.polled_rss), loop.polled_rss),
        ],
    ]
    body = table(
        ["command", "rows", "wall s", "rows/s", "CPU s", "largest process MB", "process tree MB"],
        table_rows,
    )
    notes = [
        f"sheet of {rows:,} rename rows (one per scenario); sandbox in its own process, limits "
        f"lifted; ivr-migrate --concurrency {args.concurrency}; the loop on the first "
        f"{loop_rows:,} ids.",
        "largest process = ru_maxrss from wait4 (the command or the biggest child it waited "
        "for); process tree = the command and its children resident at the same time (polled).",
        f"bench parent process peak RSS {mb(self_maxrss())} MB (not included above). Linux "
        "carries the parent's RSS at exec into a child's ru_maxrss, so the figure of a child "
        "smaller than the parent (the loop) is the parent's; the polled one is not.",
        f"target: peak memory under {TARGET_MB} MB: {peak / MB:.0f} MB "
        f"{verdict(peak < TARGET_MB * MB)}",
    ]
    emit("scale", f"Scale: plan and apply of a {rows:,}-row sheet", body, notes)


if __name__ == "__main__":
    main()
