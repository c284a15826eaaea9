"""The run's reports, written by another process: a child, or the command's own successor.

At 100,000 rows the report tables need about 250 MB, which must not add to the memory a
day-long run's own process holds. At the end of a command run from the console, the command
hands over to ``ivr-migrate report RUN --finish CODE`` (``os.execve``: the same process, its
memory given back) which writes the reports, prints the last lines and exits with the
command's code; in the middle of one (``run`` before its question) a child writes them while
the command waits. Either gets no credentials: it reads only the journal.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReportResult:
    """Where the report page is, or why the reports were not written."""

    page: Path | None
    problem: str | None = None


#: Set by the console entry point: the command may hand its process over to the report
#: writer at its end (an in-process caller, such as a test runner, keeps its process).
HAND_OVER: list[bool] = [False]


def _report_argv(run_dir: Path, *extra: str) -> tuple[list[str], dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("INFOBIP_")}
    return [sys.executable, "-m", "migrate", "report", str(run_dir), *extra], env


def hand_over(run_dir: Path, code: int, *, to_stderr: bool, then_print: str | None) -> None:
    """Become ``ivr-migrate report RUN --finish CODE``, which prints ``report: …``, ``run
    folder: …`` and ``then_print`` (the JSON tally) and exits with ``code``. Returns only
    when a hand-over is not possible here (then the caller writes the reports in a child)."""
    if not HAND_OVER[0]:
        return
    extra = ["--finish", str(code)]
    if to_stderr:
        extra.append("--to-stderr")
    if then_print is not None:
        extra += ["--then-print", then_print]
    argv, env = _report_argv(run_dir, *extra)
    sys.stdout.flush()
    sys.stderr.flush()
    # on failure (no interpreter to exec here) the caller writes the reports in a child
    with contextlib.suppress(OSError):
        os.execve(sys.executable, argv, env)


def write_reports_in_child(run_dir: Path) -> ReportResult:
    """Rewrite the run's reports from its journal in a child process; never raises."""
    from migrate.reports.write import REPORT_HTML

    argv, env = _report_argv(run_dir)
    child = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if child.returncode != 0:
        why = (child.stderr.strip().splitlines() or ["no message"])[-1]
        return ReportResult(None, why)
    return ReportResult(run_dir / REPORT_HTML)
