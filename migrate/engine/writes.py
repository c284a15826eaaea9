"""``apply``, ``retry`` and ``rollback``: one entry point each, one runner for all three.

``apply RUN`` reconciles the run's ``in_flight`` rows first, then writes its ``planned`` rows in
plan order; running it again continues where it stopped. ``retry RUN`` takes the rows whose last
outcome is a retryable failure; with ``all_rows`` also conflicts and permanent failures, which
are re-planned first (fresh read, rules from the stored sheet rows, validation). ``rollback RUN``
restores the pre-image of every row the run updated, refusing rows changed since.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from migrate.engine.execute import Executor
from migrate.engine.operations import APPLY, RETRY, RETRY_ALL, ROLLBACK, OperationSpec
from migrate.engine.options import (
    NOTICE,
    ApplyOptions,
    Connection,
    ProgressCallback,
    Tally,
    no_progress,
    notices,
)
from migrate.engine.plan import build_plan, failed_read
from migrate.engine.pool import Aborted, Stop, run_pool, signals_stop
from migrate.engine.runfolder import check_writable, now_iso
from migrate.engine.session import AttemptStats, attempt_context, check_connection, open_client
from migrate.errors import ApiError, ConfigError
from migrate.journal import JOURNAL_FILE, Journal, replan_write
from migrate.vocabulary import PENDING, PHASE_KEYS, AttemptKind, Meta, RowRecord, RowState


class TargetMismatch(ConfigError):
    """The run was planned against another account than the one given now."""

    def __init__(self, run_dir: Path, planned: str, given: str, planned_url: str) -> None:
        super().__init__(f"{run_dir} was planned against {planned}, not {given}")
        self.run_dir = run_dir
        self.planned = planned
        self.given = given
        self.planned_url = planned_url


def apply_run(
    run_dir: Path,
    connection: Connection,
    options: ApplyOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """Apply (or resume applying) a planned run."""
    return asyncio.run(run_operation(APPLY, run_dir, connection, options, progress))


def retry_run(
    run_dir: Path,
    connection: Connection,
    options: ApplyOptions | None = None,
    *,
    all_rows: bool = False,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """Re-attempt retryable failures (``all_rows``: also conflicts and permanent failures)."""
    spec = RETRY_ALL if all_rows else RETRY
    return asyncio.run(run_operation(spec, run_dir, connection, options, progress))


def rollback_run(
    run_dir: Path,
    connection: Connection,
    options: ApplyOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """Restore every row this run updated, refusing rows changed since by someone else."""
    return asyncio.run(run_operation(ROLLBACK, run_dir, connection, options, progress))


def open_run(run_dir: Path, connection: Connection, command: str) -> Journal:
    """Open and lock a planned run's journal, checking it matches this connection."""
    journal = Journal.open(run_dir / JOURNAL_FILE)
    try:
        journal.lock(command)
        meta = journal.metadata()
        if not meta.get(Meta.PLAN_FINISHED_AT):
            raise ConfigError(
                f"the plan of {run_dir} did not finish (it was interrupted): plan the sheet again"
            )
        planned = meta.get(Meta.TARGET, "")
        if planned != connection.target:
            raise TargetMismatch(
                run_dir, planned, connection.target, meta.get(Meta.BASE_URL, planned)
            )
        check_writable(run_dir)
    except BaseException:
        journal.close()
        raise
    return journal


async def run_operation(
    spec: OperationSpec,
    run_dir: Path,
    connection: Connection,
    options: ApplyOptions | None,
    progress: ProgressCallback,
) -> Tally:
    """Open the run, check the connection, and run the pool over the selected rows."""
    options = options or ApplyOptions()
    started = time.monotonic()
    journal = open_run(run_dir, connection, spec.name)
    try:
        meta = journal.metadata()
        stop = Stop()
        stats = AttemptStats()
        notice = notices(progress, spec.name, NOTICE)
        if journal.lock_taken_over is not None:
            notice(f"note: took over the run lock of {journal.lock_taken_over.describe()}, "
                   "which ended without releasing it")  # fmt: skip
        with signals_stop(stop, options.handle_signals):
            async with open_client(
                connection, journal, spec.operation, stats, stop, progress
            ) as client:
                stop.on_first_signal = lambda: notice(
                    f"stopping: {client.writes_in_flight} write(s) in flight, waiting up to "
                    f"{connection.timeout:g} s; Ctrl-C again to leave now"
                )
                await check_connection(client, connection.base_url)
                started_key, _ = PHASE_KEYS[spec.operation]
                if not meta.get(started_key):
                    journal.set_metadata({started_key: now_iso()})
                total, rows = select_rows(journal, spec)
                cap = options.row_cap
                if cap is not None:
                    total = min(total, cap)
                executor = Executor(
                    journal, client, connection, spec, options, stop, progress, total
                )
                handle = executor.handle if spec.replan is None else _replanning(executor)
                try:
                    await run_pool(
                        _capped(rows, cap), handle, concurrency=connection.concurrency, stop=stop
                    )
                finally:
                    await executor.commit.finish()
            journal.flush()
        counts = journal.counts()
        left = sum(counts[state] for state in spec.pending)
        if not stop.requested and not left:
            journal.set_metadata({PHASE_KEYS[spec.operation][1]: now_iso()})
        tally = Tally(
            operation=spec.name,
            run_dir=run_dir,
            run_id=meta.get(Meta.RUN_ID, run_dir.name),
            counts=counts,
            this_run=dict(executor.outcomes),
            stopped=stop.reason,
            interrupted=stop.interrupted,
            elapsed=time.monotonic() - started,
            puts=stats.puts,
            rate_limited=stats.rate_limited,
            unfinished=executor.unfinished,
            problems=spec.exit_problems,
            left=left if spec.pending is PENDING else 0,
        )
        if cap is not None and not stop.requested and executor.done >= cap:
            tally.stopped = "canary" if options.canary == cap else "limit"
        return tally
    finally:
        journal.close()


def _replanning(executor: Executor) -> Callable[[int], Awaitable[None]]:
    """A row handler that re-plans the rows ``spec.replan`` picks before writing them."""
    replan = executor.spec.replan
    assert replan is not None

    async def handle(row_id: int) -> None:
        row = executor.journal.row(row_id, bodies=False)
        if row.state is not RowState.IN_FLIGHT and replan(row) and not await _replan(executor, row):
            return
        await executor.handle(row_id)

    return handle


async def _replan(executor: Executor, row: RowRecord) -> bool:
    """Plan one row again from a fresh read; True when it is ``planned`` and should be written."""
    if executor.stop.requested:
        return False
    try:
        with attempt_context(AttemptKind.GET, row.id):
            body = await executor.stop.guard(executor.client.get_scenario(row.scenario_id))
    except Aborted:
        return False
    except ApiError as exc:
        fresh = failed_read(row.scenario_id, row.name, row.sheet_refs, exc)
    else:
        fresh = build_plan(row.scenario_id, body, row.sheet_refs)
    await executor.commit.write(replan_write(row.id, fresh))
    if fresh.state is not RowState.PLANNED:
        executor.count(fresh.state)
        return False
    return True


async def _capped(rows: AsyncIterator[int], cap: int | None) -> AsyncIterator[int]:
    taken = 0
    async for row_id in rows:
        if cap is not None and taken >= cap:
            return
        taken += 1
        yield row_id


def select_rows(journal: Journal, spec: OperationSpec) -> tuple[int, AsyncIterator[int]]:
    """How many rows the operation takes, and their ids (selection by selection, in plan order).

    ``in_flight`` rows are taken only when they belong to the operation.
    """
    operation = spec.operation
    total = sum(
        journal.count_rows([state], retryable=retryable, operation=operation)
        for state, retryable in spec.selection
    )

    async def ids() -> AsyncIterator[int]:
        for state, retryable in spec.selection:
            last = 0
            while page := journal.row_ids(
                state, retryable=retryable, operation=operation, after_id=last
            ):
                for row_id in page:
                    yield row_id
                last = page[-1]

    return total, ids()
