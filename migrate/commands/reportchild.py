"""The run's reports, written by a child process after each command.

At 100,000 rows the report tables need about 200 MB, which must not add to the peak of a
day-long run's own process; the child (``ivr-migrate report RUN``) gets no credentials: it reads
only the journal.
"""

from __future__ import annotations

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


def write_reports_in_child(run_dir: Path) -> ReportResult:
    """Rewrite the run's reports from its journal in a child process; never raises."""
    from migrate.reports.write import REPORT_HTML

    env = {key: value for key, value in os.environ.items() if not key.startswith("INFOBIP_")}
    child = subprocess.run(
        [sys.executable, "-m", "migrate", "report", str(run_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if child.returncode != 0:
        why = (child.stderr.strip().splitlines() or ["no message"])[-1]
        return ReportResult(None, why)
    return ReportResult(run_dir / REPORT_HTML)
