"""The floor of bench/throughput.py: bare aiohttp GET + PUT at a fixed concurrency, nothing else.

No journal, no checks, no retries, no reports: one ``ClientSession`` over one
``TCPConnector(limit=CONCURRENCY)``, CONCURRENCY workers taking ids from one shared iterator,
each GETting a scenario and PUTting it back with `` (2026)`` appended to its name. Whatever
ivr-migrate spends beyond this is the price of its safety. It runs as a child process of the
benchmark, so that its CPU is measured by ``wait4`` like the other sides.

    .venv/bin/python bench/floor.py BASE_URL IDS_FILE [CONCURRENCY]
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from _common import API_ROOT, BENCH_KEY, NAME_SUFFIX, WRITABLE_FIELDS

DEFAULT_CONCURRENCY = 32


async def rename_all(base_url: str, ids: list[str], concurrency: int) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"App {BENCH_KEY}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        pending = iter(ids)
        await asyncio.gather(*(worker(session, base_url, pending) for _ in range(concurrency)))


async def worker(session: aiohttp.ClientSession, base_url: str, pending: Iterator[str]) -> None:
    # One iterator shared by every worker: each id is taken exactly once.
    for scenario_id in pending:
        url = f"{base_url}{API_ROOT}/{scenario_id}"
        async with session.get(url) as response:
            response.raise_for_status()
            scenario = await response.json()
        body = {key: scenario[key] for key in WRITABLE_FIELDS if key in scenario}
        body["name"] = scenario["name"] + NAME_SUFFIX
        async with session.put(url, json=body) as response:
            response.raise_for_status()
            await response.read()


def main() -> None:
    base_url, ids_file = sys.argv[1], sys.argv[2]
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else DEFAULT_CONCURRENCY
    ids = Path(ids_file).read_text().split()
    asyncio.run(rename_all(base_url, ids, concurrency))


if __name__ == "__main__":
    main()
