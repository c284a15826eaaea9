"""``rollback``: restore the pre-image of every row the run updated.

Each ``updated`` row is read first: still what we wrote → marked ``in_flight`` (committed) and
the pre-image's writable fields are PUT back, then verified; already equal to the pre-image →
``rolled_back`` with no PUT; anything else (someone changed it since) → ``rollback_conflict``,
untouched. A rollback that cannot be completed leaves the row ``updated``, so running
``rollback`` again continues.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from migrate.engine.execute import Direction, Selection, execute, select_rows
from migrate.engine.options import ApplyOptions, Connection, ProgressCallback, Tally, no_progress
from migrate.journal import (
    META_ROLLBACK_FINISHED_AT,
    META_ROLLBACK_STARTED_AT,
    Operation,
    RowState,
    scenario_fields,
)

ROLLBACK: Final = Direction(
    operation=Operation.ROLLBACK,
    name="rollback",
    body_column="pre_image",
    target_body=scenario_fields,
    target_fingerprint=lambda row: row.pre_fingerprint,
    base_fingerprint=lambda row: row.planned_fingerprint,
    done=RowState.ROLLED_BACK,
    conflict=RowState.ROLLBACK_CONFLICT,
    store_pre_image=False,
    started_key=META_ROLLBACK_STARTED_AT,
    finished_key=META_ROLLBACK_FINISHED_AT,
    pending=frozenset({RowState.UPDATED, RowState.IN_FLIGHT}),
)

ROLLBACK_SELECTION: Final[Selection] = [(RowState.IN_FLIGHT, None), (RowState.UPDATED, None)]


def rollback_run(
    run_dir: Path,
    connection: Connection,
    options: ApplyOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> Tally:
    """Restore every row this run updated, refusing rows changed since by someone else."""
    return asyncio.run(
        execute(
            run_dir,
            connection,
            ROLLBACK,
            options or ApplyOptions(),
            progress,
            lambda journal: select_rows(journal, ROLLBACK_SELECTION, Operation.ROLLBACK),
        )
    )
