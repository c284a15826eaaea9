"""The migration engine: plan, apply, retry, rollback and status of a run.

Core functions take typed values and return a :class:`Tally` (or :class:`RunStatus`); they
never print or exit. Progress is reported through a callback. See ``migrate/journal.py`` for
the journal they keep in the run folder.
"""

from migrate.engine.apply import apply_run, retry_run
from migrate.engine.options import (
    ApplyOptions,
    Connection,
    FailureLimit,
    ProgressCallback,
    ProgressEvent,
    Tally,
)
from migrate.engine.plan import PreparedRun, discard_run_folder, plan_run, prepare_run
from migrate.engine.rollback import rollback_run
from migrate.engine.runfolder import SANDBOX_DB, resolve_run
from migrate.engine.status import RunStatus, run_status

__all__ = [
    "SANDBOX_DB",
    "ApplyOptions",
    "Connection",
    "FailureLimit",
    "PreparedRun",
    "ProgressCallback",
    "ProgressEvent",
    "RunStatus",
    "Tally",
    "apply_run",
    "discard_run_folder",
    "plan_run",
    "prepare_run",
    "resolve_run",
    "retry_run",
    "rollback_run",
    "run_status",
]
