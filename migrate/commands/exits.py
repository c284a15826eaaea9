"""Exit codes (DESIGN §3) and how errors become one line each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

from migrate.commands.connect import is_sandbox_target
from migrate.engine.options import Tally
from migrate.errors import (
    ApiError,
    IvrMigrateError,
    JournalError,
    SheetError,
    TargetMismatch,
    UsageError,
)


class ExitCode(IntEnum):
    OK = 0
    #: Some rows failed or conflicted (or a run-time failure stopped the command).
    ROWS_FAILED = 1
    #: Bad usage or bad input, found before any request was sent.
    USAGE = 2
    INTERRUPTED = 130


def tally_exit(tally: Tally) -> ExitCode:
    """The exit code of a finished command: interrupted, every row well, or some not."""
    if tally.interrupted:
        return ExitCode.INTERRUPTED
    return ExitCode.OK if tally.ok else ExitCode.ROWS_FAILED


class CommandExit(Exception):
    """Leave the command with ``code`` after printing ``lines`` on stderr."""

    def __init__(self, code: ExitCode, *lines: str) -> None:
        super().__init__(*lines)
        self.code = code
        self.lines = lines


def error_lines(exc: IvrMigrateError) -> tuple[ExitCode, list[str]]:
    """The exit code and the lines an error prints (every problem of a sheet, then a count)."""
    if isinstance(exc, SheetError):
        lines = [f"error: {problem}" for problem in exc.problems]
        if exc.total > 1:
            lines.append(f"{exc.total} problems found; nothing was sent.")
        return ExitCode.USAGE, lines
    if isinstance(exc, TargetMismatch):
        return ExitCode.USAGE, [f"error: {mismatch_message(exc)}"]
    if isinstance(exc, UsageError | JournalError):
        return ExitCode.USAGE, [f"error: {exc}"]
    if isinstance(exc, ApiError):
        return ExitCode.ROWS_FAILED, [f"error: {exc}"]
    return ExitCode.ROWS_FAILED, [f"error: {exc}"]


@contextmanager
def exits_on_errors() -> Iterator[None]:
    """Turn our exceptions into :class:`CommandExit` (one line each, the code of DESIGN §3)."""
    try:
        yield
    except IvrMigrateError as exc:
        code, lines = error_lines(exc)
        raise CommandExit(code, *lines) from None
    except KeyboardInterrupt:
        raise CommandExit(ExitCode.INTERRUPTED, "interrupted") from None


def mismatch_message(exc: TargetMismatch) -> str:
    """Why a run cannot continue against this account, and the flag that fixes it."""
    if is_sandbox_target(exc.planned):
        return f"{exc.run_dir} was planned against the embedded sandbox: add --sandbox"
    if is_sandbox_target(exc.given):
        return f"{exc.run_dir} was planned against {exc.planned_url}, not --sandbox"
    return (
        f"{exc.run_dir} was planned against {exc.planned_url}, not {exc.given}: "
        f"pass --base-url {exc.planned_url}"
    )
