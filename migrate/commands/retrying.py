"""``retry``: nothing to retry, said at once; what a retry will write, shown before asking.

``retry --all`` re-plans conflicts and permanent failures from a fresh read inside the engine,
right before writing each; the preview shows their current plan and why they failed, and says
that what is written is planned again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from migrate.commands.exits import CommandExit, ExitCode
from migrate.commands.hints import Hints
from migrate.commands.show import console, print_preview
from migrate.engine.status import RunStatus, run_status
from migrate.vocabulary import RowState


def _counts(status: RunStatus) -> tuple[int, int, int]:
    """Retryable failures (with apply's rows in flight), permanent failures, conflicts."""
    failed = status.counts[RowState.FAILED]
    in_flight = status.counts[RowState.IN_FLIGHT] - status.in_flight_rollback
    retryable = status.failed_retryable + in_flight
    return retryable, failed - status.failed_retryable, status.counts[RowState.CONFLICT]


def nothing_to_retry(status: RunStatus, all_rows: bool, hints: Hints) -> None:
    """Leave at once, saying why, when the retry would take no row."""
    retryable, permanent, conflicts = _counts(status)
    # a retry --all refused at its question leaves its rows planned again: it takes them
    waiting = status.counts[RowState.PLANNED] if all_rows else 0
    if retryable or (all_rows and permanent + conflicts + waiting):
        return
    run = status.run_dir
    if permanent + conflicts:
        raise CommandExit(
            ExitCode.ROWS_FAILED,
            f"nothing to retry: no row of {run} failed in a way another try may fix; "
            f"{conflicts} conflict(s) and {permanent} permanent failure(s) need a fresh plan: "
            + hints.on_run("retry", run, "--all"),
        )
    raise CommandExit(
        ExitCode.OK, f"nothing to retry: {run} has no failed, conflicted or in-flight row"
    )


def retry_question(status: RunStatus, all_rows: bool, where: str) -> str:
    retryable, permanent, conflicts = _counts(status)
    if all_rows:
        return (
            f"Retry {retryable + permanent + conflicts} row(s) on {where} ({retryable} failed "
            f"(retryable) or in flight, {permanent} failed (permanent) and {conflicts} "
            "conflict(s), these planned again first)?"
        )
    return f"Retry {retryable} failed (retryable) or in-flight row(s) on {where}?"


def replanned_question(run_dir: Path, where: str) -> str:
    status = run_status(run_dir, times=False)
    return (
        f"Write {status.counts[RowState.PLANNED]} re-planned row(s) and retry "
        f"{status.failed_retryable} failed (retryable) row(s) on {where}?"
    )


def replanned_preview(run_dir: Path) -> Callable[[], None]:
    """The rows as just planned again (and the retryable failures), before asking."""

    def show() -> None:
        out = console(stderr=True)
        print_preview(run_dir, [RowState.PLANNED, RowState.FAILED], out, what="to write")
        out.print(
            "The conflicts and permanent failures were just planned again from a fresh read; "
            "each is read once more in its write turn and refused if it changed meanwhile."
        )

    return show


def retry_preview(run_dir: Path, all_rows: bool) -> Callable[[], None]:
    states = [RowState.IN_FLIGHT, RowState.FAILED]
    if all_rows:
        states.append(RowState.CONFLICT)

    def show() -> None:
        out = console(stderr=True)
        print_preview(run_dir, states, out, what="to retry")
        if all_rows:
            out.print(
                "Conflicts and permanent failures are planned again from a fresh read right "
                "before they are written: the changes above are their last plan."
            )

    return show
