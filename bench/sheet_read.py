"""Reading a 100,000-row .xlsx sheet: openpyxl (what ivr-migrate uses) against calamine.

Issue 13 part 2b: "measure the calamine engine (python-calamine, a pandas engine) against openpyxl
on a 100,000-row workbook and take the faster if it keeps every error message". Each engine reads
the same workbook into ivr-migrate's cells (trimmed text, or a BadCell naming the problem) in a
child process of its own, imports included; the table shows wall time and CPU (``wait4``), the
median of N runs, and the peak resident memory of the reading process (``VmHWM``). The workbook
is written as Excel writes one (shared strings, a styles part), and again as openpyxl writes one
(inline strings).

Then the cases of tests/test_sheet_corpus.py that depend on the engine, and one the corpus
cannot write with openpyxl (a formula with the value Excel caches next to it), are read by both
engines: a case "kept" gives calamine the same cells, so the same message.

Decision (2026-11-30, python-calamine 0.9.1, openpyxl 3.1.5, pandas 3.1.1, 2 shared cores, 100,000
rows, median of 3): keep openpyxl. On the Excel-like workbook calamine needs 0.46 s of CPU where
openpyxl needs 5.45 s (0.09x, the same on the openpyxl-written one), peak 63 MB against 70 MB;
through pandas 1.36 s and 177 MB. But calamine keeps only 3 of the 7 engine-dependent messages
(merged cells, a number as id, an over-long cell). It has no formula API: a formula reads as the
value Excel cached next to it, so ``=UPPER("newbrand")`` passes as ``NEWBRAND`` with no message at
all, and a formula without a cached value reads as an empty cell; an error value (``#N/A``)
reads as empty too; and a typed date comes back as a ``date``, which changes the date message.
The time at stake is small besides: reading is 5.4 s of the 6.4 s ``read_sheet`` takes, and a
100,000-row plan takes minutes. (calamine plus a scan of the worksheet XML for formula and error
cells, like the merged-cell scan, would keep those messages: the scan alone took 0.1 s of CPU on
this workbook's 15.8 MB of XML; not built.)

    .venv/bin/python bench/sheet_read.py [--quick] [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from _common import ChildResult, emit, median, run_child, table

# light (csv, re, zipfile): openpyxl is imported when a workbook is opened
# calamine gives no formula and no error type: only the value rules apply to its cells
from migrate.sheet_files import cell_value

MB = 1024 * 1024
Record = tuple[int, list[Any]]
Merged = tuple[int, int, int, int]
HEADER = ["scenario_id", "rule", "new", "old", "note"]
SHEET_NAME = "Rules"
ID = "0B0458310896E39079FC9CFC65BF4138"
ENGINES = {
    "start-up": "the interpreter and this script, reading nothing",
    "openpyxl": "migrate.sheet_files.open_sheet_file (openpyxl read-only + merged-cell scan)",
    "calamine": "python_calamine iter_rows + merged_cell_ranges, the same cell rules",
    "pandas calamine": "pandas.read_excel(engine='calamine', dtype=object), the same cell rules",
    "read_sheet": "migrate.sheet.read_sheet: openpyxl reading and the sheet's validation",
}


# -- workbooks as Excel writes them ---------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A formula cell with the value Excel caches next to it (``t="str"``)."""

    expression: str
    cached: str


@dataclass(frozen=True)
class ErrorValue:
    code: str


@dataclass(frozen=True)
class DateSerial:
    """A number shown as a date (number format 14), as Excel stores a typed date."""

    serial: int


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<workbook {_NS} xmlns:r="{_REL}"><sheets>'
        f'<sheet name="{SHEET_NAME}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        f'<styleSheet {_NS}><fonts count="1"><font/></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
        '<cellXfs count="2"><xf/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


def write_excel_like(path: Path, rows: Sequence[Sequence[Any]], merged: Sequence[str] = ()) -> None:
    """An .xlsx as Excel saves it: strings in the shared-strings part, typed cells, merges."""
    strings: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in _PARTS.items():
            archive.writestr(name, xml)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f"<worksheet {_NS}><sheetData>".encode())
            for number, row in enumerate(rows, start=1):
                cells = "".join(
                    _cell_xml(f"{_letter(i)}{number}", value, strings)
                    for i, value in enumerate(row)
                    if value is not None
                )
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in merged)
            tail = f'<mergeCells count="{len(merged)}">{merges}</mergeCells>' if merged else ""
            sheet.write(f"</sheetData>{tail}</worksheet>".encode())
        items = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<sst {_NS} uniqueCount="{len(strings)}">{items}</sst>',
        )


def _cell_xml(ref: str, value: Any, strings: dict[str, int]) -> str:
    if isinstance(value, str):
        index = strings.setdefault(value, len(strings))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'
    if isinstance(value, Formula):
        return (
            f'<c r="{ref}" t="str"><f>{escape(value.expression)}</f>'
            f"<v>{escape(value.cached)}</v></c>"
        )
    if isinstance(value, ErrorValue):
        return f'<c r="{ref}" t="e"><v>{escape(value.code)}</v></c>'
    if isinstance(value, DateSerial):
        return f'<c r="{ref}" s="1"><v>{value.serial}</v></c>'
    return f'<c r="{ref}"><v>{value!r}</v></c>'


def _letter(index: int) -> str:
    return chr(65 + index)  # the benchmark's sheets have fewer than 26 columns


def write_openpyxl(path: Path, rows: Iterable[Sequence[Any]]) -> None:
    """The same rows as openpyxl writes them (inline strings), streamed in write-only mode."""
    from openpyxl import Workbook  # type: ignore[import-untyped]

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_NAME)
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)


def big_sheet(rows: int) -> Iterator[list[Any]]:
    """A rules sheet of ``rows`` sender changes, one per scenario id, with a few notes."""
    yield HEADER
    for i in range(rows):
        note = f"batch {i // 1000}" if i % 10 == 0 else None
        yield [f"{i:032X}", "sms-sender", f"Brand{i % 97}", f"Old{i % 13}", note]


# -- the readers, each run in a child process ------------------------------------------------


def open_records(engine: str, path: Path) -> tuple[Iterator[Record], list[Merged]]:
    """``(row number, cells)`` of the first sheet, and its merged ranges (1-based)."""
    if engine == "openpyxl":
        from migrate.sheet_files import open_sheet_file

        source = open_sheet_file(path)
        return source.records, source.merged
    if engine == "calamine":
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_path(path)
        sheet = workbook.get_sheet_by_index(0)
        merged = [
            (first_row + 1, first_col + 1, last_row + 1, last_col + 1)
            for (first_row, first_col), (last_row, last_col) in sheet.merged_cell_ranges or []
        ]

        def rows() -> Iterator[Record]:
            # numbered from 1: the benchmark's sheets start at A1 (calamine skips empty leading
            # rows, which ivr-migrate's row numbers would have to add back)
            with workbook:
                for number, values in enumerate(sheet.iter_rows(), start=1):
                    yield number, [cell_value(value) for value in values]

        return rows(), sorted(merged)
    if engine == "pandas calamine":
        import pandas as pd

        frame = pd.read_excel(path, engine="calamine", header=None, dtype=object, na_filter=False)
        records = (
            (number, [cell_value(value) for value in values])
            for number, values in enumerate(frame.itertuples(index=False), start=1)
        )
        return records, []
    raise SystemExit(f"unknown engine {engine!r}")


def plain(cells: list[Any]) -> list[str]:
    """Cells as text (a BadCell as its message), without trailing empty cells.

    openpyxl ends a row at its last cell; calamine pads every row to the sheet's width.
    """
    texts = [getattr(cell, "message", cell) for cell in cells]
    while texts and texts[-1] == "":
        texts.pop()
    return texts


def child_main(engine: str, path: str, digest: bool) -> None:
    """Read every row; print the count, the peak RSS (and a digest of every cell)."""
    hashed = hashlib.sha256()
    count = 0
    if engine == "read_sheet":
        from migrate.sheet import read_sheet

        count = len(read_sheet(path))
    elif engine != "start-up":
        records, merged = open_records(engine, Path(path))
        hashed.update(repr(merged).encode())
        for number, cells in records:
            count += 1
            if digest:
                text = "\x1f".join(plain(cells))
                hashed.update(f"{number}\x1e{text}\x1d".encode())
    found = {"rows": count, "digest": hashed.hexdigest() if digest else None, "peak": peak_rss()}
    print(json.dumps(found))


def peak_rss() -> int:
    """This process's peak resident set (bytes), since its exec.

    Not ru_maxrss: after a vfork and exec it starts from the parent's peak, which here holds a
    whole workbook. VmHWM belongs to the new address space.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def engine_argv(engine: str, path: Path, *, digest: bool = False) -> list[str]:
    return [
        sys.executable,
        __file__,
        "--read",
        engine,
        str(path),
        *(["--digest"] if digest else []),
    ]


# -- the error messages ------------------------------------------------------------------------


def message_cases(folder: Path) -> dict[str, Path]:
    """The engine-dependent cases of the corpus, as workbooks; the name says what each holds."""
    from openpyxl import Workbook

    header = ["scenario_id", "rule", "new"]
    excel: dict[str, tuple[list[list[Any]], tuple[str, ...]]] = {
        "formula with a cached value (as Excel saves it)": (
            [header, ["*", "sms-sender", Formula('UPPER("newbrand")', "NEWBRAND")]],
            (),
        ),
        "error value #N/A": ([header, ["*", "sms-sender", ErrorValue("#N/A")]], ()),
        "typed date (number format 14)": (
            [["scenario_id", "rule", "find", "replace"], ["*", "say-text", DateSerial(46085), "x"]],
            (),
        ),
        "merged cells A2:A3": (
            [
                header,
                ["0B0458310896E39079FC9CFC65BF4138", "sms-sender", "B1"],
                [None, "sms-sender", "B2"],
            ],
            ("A2:A3",),
        ),
        "32-digit number as id": ([header, [1.2345678901234568e31, "sms-sender", "NewBrand"]], ()),
        "10,001-character cell": ([header, ["*", "sms-sender", "y" * 10_001]], ()),
    }
    cases = {}
    for index, (name, (rows, merged)) in enumerate(excel.items()):
        cases[name] = folder / f"case{index}.xlsx"
        write_excel_like(cases[name], rows, merged)
    # what the corpus writes: openpyxl stores a formula without a cached value
    cases["formula without a cached value (as openpyxl saves it)"] = path = folder / "formula.xlsx"
    workbook = Workbook()
    workbook.active.append(header)
    workbook.active.append(["*", "sms-sender", '=UPPER("x")'])
    workbook.save(path)
    return cases


def messages(engine: str, path: Path) -> list[str]:
    """What ``ivr-migrate check`` would print for this workbook, read by ``engine``."""
    from migrate.errors import SheetError
    from migrate.plugins import rule_catalogue
    from migrate.sheet import _Validator

    records, merged = open_records(engine, path)
    try:
        rows = _Validator(str(path), merged, rule_catalogue()).run(records)
    except SheetError as error:
        return [str(problem).removeprefix(f"{path}, ") for problem in error.problems]
    return [f"no problem: {len(rows)} row(s)"]


def compare_messages(folder: Path) -> list[list[str]]:
    rows = []
    for name, path in message_cases(folder).items():
        ours, theirs = messages("openpyxl", path), messages("calamine", path)
        verdict = "kept" if ours == theirs else "LOST"
        rows.append([name, verdict, _clip(" / ".join(ours)), _clip(" / ".join(theirs))])
    return rows


def _clip(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the benchmark -----------------------------------------------------------------------------


def time_engines(books: dict[str, Path], runs: int) -> list[list[Any]]:
    rows = []
    for book, path in books.items():
        results: dict[str, list[ChildResult]] = {engine: [] for engine in ENGINES}
        for engine in ENGINES:  # warm the page cache and the bytecode
            run_child(engine_argv(engine, path)).check()
        for _ in range(runs):
            for engine in ENGINES:
                results[engine].append(run_child(engine_argv(engine, path)).check())
        base_cpu = median([r.cpu for r in results["openpyxl"]])
        for engine, found in results.items():
            cpu = median([r.cpu for r in found])
            rows.append(
                [
                    book,
                    engine,
                    f"{median([r.wall for r in found]):.2f}",
                    f"{cpu:.2f}",
                    f"{cpu / base_cpu:.2f}x",
                    f"{max(json.loads(r.stdout)['peak'] for r in found) / MB:.0f}",
                ]
            )
    return rows


def same_cells(books: dict[str, Path]) -> list[str]:
    notes = []
    for book, path in books.items():
        found = {}
        for engine in ("openpyxl", "calamine", "pandas calamine"):
            result = run_child(engine_argv(engine, path, digest=True)).check()
            found[engine] = json.loads(result.stdout)
        calamine_same = found["calamine"]["digest"] == found["openpyxl"]["digest"]
        rows = ", ".join(f"{engine} {value['rows']:,}" for engine, value in found.items())
        notes.append(
            f"{book}: records read: {rows}; calamine's cells equal openpyxl's: "
            f"{'yes' if calamine_same else 'NO'}"
        )
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows instead of 100,000")
    parser.add_argument("--rows", type=int, help="data rows in the workbook")
    parser.add_argument("--runs", type=int, default=3, help="runs of each engine (median)")
    parser.add_argument("--read", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        engine, path = args.read
        child_main(engine, path, args.digest)
        return
    rows = args.rows or (10_000 if args.quick else 100_000)
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-sheet-read-"))
    try:
        books = {
            "Excel-like": workdir / "excel.xlsx",
            "openpyxl-written": workdir / "openpyxl.xlsx",
        }
        write_excel_like(books["Excel-like"], list(big_sheet(rows)))
        write_openpyxl(books["openpyxl-written"], big_sheet(rows))
        sizes = ", ".join(f"{b} {p.stat().st_size / MB:.1f} MB" for b, p in books.items())
        timing = time_engines(books, max(1, args.runs))
        notes = same_cells(books)
        messages = compare_messages(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    body = table(["workbook", "engine", "wall s", "CPU s", "CPU x openpyxl", "peak MB"], timing)
    body += "\n\n" + table(["case", "calamine", "openpyxl reads", "calamine reads"], messages)
    kept = sum(row[1] == "kept" for row in messages)
    notes = [
        f"{rows:,} data rows x {len(HEADER)} columns ({sizes}); each engine in its own process, "
        f"imports included, median of {max(1, args.runs)} runs; peak MB = the largest VmHWM of "
        "the reading process.",
        *(f"{engine}: {what}" for engine, what in ENGINES.items()),
        *notes,
        f"error messages: calamine keeps {kept} of the {len(messages)} engine-dependent cases.",
    ]
    emit("sheet_read", "Reading an .xlsx rules sheet: openpyxl against calamine", body, notes)


if __name__ == "__main__":
    main()
