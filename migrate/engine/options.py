"""Value objects the engine takes and returns: connection, apply options, progress, tally."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from migrate.config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_READ_RATE,
    DEFAULT_TIMEOUT,
    DEFAULT_WRITE_RATE,
    Credentials,
    Rate,
)
from migrate.errors import ConfigError
from migrate.retry import DEFAULT_RETRY, RetryPolicy
from migrate.vocabulary import PROBLEM_STATES, RowState, tally_line


@dataclass(frozen=True)
class Connection:
    """Where and how to talk to the API. Credentials stay in memory only."""

    base_url: str
    credentials: Credentials = field(repr=False)
    read_rate: Rate = DEFAULT_READ_RATE
    write_rate: Rate = DEFAULT_WRITE_RATE
    concurrency: int = DEFAULT_CONCURRENCY
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = DEFAULT_RETRY
    #: Take every write's turn in the account's ledger shared by all ivr-migrate processes on
    #: this machine (``migrate/ledger.py``), at ``ledger_path`` (default: the user's state dir).
    shared_budget: bool = True
    ledger_path: Path | None = None
    #: The account's name in a run over several accounts (``--accounts``); empty for one.
    account: str = ""
    #: Which account this is, recorded in a run's metadata and checked when the run is
    #: continued: the base URL unless the caller names it otherwise (the embedded sandbox,
    #: whose loopback URL changes at every start).
    target: str = ""

    def __post_init__(self) -> None:
        if not self.target:
            object.__setattr__(self, "target", self.base_url)
        if self.concurrency < 1:
            raise ConfigError(f"--concurrency must be at least 1, not {self.concurrency}")
        if self.timeout <= 0:
            raise ConfigError(f"--timeout must be positive, not {self.timeout:g}")


Connections = Connection | Sequence[Connection]


def as_connections(connections: Connections) -> list[Connection]:
    """One connection per account of the run (a run over one account has one, named "")."""
    found = [connections] if isinstance(connections, Connection) else list(connections)
    names = [c.account for c in found]
    if not found or len(set(names)) != len(names):
        raise ConfigError("give one connection per account, each with its own name")
    return found


@dataclass(frozen=True)
class FailureLimit:
    """``--max-failures N`` or ``N%``: stop once more rows than this have failed or conflicted."""

    count: int | None = None
    percent: float | None = None

    @classmethod
    def parse(cls, text: str) -> FailureLimit:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", text)
        if not match:
            raise ConfigError(f"--max-failures {text!r}: write a count (10) or a percentage (5%)")
        number, percent = match.groups()
        if percent:
            value = float(number)
            if value > 100:
                raise ConfigError(f"--max-failures {text!r}: a percentage is at most 100%")
            return cls(percent=value)
        if "." in number:
            raise ConfigError(f"--max-failures {text!r}: a count is a whole number")
        return cls(count=int(number))

    def threshold(self, total: int) -> int:
        """The number of failures allowed among ``total`` rows; one more stops the run."""
        if self.count is not None:
            return self.count
        return math.floor((self.percent or 0.0) * total / 100)

    def __str__(self) -> str:
        return f"{self.percent:g}%" if self.percent is not None else str(self.count)


@dataclass(frozen=True)
class ApplyOptions:
    """Safety rails of ``apply``, ``run``, ``retry`` and ``rollback``."""

    #: Apply this many rows, then stop for review.
    canary: int | None = None
    #: Apply at most this many rows this time.
    limit: int | None = None
    max_failures: FailureLimit | None = None
    #: Install SIGINT/SIGTERM handlers (only possible in the main thread).
    handle_signals: bool = True

    def __post_init__(self) -> None:
        for name, value in (("--canary", self.canary), ("--limit", self.limit)):
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, not {value}")

    @property
    def row_cap(self) -> int | None:
        caps = [n for n in (self.canary, self.limit) if n is not None]
        return min(caps) if caps else None


@dataclass(frozen=True)
class ProgressEvent:
    """What the core reports while it works; the CLI renders it."""

    operation: str
    #: ``search``, ``read`` (plan), ``write`` (apply, retry, rollback)
    phase: str
    done: int
    total: int | None
    #: Outcomes decided so far in this invocation, by state.
    counts: Mapping[str, int]
    message: str | None = None
    #: The account of a run over several accounts (empty for a run over one).
    account: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


#: Phases of events that only carry a line to show now: one always shown (``stopping: …``),
#: one that is progress (``waiting 8 s for the account's write window``).
NOTICE: Final = "notice"
WAIT: Final = "wait"

Notice = Callable[[str], None]


def notices(
    progress: ProgressCallback, operation: str, phase: str = NOTICE, account: str = ""
) -> Notice:
    """A function that reports one line now, as a :class:`ProgressEvent` with a message."""
    prefix = f"{account}: " if account else ""

    def notice(text: str) -> None:
        progress(ProgressEvent(operation, phase, 0, None, {}, prefix + text, account))

    return notice


def no_progress(event: ProgressEvent) -> None:
    """The default progress callback: nothing."""


@dataclass
class AccountTally:
    """One account's part of a run over several accounts."""

    #: Rows of the account per state, after this invocation.
    counts: Mapping[str, int]
    #: Outcomes decided by this invocation, by state.
    this_run: dict[str, int] = field(default_factory=dict)
    #: Why the account's rows stopped early (its credentials refused, unreachable), or None.
    stopped: str | None = None
    puts: int = 0
    rate_limited: int = 0
    planned: int = 0
    eta_seconds: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "this_run": self.this_run,
            "stopped": self.stopped,
            "puts": self.puts,
            "rate_limited": self.rate_limited,
            "planned_writes": self.planned,
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
        }


@dataclass
class Tally:
    """The outcome of one ``plan``/``apply``/``retry``/``rollback`` invocation."""

    operation: str
    run_dir: Path
    run_id: str
    #: Rows per state over the whole run, after this invocation.
    counts: Mapping[str, int]
    #: Outcomes decided by this invocation, by state.
    this_run: dict[str, int] = field(default_factory=dict)
    #: A rail that stopped the run early (canary, limit, max-failures), or ``None``.
    stopped: str | None = None
    interrupted: bool = False
    elapsed: float = 0.0
    puts: int = 0
    rate_limited: int = 0
    #: Rows this invocation handed back unfinished (a rollback that could not restore a row).
    unfinished: int = 0
    #: ``plan`` only: rows to write and the minimum time the write limit allows for them.
    planned: int = 0
    eta_seconds: float | None = None

    #: Rows the operation has still to do (e.g. after an interrupt); the hint says how to go on.
    left: int = 0
    #: States that make the exit code 1 (the operation's; :data:`PROBLEM_STATES` for plan).
    problems: frozenset[RowState] = PROBLEM_STATES
    #: A run over several accounts: each account's part, by name (empty for one account).
    accounts: dict[str, AccountTally] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No row in a problem state, none left unfinished (exit code 0)."""
        return not self.unfinished and not any(self.counts.get(s) for s in self.problems)

    def line(self) -> str:
        return tally_line(self.counts)

    def as_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "ok": self.ok,
            "interrupted": self.interrupted,
            "stopped": self.stopped,
            "counts": self.counts,
            "this_run": self.this_run,
            "elapsed_seconds": round(self.elapsed, 3),
            "puts": self.puts,
            "rate_limited": self.rate_limited,
            "planned_writes": self.planned,
            "left": self.left,
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
            "accounts": {name: part.as_json() for name, part in self.accounts.items()},
        }
