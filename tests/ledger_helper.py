"""A separate process for tests/test_ledger.py (test code, not shipped).

``turns PATH ACCOUNT COUNT PERIOD TURNS``
    takes TURNS turns at COUNT per PERIOD seconds through the async ledger, as a write limiter
    would, and prints the wall-clock time of every start the ledger recorded, one per line.
``hold PATH ACCOUNT``
    opens the ledger's file, begins a write transaction, records a start and a rate of one write
    per hour for ACCOUNT inside it, prints ``holding`` and sleeps there until killed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path

from migrate.config import Rate
from migrate.ledger import AccountLedger, WriteLedger

HOUR = 3600.0


class RecordingClock:
    """``time.time``, remembering its last reading: the start a successful turn recorded."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self) -> float:
        self.last = time.time()
        return self.last


async def take_turns(path: Path, account: str, rate: Rate, turns: int) -> None:
    clock = RecordingClock()
    ledger = AccountLedger(WriteLedger(path, clock=clock), account)
    for _ in range(turns):
        await ledger.take_turn(rate, 0.0)
        print(repr(clock.last), flush=True)
    ledger.close()


def hold(path: Path, account: str) -> None:
    WriteLedger(path).close()  # the schema exists before we hold the lock
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    now = time.time()
    db.execute("INSERT INTO starts VALUES (?, ?)", (account, now))
    db.execute("INSERT INTO rates VALUES (?, 1, ?, ?)", (account, HOUR, now + HOUR))
    print("holding", flush=True)
    time.sleep(HOUR)


def main(argv: list[str]) -> None:
    command, path, account, *rest = argv
    if command == "turns":
        count, period, turns = rest
        asyncio.run(take_turns(Path(path), account, Rate(int(count), float(period)), int(turns)))
    elif command == "hold":
        hold(Path(path), account)
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
