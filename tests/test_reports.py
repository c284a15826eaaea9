"""results.csv, changes.csv, failures.csv and report.xlsx from a run with every row state."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from test_reports_sample import (
    E164,
    E164_NEW,
    HOSTILE_NAMES,
    LONG_ERROR,
    sample_data,
)

from migrate.reports import ReportFiles, summarise, write_reports
from migrate.reports.safety import TRUNCATION_MARK, is_formula_like, neutralise
from migrate.reports.tables import CHANGES_COLUMNS, RESULTS_COLUMNS


@pytest.fixture
def files(tmp_path: Path) -> ReportFiles:
    return write_reports(tmp_path / "run", sample_data(), dry_run=False)


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def raw_cells(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_every_report_file_is_written(files: ReportFiles) -> None:
    for path in files.all():
        assert path.is_file() and path.stat().st_size > 0, path
    assert not list(files.html.parent.glob(".*.tmp"))


def test_results_csv_has_one_row_per_scenario_with_its_outcome(files: ReportFiles) -> None:
    data = sample_data()
    results = read_csv(files.results)
    assert tuple(results.columns) == RESULTS_COLUMNS
    assert list(results["scenario_id"]) == [row.scenario_id for row in data.rows]
    assert list(results["state"]) == [row.state for row in data.rows]
    assert list(results["name"]) == [neutralise(row.name or "") for row in data.rows]
    by_id = results.set_index("scenario_id")
    for row in data.rows:
        got = by_id.loc[row.scenario_id]
        assert got["http_status"] == ("" if row.http_status is None else str(row.http_status))
        assert got["attempts"] == str(row.attempts)
        assert got["rules"] == "; ".join(row.rules)
        assert got["error_class"] == (row.error_class or "")
        expected_changes = sum(1 for c in data.changes if c.scenario_id == row.scenario_id)
        assert got["changes"] == str(expected_changes)
    updated = by_id.loc[data.rows[0].scenario_id]
    assert updated["before_fingerprint"] == "a" * 64
    assert updated["after_fingerprint"] == "b" * 64
    assert updated["planned_at"] == "2026-02-16T10:00:00Z"
    assert updated["state_at"] == "2026-02-16T10:01:00Z"
    assert updated["sheet_rows"] == "2; 3"
    failed = results[results["state"] == "failed"]
    assert sorted(failed["outcome"]) == ["failed (permanent)", "failed (retryable)"]
    assert sorted(failed["retryable"]) == ["false", "true"]


def test_long_text_is_cut_with_a_pointer_to_the_journal(files: ReportFiles) -> None:
    results = read_csv(files.results)
    error = results.loc[results["error_class"] == "BadRequest", "error"].item()
    assert error == LONG_ERROR[:500] + TRUNCATION_MARK


def test_changes_csv_has_one_row_per_changed_field(files: ReportFiles) -> None:
    data = sample_data()
    changes = read_csv(files.changes)
    assert tuple(changes.columns) == CHANGES_COLUMNS
    assert len(changes) == len(data.changes)
    first = changes.iloc[0].to_dict()
    assert first == {
        "scenario_id": data.rows[0].scenario_id,
        "scenario_name": "Order status lookup",
        "action_path": "script[3].if.then[2]",
        "field": "sendSms.from",
        "before": "Nordlicht",
        "after": "NordBrand",
        "rule": "sms-sender",
    }
    numbers = changes[changes["field"] == "dialToMany[0].number"].iloc[0]
    assert (numbers["before"], numbers["after"]) == (E164, E164_NEW)
    removed = changes[changes["field"] == "options.maxCallDuration"].iloc[0]
    assert (removed["before"], removed["after"]) == ("-5", "")
    renamed = changes[changes["field"] == "name"].iloc[0]
    assert (renamed["before"], renamed["after"]) == ("'=1+1", "'@SUM(2)")


def test_no_cell_of_any_csv_could_run_as_a_formula(files: ReportFiles) -> None:
    for path in (files.results, files.changes, files.failures):
        for line in raw_cells(path)[1:]:
            for value in line:
                assert not is_formula_like(value), (path.name, value)


def test_hostile_names_are_prefixed_and_numbers_survive(files: ReportFiles) -> None:
    names = [line[1] for line in raw_cells(files.results)[1:]]
    for hostile in HOSTILE_NAMES:
        assert "'" + hostile in names
    text = files.changes.read_text(encoding="utf-8-sig")
    assert f",{E164},{E164_NEW}," in text
    assert ",-5,," in text


def test_xlsx_has_a_summary_and_the_tables_with_frozen_headers(files: ReportFiles) -> None:
    book = load_workbook(files.xlsx)
    assert book.sheetnames == ["summary", "results", "changes", "failures", "sheet rows"]
    for name in ("results", "changes", "failures", "sheet rows"):
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        widths = [dim.width for dim in sheet.column_dimensions.values()]
        assert widths and all(8 <= width <= 61 for width in widths)
    results = read_csv(files.results)
    sheet_rows = list(book["results"].iter_rows(values_only=True))
    assert list(sheet_rows[0]) == list(RESULTS_COLUMNS)
    assert [r[0] for r in sheet_rows[1:]] == list(results["scenario_id"])
    assert [r[3] for r in sheet_rows[1:]] == list(results["state"])
    assert len(list(book["changes"].iter_rows())) == len(sample_data().changes) + 1


def test_xlsx_summary_figures(files: ReportFiles) -> None:
    summary = dict(
        (row[0], row[1])
        for row in load_workbook(files.xlsx)["summary"].iter_rows(values_only=True)
        if row[0] is not None
    )
    assert summary["writes (PUT)"] == 5
    assert summary["writes accepted (2xx)"] == 2
    assert summary["writes failed"] == 2
    assert summary["429 answers"] == 1
    assert summary["achieved write rate (per minute)"] == 6.0
    assert summary["configured write rate"] == "6/60s"
    assert summary["failed_retryable"] == "failed (retryable)"
    assert summary["total"] == "all scenarios"
    assert summary["run_id"] == "20260216-100000-demo"
    # The workbook holds the data as it is: a text cell, no apostrophe (the CSVs keep theirs).
    assert summary["sheet"] == "=sheet.csv"


def test_xlsx_never_stores_a_formula_and_pins_numbers_as_text(files: ReportFiles) -> None:
    book = load_workbook(files.xlsx)
    found_e164 = False
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                if cell.value == E164:
                    found_e164 = True
                    assert cell.number_format == "@"
    assert found_e164


def test_xlsx_holds_formula_looking_text_as_text_cells_without_an_apostrophe(
    files: ReportFiles,
) -> None:
    book = load_workbook(files.xlsx)
    names = [row[1] for row in book["results"].iter_rows(min_row=2, values_only=True)]
    csv_names = [line[1] for line in raw_cells(files.results)[1:]]
    for hostile in HOSTILE_NAMES:
        assert hostile.strip() in {str(n).strip() for n in names}, hostile
        assert "'" + hostile in csv_names  # the CSV keeps its apostrophe
    assert not any(str(name).startswith("'") for name in names)
    with zipfile.ZipFile(files.xlsx) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        xml = b"".join(archive.read(name) for name in sheets)
    assert b"<f>" not in xml  # no formula element anywhere
    assert b"&apos;=HYPERLINK" not in xml and b"'=HYPERLINK" not in xml


def test_xlsx_columns_fit_their_content(files: ReportFiles) -> None:
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    sheet = load_workbook(files.xlsx)["changes"]
    header = [cell.value for cell in sheet[1]]
    widths = {
        name: sheet.column_dimensions[get_column_letter(index)].width
        for index, name in enumerate(header, start=1)
    }
    # scenario ids are 32 characters, rule names a few; the long "before" texts are capped
    assert 32 <= widths["scenario_id"] <= 40
    assert widths["rule"] < widths["scenario_id"]
    assert widths["before"] <= 61


def test_no_credential_reaches_any_report(files: ReportFiles) -> None:
    for path in files.all():
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                blob = b"".join(archive.read(name) for name in archive.namelist())
        else:
            blob = path.read_bytes()
        assert b"SECRET-KEY-123" not in blob, path.name
        assert b"api_key" not in blob, path.name


def test_dry_run_reports_say_would_update(tmp_path: Path) -> None:
    files = write_reports(tmp_path, sample_data(), dry_run=True)
    results = read_csv(files.results)
    assert results.loc[results["state"] == "planned", "outcome"].item() == "would update"
    assert "would update" in files.html.read_text(encoding="utf-8")


def test_reports_are_rewritten_in_place(tmp_path: Path) -> None:
    write_reports(tmp_path, sample_data(), dry_run=True)
    data = sample_data()
    data.rows = data.rows[:1]
    files = write_reports(tmp_path, data, dry_run=False)
    assert len(read_csv(files.results)) == 1
    assert len(read_csv(files.failures)) == 0


def test_summary_counts_and_write_rate() -> None:
    summary = summarise(sample_data())
    assert summary.scenarios == 10
    assert summary.outcomes["failed_retryable"] == 1
    assert summary.outcomes["failed_permanent"] == 1
    assert summary.problems == 6
    assert summary.writes == 5 and summary.writes_ok == 2 and summary.rate_limited == 1
    assert len(summary.failed_write_times) == 2  # the 503 and the 400, not the 429
    assert summary.write_rate_per_min == pytest.approx(6.0)
    assert summary.duration == pytest.approx(61.0)
    assert summary.tally().startswith(
        "1 updated, 1 planned (not applied), 1 rolled back, 1 unchanged"
    )
    assert "api_key" not in summary.to_dict()["metadata"]


@pytest.mark.parametrize(
    "hostile",
    [
        *HOSTILE_NAMES,
        "=1+1",
        "+1+1",
        "-1+1",
        "@A1",
        " \t=cmd|' /C calc'!A0",
        "\n=1",
        "-2.5+1",
        "+41 79 302 67 27",
        " +41793026727",
        "+4179302672712345678",
    ],
)
def test_formula_like_text_is_prefixed(hostile: str) -> None:
    assert is_formula_like(hostile)
    assert neutralise(hostile) == "'" + hostile
    assert neutralise(neutralise(hostile)) == "'" + hostile


@pytest.mark.parametrize(
    "legitimate",
    [E164, "+493012345", "-5", "-12.50", "Nordlicht", "", "a=b", "41793026727", "x-y", "'=1"],
)
def test_legitimate_values_are_kept(legitimate: str) -> None:
    assert neutralise(legitimate) == legitimate


def test_importing_reports_does_not_import_pandas() -> None:
    code = "import sys, migrate.reports; print('pandas' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_long_tables_are_cut_in_the_workbook_not_in_the_csv(tmp_path: Path) -> None:
    from migrate.reports.xlsx import write_workbook

    frame = pd.DataFrame({"n": range(10), "text": [f"row {i}" for i in range(10)]})
    write_workbook(tmp_path / "cut.xlsx", {"rows": frame}, title="t", max_rows=4)
    rows = list(load_workbook(tmp_path / "cut.xlsx")["rows"].iter_rows(values_only=True))
    assert rows[0] == ("n", "text")
    assert [r[0] for r in rows[1:5]] == [0, 1, 2, 3]
    assert rows[5][0] == "… and 6 more rows: the CSV file next to this workbook has them all"
    assert len(rows) == 6


def test_tables_are_streamed_to_csv_in_chunks(tmp_path: Path) -> None:
    from migrate.reports.tables import frames
    from migrate.reports.write import write_table

    records = ({"n": n, "text": f"=row {n}"} for n in range(10))
    table = write_table(tmp_path / "t.csv", frames(records, ["n", "text"], size=3))
    assert table.rows == 10
    assert list(table.head["n"]) == list(range(10))
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfn,text\r\n") and raw.count(b"\xef\xbb\xbf") == 1
    assert raw.count(b"n,text") == 1
    assert len(read_csv(tmp_path / "t.csv")) == 10


def test_an_empty_run_still_writes_every_file_with_headers(tmp_path: Path) -> None:
    from migrate.reports import ReportData

    files = write_reports(tmp_path, ReportData(), dry_run=True)
    assert tuple(read_csv(files.results).columns) == RESULTS_COLUMNS
    assert tuple(read_csv(files.changes).columns) == CHANGES_COLUMNS
    assert list(read_csv(files.failures).columns) == [
        "scenario_id",
        "rule",
        "note",
        "outcome",
        "http_status",
        "error",
        "#sheet_row",
    ]
    assert "no scenarios" in files.html.read_text("utf-8")


def test_a_long_sheet_rows_table_keeps_every_row_that_changed_nothing() -> None:
    from migrate.reports import ReportChange, ReportData, ReportRow, SheetStep
    from migrate.reports.tables import sheet_rows_frame

    rows, changes = [], []
    for n in range(2, 12):  # sheet rows 2..11, one scenario each; rows 9 and 11 change nothing
        sid = f"{n:032X}"
        rows.append(ReportRow(sid, f"S{n}", "updated", (SheetStep("url", {"find": "a"}, n),)))
        if n not in (9, 11):
            changes.append(ReportChange(sid, "script[0]", "request", "a", "b", "url", n))
    summary = summarise(ReportData({}, rows, changes))
    frame = sheet_rows_frame(summary, limit=4)
    assert list(frame["row"]) == [2, 3, 9, 11]
    assert list(frame["note"])[2:] == ["changed nothing: its rule found nothing to change in "
                                       "the scenarios it matched"] * 2  # fmt: skip
    assert len(sheet_rows_frame(summary)) == 10
