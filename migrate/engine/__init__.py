"""The migration engine: plan, apply, retry, rollback and status of a run.

Core functions take typed values and return a :class:`Tally` (or :class:`RunStatus`); they
never print, exit or start a sandbox. Progress is reported through a callback. The journal they
keep in the run folder is ``migrate/journal``; the run's vocabulary is ``migrate/vocabulary.py``.
"""

from migrate.engine.operations import APPLY, RETRY, RETRY_ALL, ROLLBACK, OperationSpec
from migrate.engine.options import (
    ApplyOptions,
    Connection,
    FailureLimit,
    ProgressCallback,
    ProgressEvent,
    Tally,
)
from migrate.engine.plan import PreparedRun, discard_run_folder, plan_run, prepare_run
from migrate.engine.runfolder import resolve_run
from migrate.engine.status import RunStatus, run_status
from migrate.engine.writes import TargetMismatch, apply_run, retry_run, rollback_run, run_sheet

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
    "TargetMismatch",
    "apply_run",
    "discard_run_folder",
    "plan_run",
    "prepare_run",
    "resolve_run",
    "retry_run",
    "rollback_run",
    "run_sheet",
    "run_status",
]
