"""report.xlsx: a summary sheet and the report tables, one per sheet.

The tables arrive as pandas frames, already truncated and formula-neutralised (``tables.py``).
They are streamed with openpyxl's write-only mode: about twice as fast as ``DataFrame.to_excel``
and flat in memory, which matters for a 100,000-row run. Text that a spreadsheet would re-read as
a number after an edit (``+41793026727``, ``-5``, ids starting with digits) is pinned with the
``@`` (text) number format, and no string is ever stored as a formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd

# openpyxl ships no type information and types-openpyxl is not a dependency.
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from migrate.reports.summary import RunSummary
from migrate.reports.tables import figures_frame, metadata_frame, outcomes_frame, rules_frame

MIN_WIDTH: Final = 8
MAX_WIDTH: Final = 60
#: Rows sampled to size a column: a representative width, cheap on 100,000 rows.
WIDTH_SAMPLE: Final = 500
#: Data rows per sheet. The workbook is for reading; the CSVs next to it hold every row. openpyxl
#: writes about 2,000 rows a second, so 100,000 rows would add minutes to every report (and
#: Excel stops at 1,048,576 anyway).
MAX_SHEET_ROWS: Final = 25_000
TEXT_FORMAT: Final = "@"
_NUMBER_LIKE: Final = frozenset("+-.0123456789'")

_HEADER_FONT: Final = Font(bold=True, color="FFFFFF")
_HEADER_FILL: Final = PatternFill("solid", fgColor="2F4858")
_TITLE_FONT: Final = Font(bold=True, size=14)
_BLOCK_FONT: Final = Font(bold=True, size=12, color="2F4858")


def write_xlsx(
    path: Path,
    summary: RunSummary,
    tables: dict[str, pd.DataFrame],
    *,
    row_counts: Mapping[str, int] | None = None,
) -> None:
    """report.xlsx: the run's summary sheet, then one sheet per table (sheet name → frame).

    ``row_counts`` gives the full length of tables that arrive already cut to their first rows.
    """
    title = "ivr-migrate " + ("dry-run report" if summary.dry_run else "run report")
    run_id = summary.metadata.get("run_id")
    blocks = [
        ("Outcomes", outcomes_frame(summary)),
        ("Figures", figures_frame(summary)),
        ("By rule", rules_frame(summary)),
        ("Run", metadata_frame(summary)),
    ]
    write_workbook(
        path,
        tables,
        title=f"{title}: {run_id}" if run_id else title,
        blocks=blocks,
        row_counts=row_counts,
    )


def write_workbook(
    path: Path,
    tables: dict[str, pd.DataFrame],
    *,
    title: str,
    blocks: Sequence[tuple[str, pd.DataFrame]] = (),
    max_rows: int = MAX_SHEET_ROWS,
    row_counts: Mapping[str, int] | None = None,
) -> None:
    """A "summary" sheet (title, then titled blocks), then one sheet per table, in order.

    A table longer than ``max_rows`` is cut there, with a last row saying how many are left out.
    """
    book = Workbook(write_only=True)
    _write_summary(book, title, blocks)
    for name, frame in tables.items():
        sheet = book.create_sheet(name)
        _set_widths(sheet, [frame])
        sheet.freeze_panes = "A2"
        if len(frame.columns):
            last = get_column_letter(len(frame.columns))
            shown = min(len(frame), max_rows)  # the filter covers the rows shown
            sheet.auto_filter.ref = f"A1:{last}{shown + 1}"
        sheet.append(_header(sheet, frame.columns))
        for values in _rows(frame, limit=max_rows):
            sheet.append([_cell(sheet, value) for value in values])
        total = max(len(frame), (row_counts or {}).get(name, 0))
        if total > max_rows:
            more = total - max_rows
            sheet.append(
                [f"… and {more} more rows: the CSV file next to this workbook has them all"]
            )
    book.save(path)


def _write_summary(book: Any, title: str, blocks: Sequence[tuple[str, pd.DataFrame]]) -> None:
    sheet = book.create_sheet("summary")
    _set_widths(sheet, [frame for _, frame in blocks])
    sheet.append([_styled(sheet, title, _TITLE_FONT)])
    for block_title, frame in blocks:
        sheet.append([])
        sheet.append([_styled(sheet, block_title, _BLOCK_FONT)])
        sheet.append(_header(sheet, frame.columns))
        for values in _rows(frame):
            sheet.append([_cell(sheet, value) for value in values])


def _rows(frame: pd.DataFrame, limit: int | None = None) -> Iterable[tuple[Any, ...]]:
    rows = frame if limit is None or len(frame) <= limit else frame.head(limit)
    for values in rows.itertuples(index=False, name=None):
        yield tuple(None if _missing(v) else v for v in values)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _cell(sheet: Any, value: Any) -> Any:
    if not isinstance(value, str) or (value[:1] not in _NUMBER_LIKE and value[:1] != "="):
        return value.item() if hasattr(value, "item") else value
    cell = WriteOnlyCell(sheet, value=value)
    # openpyxl stores a string starting with "=" as a formula; the frames are neutralised, and
    # this keeps it so if one ever slipped through.
    cell.data_type = "s"
    cell.number_format = TEXT_FORMAT
    return cell


def _styled(sheet: Any, value: str, font: Font) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = font
    return cell


def _header(sheet: Any, columns: Iterable[Any]) -> list[Any]:
    out = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=str(name))
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        out.append(cell)
    return out


def _set_widths(sheet: Any, frames: Sequence[pd.DataFrame]) -> None:
    """Column widths from the headers and a sample of the values (widest frame wins)."""
    widths: dict[int, int] = {}
    for frame in frames:
        sample = frame.head(WIDTH_SAMPLE)
        for index, column in enumerate(frame.columns, start=1):
            values = [len(str(column))]
            values.extend(_display_width(v) for v in sample[column] if not _missing(v))
            widths[index] = max(widths.get(index, 0), *values)
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = min(
            MAX_WIDTH, max(MIN_WIDTH, width + 2)
        )


def _display_width(value: Any) -> int:
    return max((len(line) for line in str(value).splitlines()), default=0)
