"""Start-up time: ``ivr-migrate --help`` and ``ivr-migrate rules`` against ``python -c pass``.

DESIGN §9: ``ivr-migrate --help`` in under 0.3 s (pandas and aiohttp are imported lazily).
Each command runs N times, interleaved so that noise hits every command alike; the table shows
the median and the fastest wall time, and the median's ratio to a bare interpreter start.

    .venv/bin/python bench/startup.py [--quick] [--runs N]
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import emit, ivr_migrate, median, ratio, run_child, table, verdict

TARGET_HELP = 0.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 runs each instead of 15")
    parser.add_argument("--runs", type=int, help="runs of each command")
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 15)

    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "ivr-migrate --help": [*ivr_migrate(), "--help"],
        "ivr-migrate rules": [*ivr_migrate(), "rules"],
        "ivr-migrate --version": [*ivr_migrate(), "--version"],
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm the page cache and the bytecode
        run_child(argv).check()
    for _ in range(runs):
        for name, argv in commands.items():
            result = run_child(argv).check()
            walls[name].append(result.wall)
            cpus[name].append(result.cpu)
        time.sleep(0.01)

    base = median(walls["python -c pass (baseline)"])
    rows = [
        [
            name,
            f"{median(walls[name]):.3f}",
            f"{min(walls[name]):.3f}",
            f"{median(cpus[name]):.3f}",
            ratio(median(walls[name]), base),
        ]
        for name in commands
    ]
    help_median = median(walls["ivr-migrate --help"])
    body = table(
        ["command", "median s", "fastest s", "CPU s", "vs python -c pass"],
        rows,
    )
    notes = [
        f"{runs} runs of each command, interleaved; wall time of the whole process.",
        f"target: ivr-migrate --help under {TARGET_HELP} s (median {help_median:.3f} s): "
        f"{verdict(help_median < TARGET_HELP)}",
    ]
    emit("startup", "Start-up time", body, notes)


if __name__ == "__main__":
    main()
