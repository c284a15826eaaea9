"""Reading good sheets: encodings, separators, XLSX, ignored columns, targets, row numbers."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from migrate.sheet import (
    SheetRow,
    SheetSummary,
    Target,
    parse_target,
    read_sheet,
    summarize,
)

ID_A = "0B0458310896E39079FC9CFC65BF4138"
ID_B = "49CE29A1153455B82A1D5D9E0C54F3BE"

# Umlauts and accents only Windows-1252 (not ASCII) can hold.
ROWS = [
    ["scenario_id", "rule", "find", "replace", "note"],
    [ID_A, "say-text", "Grüße", "Schöne Grüße", "ä and é survive"],
    ["*", "say-text", "café", "Café", ""],
]


def write_csv(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", sep: str = ","
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=sep).writerows(rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def essence(rows: list[SheetRow]) -> list[tuple[int, str, str, dict[str, Any], str]]:
    return [(r.row, str(r.target), r.rule, r.params, r.note) for r in rows]


EXPECTED = [
    (2, ID_A, "say-text", {"find": "Grüße", "replace": "Schöne Grüße"}, "ä and é survive"),
    (3, "*", "say-text", {"find": "café", "replace": "Café"}, ""),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_every_common_encoding(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "sheet.csv", ROWS, encoding=encoding)
    assert essence(read_sheet(path)) == EXPECTED


def test_utf16_big_endian_with_bom(tmp_path: Path) -> None:
    text = "\n".join(",".join(row) for row in ROWS) + "\n"
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    assert essence(read_sheet(path)) == EXPECTED


def test_excel_unicode_text_is_utf16_with_tabs(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "sheet.txt", ROWS, encoding="utf-16", sep="\t")
    assert essence(read_sheet(path)) == EXPECTED


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_separators_are_detected(tmp_path: Path, sep: str) -> None:
    path = write_csv(tmp_path / "sheet.csv", ROWS, sep=sep)
    assert essence(read_sheet(path)) == EXPECTED


def test_semicolon_sheet_with_commas_in_values(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("scenario_id;rule;find;replace\n*;say-text;Hello, world;Hi, all\n")
    assert read_sheet(path)[0].params == {"find": "Hello, world", "replace": "Hi, all"}


def test_xlsx_only_sheet_and_named_sheet(tmp_path: Path) -> None:
    assert essence(read_sheet(write_xlsx(tmp_path / "one.xlsx", {"Rules": ROWS}))) == EXPECTED
    other = [["scenario_id", "rule", "new"], [ID_B, "sms-sender", "OtherBrand"]]
    path = write_xlsx(tmp_path / "sheet.xlsx", {"Rules": ROWS, "Other": other})
    assert essence(read_sheet(path, sheet="Rules")) == EXPECTED
    assert essence(read_sheet(path, sheet="Other")) == [
        (2, ID_B, "sms-sender", {"new": "OtherBrand"}, "")
    ]


def test_xlsx_numbers_and_booleans_become_the_text_excel_shows(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "sheet.xlsx",
        {
            "Rules": [
                ["scenario_id", "rule", "old", "new", "speech-rate", "find", "replace", "regex"],
                ["*", "number", 41793026727, 41793026728.0, None, None, None, None],
                ["*", "voice", None, None, 1.1, None, None, None],
                ["*", "say-text", None, None, None, "a+", "b", True],
            ]
        },
    )
    rows = read_sheet(path)
    assert [r.cells for r in rows] == [
        {"old": "41793026727", "new": "41793026728"},
        {"speech-rate": "1.1"},
        {"find": "a+", "replace": "b", "regex": "true"},
    ]
    assert rows[1].params == {"speech-rate": 1.1}
    assert rows[2].params["regex"] is True


def test_hash_and_note_columns_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "scenario_id,rule,# owner,new,Note,#ticket\n"
        f"{ID_A},sms-sender,alice,NewBrand,rebrand,OPS-12\n"
        ",,bob,,only a comment,\n"
    )
    rows = read_sheet(path)
    assert len(rows) == 1
    assert rows[0].cells == {"new": "NewBrand"}
    assert rows[0].note == "rebrand"


def test_headers_match_ignoring_case_spaces_and_hyphens(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text('Scenario ID,RULE,Speech Rate,only_language\n*,Voice,"1,2",en\n')
    [row] = read_sheet(path)
    assert row.rule == "voice"
    assert row.params == {"speech-rate": 1.2, "only-language": "en"}
    assert row.cells == {"speech-rate": "1,2", "only-language": "en"}


def test_whitespace_is_trimmed(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(f"  scenario_id , rule ,new\n  {ID_A.lower()}  , sms-sender ,  NewBrand \t\n")
    [row] = read_sheet(path)
    assert row.target == Target("id", ID_A)
    assert row.cells == {"new": "NewBrand"}


def test_targets(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "scenario_id,rule,new\n"
        f"{ID_A.lower()},sms-sender,Brand1\n"
        "*,sms-sender,Brand2\n"
        "name:Sales *,sms-sender,Brand3\n"
        "NAME: *survey*,sms-sender,Brand4\n"
    )
    assert [r.target for r in read_sheet(path)] == [
        Target("id", ID_A),
        Target("all", "*"),
        Target("name", "Sales *"),
        Target("name", "*survey*"),
    ]


def test_name_selectors_are_case_sensitive_globs() -> None:
    sales = parse_target("name:Sales*")
    assert sales.matches("X", "Sales hunt group")
    assert not sales.matches("X", "sales hunt group")
    assert not sales.matches("X", "Big Sales")
    assert parse_target("name:*[Ss]urvey?").matches("X", "Installation survey2")
    assert parse_target("*").matches("X", "anything")
    assert parse_target(ID_A.lower()).matches(ID_A, "any name")
    assert str(sales) == "name:Sales*"


def test_row_numbers_are_those_a_spreadsheet_shows(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "\n"  # row 1 is empty: the header is row 2
        "scenario_id,rule,find,replace\n"
        '*,say-text,"two\nlines",x\n'  # one spreadsheet row, two lines of text
        "\n"  # row 4 is blank and skipped
        "*,say-text,b,y\n"
    )
    rows = read_sheet(path)
    assert [(r.row, r.params["find"]) for r in rows] == [(3, "two\nlines"), (5, "b")]


def test_xlsx_row_numbers_skip_nothing(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "sheet.xlsx",
        {
            "Rules": [
                [],
                ["scenario_id", "rule", "new"],
                ["*", "sms-sender", "A1b"],
                [],
                [ID_A, "sms-sender", "B2c"],
            ]
        },
    )
    assert [(r.row, r.cells["new"]) for r in read_sheet(path)] == [(3, "A1b"), (5, "B2c")]


def test_rows_for_one_scenario_keep_sheet_order(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "scenario_id,rule,find,replace,new\n"
        f"{ID_A},say-text,a,b,\n"
        f"{ID_B},sms-sender,,,Other\n"
        f"{ID_A},say-text,b,c,\n"
        f"{ID_A},sms-sender,,,Brand\n"
    )
    steps = [(r.rule, r.cells) for r in read_sheet(path) if r.target.value == ID_A]
    assert steps == [
        ("say-text", {"find": "a", "replace": "b"}),
        ("say-text", {"find": "b", "replace": "c"}),
        ("sms-sender", {"new": "Brand"}),
    ]


def test_same_rule_for_different_targets_is_not_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(f"scenario_id,rule,new\n{ID_A},sms-sender,Brand\n{ID_B},sms-sender,Brand\n")
    assert len(read_sheet(path)) == 2


def test_extension_does_not_matter(tmp_path: Path) -> None:
    csv_named_xlsx = write_csv(tmp_path / "sheet.xlsx", ROWS)
    xlsx_named_csv = write_xlsx(tmp_path / "sheet.csv", {"Rules": ROWS})
    assert essence(read_sheet(csv_named_xlsx)) == essence(read_sheet(xlsx_named_csv)) == EXPECTED


def test_sheet_cells_write_the_row_back_as_a_valid_sheet(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "scenario_id,rule,new,old,find,replace,regex,note\n"
        f"{ID_A.lower()},sms-sender,NewBrand,OldBrand,,,,first\n"
        "name:Sales*,url,,,https://a.example,https://b.example,yes,\n"
    )
    rows = read_sheet(path)
    again = tmp_path / "failures.csv"
    header = ["scenario_id", "rule", "new", "old", "find", "replace", "regex", "note"]
    with again.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(r.sheet_cells() for r in rows)
    assert essence(read_sheet(again)) == essence(rows)


def test_summary(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text(
        "scenario_id,rule,new,find,replace\n"
        f"{ID_A},sms-sender,Brand,,\n"
        f"{ID_A},url,,http://a.example,https://a.example\n"
        f"{ID_B},sms-sender,Brand,,\n"
        "*,say-text,,a,b\n"
        "name:Sales*,sms-sender,Brand,,\n"
        "*,say-text,,b,c\n"
    )
    assert summarize(read_sheet(path)) == SheetSummary(
        rows=6,
        scenario_ids=2,
        selectors=("*", "name:Sales*"),
        rules={"sms-sender": 3, "url": 1, "say-text": 2},
    )


def test_demo_sheet_is_valid() -> None:
    demo = Path(__file__).resolve().parents[1] / "migrate" / "examples" / "demo-sheet.csv"
    rows = read_sheet(demo)
    assert len(rows) >= 4
    assert all(r.note for r in rows)


def test_a_100k_row_sheet(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write("scenario_id,rule,new,old,find,replace\n")
        for i in range(100_000):
            if i % 2:
                handle.write(f"{i:032X},sms-sender,NewBrand,OldBrand,,\n")
            else:
                handle.write(f"{i:032X},url,,,https://old.example,https://new.example\n")
    rows = read_sheet(path)
    assert len(rows) == 100_000
    assert (rows[0].row, rows[-1].row) == (2, 100_001)
    assert rows[-1].target == Target("id", f"{99_999:032X}")
    assert rows[-1].params == {"new": "NewBrand", "old": "OldBrand"}
