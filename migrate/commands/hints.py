"""The commands the tool suggests, built so that each runs as printed (DESIGN §3).

Every hint ends its line with ``ivr-migrate …``: the command and the flags it needs to reach
the same account (``--sandbox``, or ``--base-url`` when it is not the default), the same
worksheet (``--sheet``), the same sandbox seed (``--sandbox-seed``) and the write rate the
operator chose; paths are quoted for a POSIX shell. A hint never carries ``--yes``: writing
after a review is the operator's decision, asked on a terminal.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from migrate.commands.connect import NetOptions, is_sandbox_target
from migrate.config import DEFAULT_BASE_URL
from migrate.engine.options import Connection, Tally
from migrate.engine.status import RunStatus
from migrate.vocabulary import Meta, Operation, RowState


def command_line(*words: str | Path) -> str:
    """``ivr-migrate`` and ``words``, each quoted for a POSIX shell when it needs it."""
    return " ".join(["ivr-migrate", *(shlex.quote(str(word)) for word in words)])


@dataclass(frozen=True)
class Hints:
    """What a suggested command must repeat of the invocation that prints it."""

    sandbox: bool = False
    sandbox_seed: Path | None = None
    #: The run's base URL, when a later command must be told it (not the default).
    base_url: str | None = None
    #: ``--write-rate`` as the operator gave it, for the commands that write.
    write_rate: str | None = None
    #: The sheet and worksheet, for the hints that plan it (again).
    sheet: Path | None = None
    sheet_name: str | None = None
    #: ``--accounts FILE`` as given (the default ``./ivr-migrate.toml`` needs no flag).
    accounts: Path | None = None

    @classmethod
    def of(
        cls,
        net: NetOptions,
        connection: Connection | None = None,
        *,
        sheet: Path | None = None,
        sheet_name: str | None = None,
    ) -> Hints:
        """The hints of a command that ran with ``net`` (against ``connection``, once known)."""
        base_url = connection.base_url if connection is not None else net.base_url
        sandbox = net.sandbox or (connection is not None and is_sandbox_target(connection.target))
        if sandbox or base_url == DEFAULT_BASE_URL:
            base_url = None
        return cls(
            sandbox=sandbox,
            sandbox_seed=net.sandbox_seed,
            base_url=base_url,
            write_rate=net.write_rate,
            sheet=sheet,
            sheet_name=sheet_name,
            accounts=net.accounts,
        )

    @classmethod
    def of_run(cls, net: NetOptions, status: RunStatus) -> Hints:
        """The hints about a run before connecting to it: its account from its journal."""
        meta = status.metadata
        sandbox = net.sandbox or is_sandbox_target(meta.get(Meta.TARGET, ""))
        base_url = net.base_url or meta.get(Meta.BASE_URL)
        if sandbox or base_url == DEFAULT_BASE_URL:
            base_url = None
        return cls(
            sandbox=sandbox, base_url=base_url, write_rate=net.write_rate, accounts=net.accounts
        )

    def _account(self, *, new: bool) -> list[str]:
        accounts = ["--accounts", str(self.accounts)] if self.accounts else []
        if self.sandbox:
            seed = ["--sandbox-seed", str(self.sandbox_seed)] if new and self.sandbox_seed else []
            return ["--sandbox", *seed, *accounts]
        if accounts:
            return accounts
        return ["--base-url", self.base_url] if self.base_url else []

    def on_run(self, command: str, run: Path, *flags: str) -> str:
        """``ivr-migrate apply RUN …``: a command that continues a run folder."""
        rate = ["--write-rate", self.write_rate] if self.write_rate else []
        return command_line(command, run, *flags, *self._account(new=False), *rate)

    def plan_sheet(self, sheet: Path | None = None) -> str:
        """``ivr-migrate plan SHEET …``: plan the sheet (again) into a new run folder."""
        sheet = sheet or self.sheet
        worksheet = ["--sheet", self.sheet_name] if self.sheet_name and sheet == self.sheet else []
        return command_line(Operation.PLAN, sheet or "SHEET", *worksheet, *self._account(new=True))


def next_steps(
    tally: Tally,
    command: str,
    hints: Hints,
    status: RunStatus,
    again: Sequence[str] = (),
) -> list[str]:
    """What to run after ``command`` ended with ``tally``; ``again`` are the flags that repeat
    it (``retry --all``). ``status`` is the run's journal as the command left it."""
    run = tally.run_dir
    lines: list[str] = []
    if tally.interrupted and command == Operation.PLAN:
        lines.append(
            "interrupted: this plan is incomplete and cannot be applied; plan the sheet again: "
            + hints.plan_sheet()
        )
    elif tally.interrupted:
        lines.append(
            f"interrupted: {tally.left} row(s) left, the journal is consistent; continue with: "
            + hints.on_run(command, run, *again)
        )
    elif tally.stopped in ("canary", "limit"):
        if status.pending:
            done = sum(tally.this_run.values())
            lines.append(
                f"{tally.stopped}: stopped after {done} row(s); review {shlex.quote(str(run))}, "
                "then continue with: " + hints.on_run(command, run, *again)
            )
    elif tally.stopped:
        lines.append(f"stopped: {tally.stopped}")
    lines += _in_flight(status, hints, run)
    if command != Operation.PLAN and command != Operation.ROLLBACK and not tally.interrupted:
        lines += _retries(status, hints, run)
    return lines


def _in_flight(status: RunStatus, hints: Hints, run: Path) -> list[str]:
    """Rows whose write may or may not have been stored: the operation that owns them
    re-reads and settles them first thing when it runs again."""
    in_flight = status.counts.get(RowState.IN_FLIGHT, 0)
    owners = {
        Operation.APPLY: in_flight - status.in_flight_rollback,
        Operation.ROLLBACK: status.in_flight_rollback,
    }
    return [
        f"{count} row(s) in flight (stored or not: a re-read decides); settle them with: "
        + hints.on_run(owner, run)
        for owner, count in owners.items()
        if count
    ]


def _retries(status: RunStatus, hints: Hints, run: Path) -> list[str]:
    lines = []
    if status.failed_retryable:
        lines.append(
            f"{status.failed_retryable} failed row(s) may succeed on another try: "
            + hints.on_run("retry", run)
        )
    fresh = status.counts.get(RowState.CONFLICT, 0) + (
        status.counts.get(RowState.FAILED, 0) - status.failed_retryable
    )
    if fresh:
        lines.append(
            f"{fresh} conflicted or permanently failed row(s) need a fresh plan: "
            + hints.on_run("retry", run, "--all")
        )
    return lines
