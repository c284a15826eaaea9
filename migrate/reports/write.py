"""Write the five report files of a run folder (DESIGN §8)."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from migrate.reports.data import ReportData
from migrate.reports.safety import FORMULA_TRIGGERS, LEADING_CONTROL, neutralise
from migrate.reports.summary import RunSummary, summarise

if TYPE_CHECKING:
    import pandas as pd

RESULTS_CSV: Final = "results.csv"
CHANGES_CSV: Final = "changes.csv"
FAILURES_CSV: Final = "failures.csv"
REPORT_XLSX: Final = "report.xlsx"
REPORT_HTML: Final = "report.html"
#: The workbook's sheet of what each sheet row did (it has no CSV of its own).
SHEET_ROWS: Final = "sheet rows"
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


def write_reports(
    run_folder: Path | str,
    data: ReportData,
    *,
    dry_run: bool,
    summary: RunSummary | None = None,
) -> ReportFiles:
    """(Re)write results.csv, changes.csv, failures.csv, report.xlsx and report.html.

    ``dry_run`` marks a report written after ``plan``: planned rows read "would update". Each
    file is written to a temporary name and renamed, so a crash never leaves half a report.
    ``summary`` is ``summarise(data, dry_run=dry_run)`` when the caller already has it.
    """
    from migrate.reports import failures as error_file
    from migrate.reports import tables
    from migrate.reports.html import render_html
    from migrate.reports.xlsx import MAX_SHEET_ROWS, write_xlsx

    folder = Path(run_folder)
    folder.mkdir(parents=True, exist_ok=True)
    if summary is None:
        summary = summarise(data, dry_run=dry_run)
    files = ReportFiles(
        results=folder / RESULTS_CSV,
        changes=folder / CHANGES_CSV,
        failures=folder / FAILURES_CSV,
        xlsx=folder / REPORT_XLSX,
        html=folder / REPORT_HTML,
    )
    # The CSVs are streamed in chunks; the workbook keeps only the rows it shows.
    results = write_table(
        files.results,
        tables.frames(
            tables.results_records(data, dry_run=dry_run),
            tables.RESULTS_COLUMNS,
            integers=tables.RESULTS_INTEGERS,
        ),
    )
    changes = write_table(
        files.changes, tables.frames(tables.changes_records(data), tables.CHANGES_COLUMNS)
    )
    failures_frame = error_file.failures_frame(data)
    failures = write_table(
        files.failures, iter([failures_frame]), verbatim=error_file.verbatim_columns(failures_frame)
    )
    written = {"results": results, "changes": changes, "failures": failures}
    sheets = {name: table.head for name, table in written.items()}
    counts = {name: table.rows for name, table in written.items()}
    sheets[SHEET_ROWS] = tables.sheet_rows_frame(summary, limit=MAX_SHEET_ROWS)
    counts[SHEET_ROWS] = len(summary.by_sheet_row)
    cut = {SHEET_ROWS: tables.SHEET_ROWS_CUT}
    atomic_write(
        files.xlsx, lambda tmp: write_xlsx(tmp, summary, sheets, row_counts=counts, cut_notes=cut)
    )
    page = render_html(data, summary)
    atomic_write(files.html, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return files


@dataclass
class Table:
    """What the workbook gets of a table written to CSV: its first rows and its length."""

    head: pd.DataFrame
    rows: int


def write_table(
    path: Path, chunks: Iterator[pd.DataFrame], *, verbatim: Collection[str] = ()
) -> Table:
    """Stream chunks into one CSV; keep the first rows the workbook shows (as they are).

    Formula-looking cells are prefixed in the CSV only, except in the ``verbatim`` columns.
    """
    import pandas as pd

    from migrate.reports.xlsx import MAX_SHEET_ROWS

    kept: list[pd.DataFrame] = []
    count = 0

    def write(tmp: Path) -> None:
        nonlocal count
        with tmp.open("w", encoding=CSV_ENCODING, newline="") as handle:
            for index, chunk in enumerate(chunks):
                write_csv(chunk, handle, header=index == 0, verbatim=verbatim)
                if count < MAX_SHEET_ROWS or not kept:
                    kept.append(chunk.head(MAX_SHEET_ROWS - count))
                count += len(chunk)

    atomic_write(path, write)
    return Table(pd.concat(kept, ignore_index=True), count)


def write_csv(
    frame: pd.DataFrame,
    target: Path | TextIO,
    *,
    header: bool = True,
    verbatim: Collection[str] = (),
) -> None:
    """A report CSV (UTF-8 with BOM, CRLF line ends), or a chunk of one into an open file.

    Text cells a spreadsheet would run as formulas are prefixed with ``'`` (OWASP), except in the
    ``verbatim`` columns.
    """
    frame = neutralise_frame(frame, verbatim)
    # CRLF (RFC 4180) also makes the csv module quote a cell holding a bare "\r", which a
    # reader would otherwise take for the end of the row.
    if isinstance(target, Path):
        frame.to_csv(target, index=False, encoding=CSV_ENCODING, lineterminator="\r\n")
    else:
        frame.to_csv(target, index=False, header=header, lineterminator="\r\n")


def neutralise_frame(frame: pd.DataFrame, verbatim: Collection[str] = ()) -> pd.DataFrame:
    """A copy of ``frame`` with every formula-looking text cell prefixed (the frame is kept)."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    columns = [
        column
        for column in frame.columns
        if column not in verbatim
        and (is_object_dtype(frame[column]) or is_string_dtype(frame[column]))
    ]
    if not columns:
        return frame
    out = frame.copy(deep=False)
    for column in columns:
        values = frame[column]
        # Only cells starting with a trigger or a blank can be formula-like: test those alone.
        suspects = values.astype(str).str[:1].isin(_MAY_START_A_FORMULA)
        if suspects.any():
            out[column] = values.where(~suspects, values[suspects].map(neutralise))
    return out


#: First characters of every cell :func:`migrate.reports.safety.is_formula_like` can accept.
_MAY_START_A_FORMULA: Final = frozenset(
    FORMULA_TRIGGERS | LEADING_CONTROL | {" ", "\u00a0", "\u3000"}
)


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
