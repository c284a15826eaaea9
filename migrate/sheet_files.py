"""Sheet files into rows of text cells: CSV in any common encoding and separator, or XLSX.

:func:`open_sheet_file` detects the file type from its content (a zip is an XLSX workbook, an
OLE2 file is an old .xls, anything else must be text), the text encoding (BOM, UTF-16 byte
pattern, else UTF-8, else Windows-1252) and the CSV separator (``,``, ``;`` or tab, whichever
the header row uses most). It yields ``(row number as a spreadsheet shows it, cells)``; a cell is
trimmed text, or a :class:`BadCell` when it holds something that is not a usable value (a
formula, a date, an Excel error, more than MAX_CELL_CHARS characters). It raises
:class:`Unreadable` when the file cannot be a sheet at all. Validation is :mod:`migrate.sheet`'s
job.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

#: Rows below the header; a bigger sheet must be split (and would take weeks at 6 writes/min).
MAX_ROWS: Final = 200_000
#: Characters in one cell; longer is a pasting accident or a missing quote.
MAX_CELL_CHARS: Final = 10_000
FIX_TEXT_COLUMN: Final = "format the column as Text in Excel and type or paste the values again"

_SNIFF_BYTES: Final = 64 * 1024
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
_MERGE_REF: Final = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]+)(\d+):([A-Z]+)(\d+)\"")
_ROW_TAG: Final = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ROW_NUMBER: Final = re.compile(rb"\br=\"(\d+)\"")
_HIDDEN: Final = re.compile(rb"\bhidden=\"(?:1|true)\"")


class Unreadable(Exception):
    """The file cannot be read as a sheet; the message names the fix."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.row = row


def clip(value: str, limit: int = 60) -> str:
    """``repr`` of a cell value, shortened for a message."""
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class BadCell:
    """A cell whose content cannot be used as text; ``message`` says why and how to fix it."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


Cell = str | BadCell
Record = tuple[int, list[Cell]]


@dataclass
class SheetSource:
    records: Iterator[Record]
    #: Merged XLSX ranges: (first row, first column, last row, last column), 1-based.
    merged: list[tuple[int, int, int, int]]
    #: XLSX rows hidden in Excel (hidden by hand, or filtered out), 1-based.
    hidden_rows: frozenset[int] = frozenset()

    def close(self) -> None:
        """Release the file even when the records were not read to the end."""
        close = getattr(self.records, "close", None)
        if close is not None:
            close()


def open_sheet_file(path: Path, sheet: str | None = None) -> SheetSource:
    """Open a sheet file; ``sheet`` names an XLSX worksheet (needed when there are several)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise Unreadable("no such file: check the path") from None
    except IsADirectoryError:
        raise Unreadable("is a folder, not a sheet: pass a .csv or .xlsx file") from None
    except PermissionError:
        raise Unreadable(
            "cannot read the file (permission denied): check its permissions"
        ) from None
    except OSError as exc:
        raise Unreadable(f"cannot read the file ({exc.strerror}): check the path") from None
    if not head.strip():
        raise Unreadable(
            "the file is empty: the first row must name the columns, e.g. scenario_id,rule,new,old",
        )
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, sheet)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable(
            "is an Excel 97-2003 (.xls) or password-protected workbook: "
            "save it as .xlsx without a password, or as CSV UTF-8",
        )
    if sheet is not None:
        raise Unreadable(
            f"is a CSV file, which has no sheet {sheet!r}: "
            "a sheet name applies only to XLSX workbooks",
        )
    return SheetSource(_csv_records(path, head), [])


def _text_encoding(head: bytes) -> str | None:
    """The encoding a BOM or a UTF-16 byte pattern announces, or None to try UTF-8 then cp1252."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4 and b"\x00" in sample:
        # UTF-16 without BOM: ASCII text has a zero in every other byte.
        half = len(sample) // 2
        if sample[1::2].count(0) > half * 0.7:
            return "utf-16-le"
        if sample[0::2].count(0) > half * 0.7:
            return "utf-16-be"
    return None


def _delimiter(text: str) -> str:
    """The separator the header row uses most: ``,``, ``;`` or tab (``,`` on a tie)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts.values())
    return "," if best == 0 or counts[","] == best else max(counts, key=counts.__getitem__)


def _csv_records(path: Path, head: bytes) -> Iterator[Record]:
    announced = _text_encoding(head)
    if announced is None and b"\x00" in head:
        raise Unreadable("is not a sheet (it looks like a binary file): pass a .csv or .xlsx file")
    candidates = [announced] if announced else ["utf-8", "cp1252"]
    for encoding in candidates:
        sample = head.decode(encoding, errors="ignore").lstrip("\ufeff")
        if _CONTROL.search(sample):
            raise Unreadable(
                "is not a sheet (it holds control characters, like a binary "
                "file): pass a .csv or .xlsx file",
            )
        delimiter = _delimiter(sample)
        try:
            lines = _count_lines(path, encoding)
        except UnicodeDecodeError:
            continue
        # Rows never outnumber lines; only a long file needs the exact (slower) count, which
        # enforces the cap before any row is validated: a wrong file fails fast.
        if lines > MAX_ROWS + 1:
            for _ in _csv_rows(path, encoding, delimiter):
                pass
        return _csv_rows(path, encoding, delimiter)
    raise Unreadable("cannot decode the text: save it as CSV UTF-8")


def _count_lines(path: Path, encoding: str) -> int:
    """Lines in the file; decoding all of it raises UnicodeDecodeError for a wrong encoding."""
    lines = 0
    with path.open(encoding=encoding, newline="") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count("\n")
    return lines


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[Record]:
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, skipinitialspace=True)
        number = first_line = last_start = 0
        try:
            for number, cells in enumerate(reader, start=1):
                if number > MAX_ROWS + 1:
                    raise _too_many_rows()
                last_start, first_line = first_line, reader.line_num
                if cells and max(map(len, cells)) > MAX_CELL_CHARS:
                    yield (
                        number,
                        [_long(c) if len(c) > MAX_CELL_CHARS else c.strip() for c in cells],
                    )
                else:
                    yield number, [cell.strip() for cell in cells]
        except csv.Error as exc:
            raise Unreadable(
                f"cannot read the CSV from this row on ({exc}): look for an unclosed quote "
                f'(") or a cell longer than {MAX_CELL_CHARS:,} characters',
                number + 1,
            ) from None
    if reader.line_num - last_start > 1 and _ends_inside_quotes(
        path, encoding, delimiter, last_start
    ):
        raise Unreadable(
            'a quote (") opened in this row is never closed, so every line below it was read '
            'into one cell: close the quote, or double it ("") inside a quoted cell',
            number,
        )


def _ends_inside_quotes(path: Path, encoding: str, delimiter: str, skip_lines: int) -> bool:
    """Whether the record starting after ``skip_lines`` lines runs into the end of the file
    inside a quoted cell (the lenient reader silently closes it there)."""
    with path.open(encoding=encoding, newline="") as handle:
        for _ in range(skip_lines):
            next(handle)
        try:
            for _ in csv.reader(handle, delimiter=delimiter, skipinitialspace=True, strict=True):
                pass
        except csv.Error as exc:
            return "unexpected end of data" in str(exc)
    return False


def _too_many_rows() -> Unreadable:
    return Unreadable(
        f"more than {MAX_ROWS:,} rows: split the sheet into files of at most "
        f"{MAX_ROWS:,} rows and run them one after the other",
    )


def _open_xlsx(path: Path, sheet: str | None) -> SheetSource:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    # A file, not a name: openpyxl refuses names not ending in .xlsx, and the type was already
    # recognised from the content.
    handle = path.open("rb")
    try:
        workbook = load_workbook(handle, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign zip
        handle.close()
        raise Unreadable(
            f"is not a readable XLSX workbook ({type(exc).__name__}): open it "
            "in Excel and save it again as .xlsx, or export it as CSV UTF-8",
        ) from None
    try:
        worksheet = _worksheet(workbook, sheet)
        merged, hidden = _scan_xml(path, getattr(worksheet, "_worksheet_path", None))
    except BaseException:
        workbook.close()
        handle.close()
        raise
    worksheet.reset_dimensions()  # a wrong <dimension> would silently cut rows
    return SheetSource(_xlsx_rows(handle, workbook, worksheet), merged, hidden)


def _worksheet(workbook: Any, sheet: str | None) -> Any:
    names = list(workbook.sheetnames)
    if sheet is not None and sheet not in names:
        listed = ", ".join(repr(n) for n in names)
        raise Unreadable(f"has no sheet named {sheet!r}: its sheets are {listed}")
    tables = list(workbook.worksheets)
    if sheet is None and len(tables) > 1:
        listed = ", ".join(repr(table.title) for table in tables)
        raise Unreadable(
            f"has {len(tables)} sheets ({listed}): name the one to use with --sheet NAME"
        )
    worksheet = workbook[sheet] if sheet is not None else (tables[0] if tables else None)
    if worksheet is None or not hasattr(worksheet, "iter_rows"):
        raise Unreadable("has no sheet with a table (only charts): pick a sheet with --sheet")
    if (worksheet.max_row or 0) > MAX_ROWS + 1:
        raise _too_many_rows()
    return worksheet


def _xlsx_rows(handle: Any, workbook: Any, worksheet: Any) -> Iterator[Record]:
    try:
        for number, cells in enumerate(worksheet.iter_rows(min_row=1, min_col=1), start=1):
            if number > MAX_ROWS + 1:
                raise _too_many_rows()
            yield number, [_xlsx_cell(cell) for cell in cells]
    finally:
        workbook.close()
        handle.close()


def _xlsx_cell(cell: Any) -> Cell:
    value = cell.value
    if value is None:
        return ""
    if cell.data_type == "f":
        return BadCell(
            f"cell holds a formula ({clip(str(value), 40)}); formulas are never evaluated: "
            "replace it with its value (copy, then Paste Special → Values)"
        )
    if cell.data_type == "e":
        return BadCell(f"cell holds the Excel error {value}: fix or clear it")
    return cell_value(value)


def cell_value(value: Any) -> Cell:
    """One workbook cell's value as sheet text, by the rules every workbook reader shares.

    Formulas and error cells are told apart by the caller (only openpyxl knows them).
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return _long(value) if len(value) > MAX_CELL_CHARS else value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # What Excel shows: 447860099299 stays whole, 4.47860099299E+17 shows the lost digits.
        return format(value, ".15G")
    if isinstance(value, datetime | date | time | timedelta):
        return BadCell(f"Excel turned this cell into a date or time ({value}): {FIX_TEXT_COLUMN}")
    return str(value).strip()


def _long(cell: str) -> BadCell:
    return BadCell(
        f"cell holds {len(cell):,} characters (at most {MAX_CELL_CHARS:,}): shorten it, or "
        "look for an unclosed quote"
    )


def _scan_xml(
    path: Path, part: str | None
) -> tuple[list[tuple[int, int, int, int]], frozenset[int]]:
    """Merged ranges and hidden rows of a worksheet, read from its XML (openpyxl's read-only
    mode omits both)."""
    if not part:
        return [], frozenset()
    try:
        with zipfile.ZipFile(path) as archive, archive.open(part.lstrip("/")) as xml:
            return _scan(xml)
    except (KeyError, OSError, zipfile.BadZipFile):
        return [], frozenset()  # openpyxl read the cells; a missing part only costs the checks


def _scan(xml: Any) -> tuple[list[tuple[int, int, int, int]], frozenset[int]]:
    found: set[tuple[int, int, int, int]] = set()
    hidden: set[int] = set()
    tail = b""
    while chunk := xml.read(1 << 20):
        data = tail + chunk
        for match in _MERGE_REF.finditer(data):
            first_col, first_row, last_col, last_row = match.groups()
            found.add(
                (int(first_row), _column_number(first_col), int(last_row), _column_number(last_col))
            )
        for match in _ROW_TAG.finditer(data):
            number = _ROW_NUMBER.search(match.group(1))
            if number and _HIDDEN.search(match.group(1)):
                hidden.add(int(number.group(1)))
        tail = data[-200:]  # a tag cut by the chunk boundary is found whole in the next round
    return sorted(found), frozenset(hidden)


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number
