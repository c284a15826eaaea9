"""Write the five report files of a run folder (DESIGN §8)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from migrate.reports.data import ReportData
from migrate.reports.summary import summarise

if TYPE_CHECKING:
    import pandas as pd

RESULTS_CSV: Final = "results.csv"
CHANGES_CSV: Final = "changes.csv"
FAILURES_CSV: Final = "failures.csv"
REPORT_XLSX: Final = "report.xlsx"
REPORT_HTML: Final = "report.html"
#: CSVs carry a BOM so that spreadsheets read UTF-8 names (Japanese, Croatian) correctly;
#: ``read_sheet`` and pandas (``encoding="utf-8-sig"``) both accept it.
CSV_ENCODING: Final = "utf-8-sig"


@dataclass(frozen=True)
class ReportFiles:
    """Where the reports of one run were written."""

    results: Path
    changes: Path
    failures: Path
    xlsx: Path
    html: Path

    def all(self) -> list[Path]:
        return [self.results, self.changes, self.failures, self.xlsx, self.html]


def write_reports(run_folder: Path | str, data: ReportData, *, dry_run: bool) -> ReportFiles:
    """(Re)write results.csv, changes.csv, failures.csv, report.xlsx and report.html.

    ``dry_run`` marks a report written after ``plan``: planned rows read "would update". Each
    file is written to a temporary name and renamed, so a crash never leaves half a report.
    """
    from migrate.reports import tables
    from migrate.reports.html import render_html
    from migrate.reports.xlsx import write_xlsx

    folder = Path(run_folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarise(data, dry_run=dry_run)
    results = tables.results_frame(data, dry_run=dry_run)
    changes = tables.changes_frame(data)
    failures = tables.failures_frame(data)
    files = ReportFiles(
        results=folder / RESULTS_CSV,
        changes=folder / CHANGES_CSV,
        failures=folder / FAILURES_CSV,
        xlsx=folder / REPORT_XLSX,
        html=folder / REPORT_HTML,
    )
    for path, frame in (
        (files.results, results),
        (files.changes, changes),
        (files.failures, failures),
    ):
        atomic_write(path, functools.partial(write_csv, frame))
    sheets = {"results": results, "changes": changes, "failures": failures}
    atomic_write(files.xlsx, lambda tmp: write_xlsx(tmp, summary, sheets))
    page = render_html(data, summary)
    atomic_write(files.html, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return files


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """One report CSV: UTF-8 with BOM, CRLF line ends."""
    # CRLF (RFC 4180) also makes the csv module quote a cell holding a bare "\r", which a
    # reader would otherwise take for the end of the row.
    frame.to_csv(path, index=False, encoding=CSV_ENCODING, lineterminator="\r\n")


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
