"""``apply``, ``retry`` and ``rollback``: one entry point each, one runner for all three.

``apply RUN`` reconciles the run's ``in_flight`` rows first, then writes its ``planned`` rows in
plan order; running it again continues where it stopped. ``retry RUN`` takes the rows whose last
outcome is a retryable failure; with ``all_rows`` also conflicts and permanent failures, which
are re-planned first (fresh read, rules from the stored sheet rows, validation). ``rollback RUN``
restores the pre-image of every row the run updated, refusing rows changed since.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migrate.client import IvrClient
from migrate.engine.execute import Executor
from migrate.engine.operations import (
    APPLY,
    REPLAN,
    RETRY,
    RETRY_ALL,
    ROLLBACK,
    WRITE_REPLANNED,
    OperationSpec,
)
from migrate.engine.options import (
    NOTICE,
    AccountTally,
    ApplyOptions,
    Connection,
    Connections,
    ProgressCallback,
    Tally,
    as_connections,
    no_progress,
    notices,
)
from migrate.engine.plan import PreparedRun, queue_run
from migrate.engine.pool import Stop, run_pool, signals_stop
from migrate.engine.runfolder import check_writable, now_iso
from migrate.engine.session import AttemptStats, check_connection, open_client
from migrate.errors import ConfigError, TargetMismatch
from migrate.journal import JOURNAL_FILE, GroupCommit, Journal
from migrate.vocabulary import PENDING, PHASE_KEYS, Meta, RowState


def apply_run(
    run_dir: Path,
    connections: Connections,
    options: ApplyOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """Apply (or resume applying) a planned run."""
    return asyncio.run(run_operation(APPLY, run_dir, connections, options, progress))


def retry_run(
    run_dir: Path,
    connections: Connections,
    options: ApplyOptions | None = None,
    *,
    all_rows: bool = False,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """Re-attempt retryable failures (``all_rows``: also conflicts and permanent failures)."""
    spec = RETRY_ALL if all_rows else RETRY
    return asyncio.run(run_operation(spec, run_dir, connections, options, progress))


def replan_run(
    run_dir: Path,
    connections: Connections,
    *,
    progress: ProgressCallback = no_progress,
    handle_signals: bool = True,
) -> Tally:
    """``retry --all``'s first step: plan the conflicts and permanent failures again from a
    fresh read, and write nothing (so the new plan can be shown before it is written)."""
    options = ApplyOptions(handle_signals=handle_signals)
    return asyncio.run(run_operation(REPLAN, run_dir, connections, options, progress))


def write_replanned_run(
    run_dir: Path,
    connections: Connections,
    options: ApplyOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """``retry --all``'s second step: write the rows planned again (each re-read in its write
    turn first) and retry the retryable failures."""
    return asyncio.run(run_operation(WRITE_REPLANNED, run_dir, connections, options, progress))


def rollback_run(
    run_dir: Path,
    connections: Connections,
    options: ApplyOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """Restore every row this run updated, refusing rows changed since by someone else."""
    return asyncio.run(run_operation(ROLLBACK, run_dir, connections, options, progress))


def run_sheet(
    prepared: PreparedRun,
    connections: Connections,
    options: ApplyOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """``run --yes``: find the targets, then plan and write each scenario in one write turn,
    so that its plan read is also the guard of its PUT (two exchanges per scenario, not three).
    Interrupted, it continues with ``apply RUN`` like any run."""
    options = options or ApplyOptions()
    queued = queue_run(
        prepared, connections, progress=progress, handle_signals=options.handle_signals
    )
    if queued.interrupted or not queued.counts[RowState.PLANNED]:
        return queued
    return apply_run(prepared.run_dir, connections, options, progress=progress)


def open_run(run_dir: Path, connections: Sequence[Connection], command: str) -> Journal:
    """Open and lock a planned run's journal, checking it matches these accounts."""
    journal = Journal.open(run_dir / JOURNAL_FILE)
    try:
        journal.lock(command)
        meta = journal.metadata()
        if not meta.get(Meta.PLAN_FINISHED_AT):
            raise ConfigError(
                f"the plan of {run_dir} did not finish (it was interrupted): plan the sheet again"
            )
        planned = planned_targets(meta)
        for connection in connections:
            target = planned.get(connection.account)
            if target is None:
                raise ConfigError(_account_mismatch(run_dir, connection.account, list(planned)))
            if target[0] != connection.target:
                raise TargetMismatch(run_dir, target[0], connection.target, target[1])
        check_writable(run_dir)
    except BaseException:
        journal.close()
        raise
    return journal


def _account_mismatch(run_dir: Path, given: str, planned: list[str]) -> str:
    if planned == [""]:
        return (
            f"{run_dir} was planned for one account, without an accounts file: continue it "
            "without --accounts (and without ./ivr-migrate.toml in this folder)"
        )
    names = ", ".join(planned)
    if not given:
        return f"{run_dir} was planned over the accounts {names}: pass --accounts FILE"
    return f"{run_dir} has no account {given!r}: it was planned over the accounts {names}"


def planned_targets(meta: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Each account of a run: its target and base URL as planned."""
    if Meta.ACCOUNTS in meta:
        accounts = json.loads(meta[Meta.ACCOUNTS])
        return {name: (str(a["target"]), str(a["base_url"])) for name, a in accounts.items()}
    target = meta.get(Meta.TARGET, "")
    return {"": (target, meta.get(Meta.BASE_URL, target))}


@dataclass
class _Cap:
    """``--canary``/``--limit``: rows taken so far over every account of the run."""

    limit: int | None
    taken: int = 0

    async def capped(self, rows: AsyncIterator[int]) -> AsyncIterator[int]:
        async for row_id in rows:
            if self.limit is not None and self.taken >= self.limit:
                return
            self.taken += 1
            yield row_id


@dataclass
class _AccountRun:
    """One account's part of an operation."""

    connection: Connection
    stop: Stop
    stats: AttemptStats = field(default_factory=AttemptStats)
    executor: Executor | None = None
    client: IvrClient | None = None


async def run_operation(
    spec: OperationSpec,
    run_dir: Path,
    connections: Connections,
    options: ApplyOptions | None,
    progress: ProgressCallback,
) -> Tally:
    """Open the run and write every account's selected rows, each account on its own client
    (its own write budget and connections), all at once, into one journal."""
    options = options or ApplyOptions()
    started = time.monotonic()
    selected = as_connections(connections)
    journal = open_run(run_dir, selected, spec.name)
    try:
        meta = journal.metadata()
        stop = Stop()
        notice = notices(progress, spec.name, NOTICE)
        if journal.lock_taken_over is not None:
            notice(f"note: took over the run lock of {journal.lock_taken_over.describe()}, "
                   "which ended without releasing it")  # fmt: skip
        parts = [_AccountRun(connection, stop.child()) for connection in selected]
        stop.on_first_signal = lambda: notice(
            f"stopping: {sum(p.client.writes_in_flight for p in parts if p.client)} write(s) "
            f"in flight, waiting up to {max(c.timeout for c in selected):g} s; Ctrl-C again "
            "to leave now"
        )
        cap = _Cap(options.row_cap)
        commit = GroupCommit(journal)
        with signals_stop(stop, options.handle_signals):
            try:
                results = await asyncio.gather(
                    *(_run_account(spec, journal, commit, part, options, cap, progress)
                      for part in parts),
                    return_exceptions=True,
                )  # fmt: skip
            finally:
                await commit.finish()
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]
            journal.flush()
        return _tally(spec, run_dir, meta, journal, parts, stop, cap, options, started)
    finally:
        journal.close()


async def _run_account(
    spec: OperationSpec,
    journal: Journal,
    commit: GroupCommit,
    part: _AccountRun,
    options: ApplyOptions,
    cap: _Cap,
    progress: ProgressCallback,
) -> None:
    connection, stop = part.connection, part.stop
    try:
        async with open_client(
            connection, journal, spec.operation, part.stats, stop, progress
        ) as client:
            part.client = client
            try:
                await check_connection(client, connection.base_url)
            except ConfigError as exc:
                if not connection.account:
                    raise
                # one account's refused key or unreachable host stops that account only
                stop.request(str(exc))
                return
            started_key, _ = PHASE_KEYS[spec.operation]
            if not journal.metadata().get(started_key):
                journal.set_metadata({started_key: now_iso()})
            total, rows = select_rows(journal, spec, connection.account)
            if cap.limit is not None:
                total = min(total, cap.limit)
            executor = Executor(
                journal, commit, client, connection, spec, options, stop, progress, total
            )
            part.executor = executor
            await run_pool(
                cap.capped(rows), executor.handle, concurrency=connection.concurrency, stop=stop
            )
    except BaseException:
        stop.request("internal error")
        raise


def _tally(
    spec: OperationSpec,
    run_dir: Path,
    meta: Mapping[str, str],
    journal: Journal,
    parts: Sequence[_AccountRun],
    stop: Stop,
    cap: _Cap,
    options: ApplyOptions,
    started: float,
) -> Tally:
    counts = journal.counts()
    left = sum(counts[state] for state in spec.pending)
    stopped_parts = [p for p in parts if p.stop.reason is not None]
    if not stop.requested and not stopped_parts and not left:
        journal.set_metadata({PHASE_KEYS[spec.operation][1]: now_iso()})
    outcomes: dict[str, int] = {}
    for part in parts:
        for key, count in (part.executor.outcomes if part.executor else {}).items():
            outcomes[key] = outcomes.get(key, 0) + count
    multi = any(p.connection.account for p in parts)
    reasons = [
        f"{p.connection.account}: {p.stop.reason}" if multi else str(p.stop.reason)
        for p in stopped_parts
    ]
    tally = Tally(
        operation=spec.name,
        run_dir=run_dir,
        run_id=meta.get(Meta.RUN_ID, run_dir.name),
        counts=counts,
        this_run=outcomes,
        stopped=stop.reason or ("; ".join(reasons) if reasons else None),
        interrupted=stop.interrupted,
        elapsed=time.monotonic() - started,
        puts=sum(p.stats.puts for p in parts),
        rate_limited=sum(p.stats.rate_limited for p in parts),
        unfinished=sum(p.executor.unfinished for p in parts if p.executor),
        problems=spec.exit_problems,
        left=left if spec.pending is PENDING else 0,
    )
    if multi:
        for part in parts:
            name = part.connection.account
            tally.accounts[name] = AccountTally(
                counts=journal.counts(name),
                this_run=dict(part.executor.outcomes) if part.executor else {},
                stopped=part.stop.reason,
                puts=part.stats.puts,
                rate_limited=part.stats.rate_limited,
            )
    if cap.limit is not None and not stop.requested and not reasons and cap.taken >= cap.limit:
        tally.stopped = "canary" if options.canary == cap.limit else "limit"
    return tally


def select_rows(
    journal: Journal, spec: OperationSpec, account: str
) -> tuple[int, AsyncIterator[int]]:
    """How many rows of ``account`` the operation takes, and their ids (selection by
    selection, in plan order). ``in_flight`` rows are taken only when they are the operation's.
    """
    operation = spec.operation
    total = sum(
        journal.count_rows([state], retryable=retryable, operation=operation, account=account)
        for state, retryable in spec.selection
    )

    async def ids() -> AsyncIterator[int]:
        for state, retryable in spec.selection:
            last = 0
            while page := journal.row_ids(
                state, retryable=retryable, operation=operation, after_id=last, account=account
            ):
                for row_id in page:
                    yield row_id
                last = page[-1]

    return total, ids()
