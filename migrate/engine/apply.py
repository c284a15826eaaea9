"""``apply`` and ``retry``: write planned bodies, resume, and re-attempt failures.

``apply RUN`` reconciles the run's ``in_flight`` rows first, then writes its ``planned`` rows in
plan order; running it again continues where it stopped. ``retry RUN`` takes the rows whose last
outcome is a retryable failure; with ``all_rows`` also conflicts and permanent failures, which
are re-planned first (fresh read, rules from the stored sheet rows, validation).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Final

from migrate.engine.execute import Direction, Executor, Selection, execute, select_rows
from migrate.engine.options import ApplyOptions, Connection, ProgressCallback, Tally, no_progress
from migrate.engine.plan import build_plan, failed_read
from migrate.engine.pool import Aborted
from migrate.engine.session import attempt_context
from migrate.errors import ApiError
from migrate.journal import (
    META_APPLY_FINISHED_AT,
    META_APPLY_STARTED_AT,
    AttemptKind,
    Operation,
    RowRecord,
    RowState,
    replan_write,
)

APPLY: Final = Direction(
    operation=Operation.APPLY,
    name="apply",
    body_column="planned_body",
    target_body=lambda body: body,
    target_fingerprint=lambda row: row.planned_fingerprint,
    base_fingerprint=lambda row: row.read_fingerprint,
    done=RowState.UPDATED,
    conflict=RowState.CONFLICT,
    store_pre_image=True,
    started_key=META_APPLY_STARTED_AT,
    finished_key=META_APPLY_FINISHED_AT,
    pending=frozenset({RowState.PLANNED, RowState.IN_FLIGHT}),
)
RETRY: Final = replace(APPLY, name="retry")

APPLY_SELECTION: Final[Selection] = [(RowState.IN_FLIGHT, None), (RowState.PLANNED, None)]
RETRY_SELECTION: Final[Selection] = [(RowState.IN_FLIGHT, None), (RowState.FAILED, True)]
RETRY_ALL_SELECTION: Final[Selection] = [
    *RETRY_SELECTION,
    (RowState.FAILED, False),
    (RowState.CONFLICT, None),
]


def apply_run(
    run_dir: Path,
    connection: Connection,
    options: ApplyOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """Apply (or resume applying) a planned run."""
    return asyncio.run(
        execute(
            run_dir,
            connection,
            APPLY,
            options or ApplyOptions(),
            progress,
            lambda journal: select_rows(journal, APPLY_SELECTION, Operation.APPLY),
        )
    )


def retry_run(
    run_dir: Path,
    connection: Connection,
    options: ApplyOptions | None = None,
    *,
    all_rows: bool = False,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """Re-attempt retryable failures (``all_rows``: also conflicts and permanent failures)."""
    selection = RETRY_ALL_SELECTION if all_rows else RETRY_SELECTION

    async def prepare(executor: Executor, row_id: int) -> None:
        row = executor.journal.row(row_id, bodies=False)
        replan = row.planned_fingerprint is None or (
            all_rows and (row.state is RowState.CONFLICT or row.retryable is False)
        )
        if replan and row.state is not RowState.IN_FLIGHT and not await _replan(executor, row):
            return
        await executor.process(row_id)

    return asyncio.run(
        execute(
            run_dir,
            connection,
            RETRY,
            options or ApplyOptions(),
            progress,
            lambda journal: select_rows(journal, selection, Operation.APPLY),
            prepare,
        )
    )


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
        fresh = failed_read(row.scenario_id, row.name, row.sheet_rows, exc)
    else:
        fresh = build_plan(row.scenario_id, body, row.sheet_rows)
    await executor.commit.write(replan_write(row.id, fresh))
    if fresh.state is not RowState.PLANNED:
        executor.count(str(fresh.state))
        return False
    return True
