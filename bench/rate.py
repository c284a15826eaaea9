"""Writes against a strict sliding window: ivr-migrate's write limiter against naive aiolimiter.

The sandbox (its own process) enforces N writes per P seconds per account as a strict sliding
window over arrival times (DESIGN §9 compresses 6 per 60 s to 30 per 3 s here) and answers 429
beyond it. Each side PUTs every one of M scenarios (at least 10 windows' worth), each against a
freshly started sandbox:

- naive: ``aiolimiter.AsyncLimiter(N, P)`` around each PUT, the configuration its docs warn
  about (a burst of N, then one every P/N seconds); a 429 puts the scenario back in the queue;
- WriteLimiter: ``migrate.ratelimit.WriteLimiter(Rate(N, P))`` in the same harness (8 workers,
  one aiohttp session), so only the limiter differs;
- ivr-migrate run: the product, ``ivr-migrate run SHEET --yes --write-rate N/Ps``: plan reads,
  then apply (re-read, PUT, verify) through the real client and limiter.

Figures come from the sandbox's request log: stored PUTs, 429 answers, the most writes seen in
any window of P seconds, writes per full window (from the first stored PUT), and the achieved
rate, (stored - 1) / (last - first), as a share of N/P.

Target (DESIGN §9): zero 429s and at least 97% of the allowed rate.

    .venv/bin/python bench/rate.py [--quick] [--rate 30/3s] [--windows 12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    API_ROOT,
    BENCH_KEY,
    UNLIMITED_RATE,
    SandboxProcess,
    client_env,
    emit,
    ivr_migrate,
    run_child,
    sandbox_process,
    table,
    verdict,
    write_sheet,
)

TARGET_SHARE = 0.97
WORKERS = 8
#: A scenario refused this many times is given up (keeps the naive side bounded).
MAX_ATTEMPTS = 50


@dataclass
class Outcome:
    label: str
    stored: int
    refused: int
    max_in_window: int
    per_window: list[int]
    share: float
    span: float

    def row(self, count: int) -> list[Any]:
        full = self.per_window or [0]
        return [
            self.label,
            self.stored,
            self.refused,
            f"{self.max_in_window} / {count}",
            f"{min(full)} / {sum(full) / len(full):.1f} / {max(full)}",
            f"{self.span:.1f}",
            f"{100 * self.share:.1f}%",
        ]


def analyse(label: str, log: list[dict[str, Any]], count: int, period: float) -> Outcome:
    puts = [entry for entry in log if entry["method"] == "PUT"]
    times = sorted(entry["time"] for entry in puts if entry["stored"])
    refused = sum(1 for entry in puts if entry["status"] == 429)
    most = 0
    for i, start in enumerate(times):
        # writes in the window that ends at this one's arrival, (t - P, t]
        first = bisect_right(times, start - period)
        most = max(most, i - first + 1)
    per_window = []
    if times:
        edge = times[0]
        while edge + period <= times[-1]:
            inside = bisect_right(times, edge + period - 1e-9) - bisect_right(times, edge - 1e-9)
            per_window.append(inside)
            edge += period
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    share = (len(times) - 1) / span / (count / period) if span else 0.0
    return Outcome(label, len(times), refused, most, per_window, share, span)


async def drive(
    base_url: str, bodies: dict[str, dict[str, Any]], limiter: Any, workers: int
) -> None:
    """PUT every body once (a 429 re-queues it), ``limiter.acquire()`` before each PUT."""
    import aiohttp

    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    for scenario_id in bodies:
        queue.put_nowait((scenario_id, 1))
    headers = {"Authorization": f"App {BENCH_KEY}"}
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:

        async def worker() -> None:
            while True:
                try:
                    scenario_id, attempt = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await limiter.acquire()
                url = f"{base_url}{API_ROOT}/{scenario_id}"
                async with session.put(url, json=bodies[scenario_id]) as response:
                    await response.read()
                    if response.status == 429 and attempt < MAX_ATTEMPTS:
                        queue.put_nowait((scenario_id, attempt + 1))
                    elif response.status >= 300 and response.status != 429:
                        raise SystemExit(f"PUT {scenario_id}: HTTP {response.status}")

        await asyncio.gather(*(worker() for _ in range(workers)))


async def fetch_bodies(base_url: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Every scenario's update body with a new name (reads are not limited)."""
    import aiohttp

    headers = {"Authorization": f"App {BENCH_KEY}"}
    bodies = {}
    async with aiohttp.ClientSession(headers=headers) as session:
        for scenario_id in ids:
            async with session.get(f"{base_url}{API_ROOT}/{scenario_id}") as response:
                scenario = await response.json()
            body = {k: scenario[k] for k in ("name", "description", "script") if k in scenario}
            body["name"] = scenario["name"] + " (2026)"
            bodies[scenario_id] = body
    return bodies


def harness_side(
    sandbox: SandboxProcess, ids: list[str], kind: str, count: int, period: float
) -> None:
    from aiolimiter import AsyncLimiter

    from migrate.config import Rate
    from migrate.ratelimit import WriteLimiter

    async def main() -> None:
        bodies = await fetch_bodies(sandbox.base_url, ids)
        sandbox.reset_log()
        limiter: Any
        if kind == "naive":
            limiter = AsyncLimiter(count, period)
        else:
            limiter = WriteLimiter(Rate(count, period))
        await drive(sandbox.base_url, bodies, limiter, WORKERS)

    asyncio.run(main())


def product_side(sandbox: SandboxProcess, ids: list[str], rate: str, workdir: Path) -> None:
    sheet = write_sheet(workdir / "sheet.csv", ids, "rename", {"name": "{name} (2026)"})
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
        rate,
        "--read-rate",
        UNLIMITED_RATE,
        "--out",
        str(workdir / "run"),
    ]
    result = run_child(argv, env=client_env()).check()
    tally = json.loads(result.stdout)
    if tally["counts"].get("updated", 0) != len(ids):
        raise SystemExit(f"ivr-migrate did not update every scenario: {tally}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 per 1 s, 4 windows")
    parser.add_argument("--rate", help="the server's limit N/Ps [default: 30/3s]")
    parser.add_argument("--windows", type=int, help="windows' worth of writes [default: 12]")
    parser.add_argument(
        "--sides",
        default="naive,limiter,run",
        help="comma-separated: naive, limiter, run [default: all three]",
    )
    args = parser.parse_args()
    rate = args.rate or ("10/1s" if args.quick else "30/3s")
    windows = args.windows or (4 if args.quick else 12)
    count_text, period_text = rate.split("/")
    count, period = int(count_text), float(period_text.rstrip("s"))
    scenarios = count * windows

    labels = {
        "naive": f"naive AsyncLimiter({count}, {period:g})",
        "limiter": f"WriteLimiter(Rate({count}, {period:g}))",
        "run": f"ivr-migrate run --write-rate {rate}",
    }
    outcomes = []
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-rate-"))
    try:
        for side in [s.strip() for s in args.sides.split(",") if s.strip()]:
            with sandbox_process(scenarios=scenarios, write_rate=rate) as sandbox:
                ids = sandbox.scenario_ids()
                if side == "run":
                    product_side(sandbox, ids, rate, workdir)
                else:
                    harness_side(sandbox, ids, side, count, period)
                outcomes.append(analyse(labels[side], sandbox.log(), count, period))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    body = table(
        [
            "writer",
            "stored",
            "429s",
            "max in any window",
            "per full window min/mean/max",
            "span s",
            "of allowed rate",
        ],
        [outcome.row(count) for outcome in outcomes],
    )
    notes = [
        f"server: strict sliding window of {count} writes per {period:g} s; {scenarios} "
        f"scenarios ({windows} windows' worth), each side on a fresh sandbox; "
        f"harness sides use {WORKERS} workers.",
        "of allowed rate = (stored - 1) / span / (N / P); span = first to last stored PUT.",
    ]
    for outcome in outcomes:
        met = outcome.refused == 0 and outcome.share >= TARGET_SHARE
        notes.append(
            f"target (0 429s, >= {100 * TARGET_SHARE:.0f}% of the rate) for {outcome.label}: "
            f"{verdict(met)}"
        )
    emit("rate", "Writes against a strict sliding-window limit", body, notes)


if __name__ == "__main__":
    main()
