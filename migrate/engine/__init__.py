"""The migration engine: plan, apply, retry, rollback and status of a run.

Core functions take typed values and return a :class:`Tally` (or :class:`RunStatus`); they
never print, exit or start a sandbox. Progress is reported through a callback. The journal they
keep in the run folder is ``migrate/journal``; the run's vocabulary is ``migrate/vocabulary.py``.

Names are loaded on first use (PEP 562), so that a command that only reads a run folder
(``status``, ``report``) does not import aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migrate.engine.operations import APPLY, RETRY, RETRY_ALL, ROLLBACK, OperationSpec
    from migrate.engine.options import (
        ApplyOptions,
        Connection,
        FailureLimit,
        ProgressCallback,
        ProgressEvent,
        Tally,
    )
    from migrate.engine.plan import (
        PreparedRun,
        discard_run_folder,
        plan_run,
        prepare_run,
        queue_run,
    )
    from migrate.engine.runfolder import resolve_run
    from migrate.engine.status import RunStatus, run_status
    from migrate.engine.writes import (
        apply_run,
        replan_run,
        retry_run,
        rollback_run,
        run_sheet,
        write_replanned_run,
    )

_WHERE = {
    "APPLY": "migrate.engine.operations",
    "RETRY": "migrate.engine.operations",
    "RETRY_ALL": "migrate.engine.operations",
    "ROLLBACK": "migrate.engine.operations",
    "OperationSpec": "migrate.engine.operations",
    "ApplyOptions": "migrate.engine.options",
    "Connection": "migrate.engine.options",
    "FailureLimit": "migrate.engine.options",
    "ProgressCallback": "migrate.engine.options",
    "ProgressEvent": "migrate.engine.options",
    "Tally": "migrate.engine.options",
    "PreparedRun": "migrate.engine.plan",
    "discard_run_folder": "migrate.engine.plan",
    "plan_run": "migrate.engine.plan",
    "prepare_run": "migrate.engine.plan",
    "queue_run": "migrate.engine.plan",
    "resolve_run": "migrate.engine.runfolder",
    "RunStatus": "migrate.engine.status",
    "run_status": "migrate.engine.status",
    "apply_run": "migrate.engine.writes",
    "retry_run": "migrate.engine.writes",
    "rollback_run": "migrate.engine.writes",
    "run_sheet": "migrate.engine.writes",
    "replan_run": "migrate.engine.writes",
    "write_replanned_run": "migrate.engine.writes",
}

__all__ = [
    "APPLY",
    "RETRY",
    "RETRY_ALL",
    "ROLLBACK",
    "ApplyOptions",
    "Connection",
    "FailureLimit",
    "OperationSpec",
    "PreparedRun",
    "ProgressCallback",
    "ProgressEvent",
    "RunStatus",
    "Tally",
    "apply_run",
    "discard_run_folder",
    "plan_run",
    "prepare_run",
    "queue_run",
    "replan_run",
    "resolve_run",
    "retry_run",
    "rollback_run",
    "run_sheet",
    "run_status",
    "write_replanned_run",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
