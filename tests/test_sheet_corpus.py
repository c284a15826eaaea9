"""The malformed-sheet corpus: every sheet gives its clear messages and nothing downstream runs."""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from migrate.errors import SheetError
from migrate.sheet import MAX_PROBLEMS, read_sheet
from transforms.rules.base import Catalogue, Change, Param, Rule
from transforms.rules.catalogue import builtin_catalogue

ID_A = "0B0458310896E39079FC9CFC65BF4138"
ID_B = "49CE29A1153455B82A1D5D9E0C54F3BE"
FIX_TEXT = "format the column as Text in Excel and type or paste the values again"


def _boom(scenario: dict[str, Any], params: dict[str, Any]) -> list[Change]:
    raise AssertionError("a rule ran although the sheet is invalid")


#: The built-in rules, every body failing if called, plus a plugin rule with a URL parameter.
CORPUS_RULES = Catalogue(
    [
        *(dataclasses.replace(rule, body=_boom) for rule in builtin_catalogue().values()),
        Rule(
            "webhook",
            _boom,
            (Param("endpoint", "url", True, "the new webhook URL", "https://hooks.example"),),
            "Test plugin: set a webhook URL.",
        ),
    ]
)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in tmp_path so messages name the file as the operator typed it."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def xlsx(*rows: list[Any], edit: Callable[[Any], None] | None = None) -> Callable[[Path], None]:
    """A writer of an XLSX workbook holding ``rows`` (then ``edit(worksheet)``)."""

    def write(path: Path) -> None:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Rules"
        for row in rows:
            sheet.append(row)
        if edit:
            edit(sheet)
        workbook.save(path)

    return write


def hide_rows(sheet: Any, *rows: int) -> None:
    """Hide rows as Excel does by hand or with a filter (``<row hidden="1">``)."""
    for row in rows:
        sheet.row_dimensions[row].hidden = True


def excel_saved_formula(path: Path) -> None:
    """A formula cell as Excel saves it: the formula and, next to it, its cached result.

    openpyxl writes no cached result; a reader that returns cached values (calamine does) would
    take ``NEWBRAND`` for a typed value, which the formula message exists to prevent.
    """
    xlsx(["scenario_id", "rule", "new"], ["*", "sms-sender", '=UPPER("newbrand")'])(path)
    part = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    formula = b'<c r="C2"><f>UPPER("newbrand")</f><v /></c>'
    assert formula in members[part], members[part]
    members[part] = members[part].replace(
        formula, b'<c r="C2" t="str"><f>UPPER("newbrand")</f><v>NEWBRAND</v></c>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@dataclass
class Case:
    id: str
    content: str | bytes | Callable[[Path], None]
    expected: list[str]
    file: str = "sheet.csv"
    sheet: str | None = None

    def write(self, path: Path) -> None:
        if isinstance(self.content, str):
            path.write_text(self.content, encoding="utf-8")
        elif isinstance(self.content, bytes):
            path.write_bytes(self.content)
        else:
            self.content(path)


CORPUS = [
    # --- the file itself ------------------------------------------------------------------
    Case(
        "empty-file",
        "",
        [
            "sheet.csv: the file is empty: the first row must name the columns, "
            "e.g. scenario_id,rule,new,old"
        ],
    ),
    Case(
        "blank-lines-only",
        "\n \n,,\n",
        [
            "sheet.csv: the sheet is empty: the first row must "
            "name the columns, e.g. scenario_id,rule"
        ],
    ),
    Case(
        "binary-file",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        ["sheet.csv: is not a sheet (it looks like a binary file): pass a .csv or .xlsx file"],
    ),
    Case(
        "old-xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
        [
            "sheet.xls: is an Excel 97-2003 (.xls) or password-protected workbook: save it as "
            ".xlsx without a password, or as CSV UTF-8"
        ],
        file="sheet.xls",
    ),
    Case(
        "broken-zip",
        b"PK\x03\x04 this is not really a workbook",
        [
            "sheet.xlsx: is not a readable XLSX workbook (BadZipFile): open it in Excel and save "
            "it again as .xlsx, or export it as CSV UTF-8"
        ],
        file="sheet.xlsx",
    ),
    Case(
        "sheet-name-on-csv",
        f"scenario_id,rule,new\n{ID_A},sms-sender,NewBrand\n",
        [
            "sheet.csv: is a CSV file, which has no sheet 'Rules': a sheet name applies only to "
            "XLSX workbooks"
        ],
        sheet="Rules",
    ),
    Case(
        "unknown-xlsx-sheet",
        xlsx(["scenario_id", "rule", "new"]),
        ["sheet.xlsx: has no sheet named 'Rulez': its sheets are 'Rules'"],
        file="sheet.xlsx",
        sheet="Rulez",
    ),
    Case(
        "several-sheets-without-sheet-option",
        xlsx(
            ["scenario_id", "rule", "new"],
            [ID_A, "sms-sender", "NewBrand"],
            edit=lambda sheet: sheet.parent.create_sheet("Notes").append(["who", "when"]),
        ),
        ["sheet.xlsx: has 2 sheets ('Rules', 'Notes'): name the one to use with --sheet NAME"],
        file="sheet.xlsx",
    ),
    Case(
        "hidden-rows",
        xlsx(
            ["scenario_id", "rule", "new"],
            [ID_A, "sms-sender", "NewBrand"],
            [ID_B, "sms-sender", "HiddenBrand"],
            ["*", "sms-sender", "Filtered"],
            edit=lambda sheet: hide_rows(sheet, 3, 4),
        ),
        [
            f"sheet.xlsx, row {row}: the row is hidden in Excel (hidden, or filtered out), so a "
            "review of the sheet does not show it: unhide it, or delete it"
            for row in (3, 4)
        ],
        file="sheet.xlsx",
    ),
    # --- the header -------------------------------------------------------------------------
    Case(
        "missing-scenario-id-column",
        f"id,rule,new\n{ID_A},sms-sender,NewBrand\n",
        ["sheet.csv, row 1: missing column 'scenario_id': rename column 'id' to scenario_id"],
    ),
    Case(
        "missing-rule-column",
        "scenario_id,new\n*,NewBrand\n",
        [
            "sheet.csv, row 1: missing column 'rule': the first non-empty row must name the "
            "columns, e.g. scenario_id,rule,new,old"
        ],
    ),
    Case(
        "no-header-row",
        f"{ID_A},sms-sender,NewBrand\n*,sms-sender,Other\n",
        [
            "sheet.csv, row 1: missing column 'scenario_id': this row looks like data, not column "
            "names: insert a header row above it, e.g. scenario_id,rule,new,old",
            "sheet.csv, row 1: missing column 'rule': this row looks like data, not column names: "
            "insert a header row above it, e.g. scenario_id,rule,new,old",
        ],
    ),
    Case(
        "duplicated-header",
        "scenario_id,rule,new,New\n*,sms-sender,A1b,B2c\n",
        [
            "sheet.csv, row 1, column 'new': column 'new' appears 2 times (columns C and D): keep "
            "one, or start the others' names with # to ignore them"
        ],
    ),
    # --- targets and rules ----------------------------------------------------------------
    Case(
        "blank-scenario-id",
        "scenario_id,rule,new\n,sms-sender,NewBrand\n",
        [
            "sheet.csv, row 2, column 'scenario_id': scenario_id is empty: write a scenario id, * "
            "for every scenario, or name:GLOB"
        ],
    ),
    Case(
        "blank-rule",
        f"scenario_id,rule,new\n{ID_A},,NewBrand\n",
        [
            "sheet.csv, row 2, column 'rule': rule is empty: write a rule name (ivr-migrate rules "
            "lists them)"
        ],
    ),
    Case(
        "scenario-id-31-chars",
        f"scenario_id,rule,new\n{ID_A[:31]},sms-sender,NewBrand\n",
        [
            f"sheet.csv, row 2, column 'scenario_id': '{ID_A[:31]}' is not a scenario id: ids are "
            "32 hexadecimal characters (this one has 31), e.g. 0B0458310896E39079FC9CFC65BF4138; "
            "or write * for every scenario or name:GLOB"
        ],
    ),
    Case(
        "scenario-id-not-hex",
        "scenario_id,rule,new\n0B0458310896E39079FC9CFC65BF41XY,sms-sender,NewBrand\n",
        [
            "sheet.csv, row 2, column 'scenario_id': '0B0458310896E39079FC9CFC65BF41XY' is not a "
            "scenario id: ids are 32 hexadecimal characters, e.g. 0B0458310896E39079FC9CFC65BF4138;"
            " or write * for every scenario or name:GLOB"
        ],
    ),
    Case(
        "scenario-id-scientific",
        "scenario_id,rule,new\n1.23456789012346E+31,sms-sender,New\n",
        [
            "sheet.csv, row 2, column 'scenario_id': '1.23456789012346E+31' is a number Excel "
            f"reformatted, not a scenario id: {FIX_TEXT}"
        ],
    ),
    Case(
        "empty-name-selector",
        "scenario_id,rule,new\nname:,sms-sender,NewBrand\n",
        [
            "sheet.csv, row 2, column 'scenario_id': name: needs a pattern after it, e.g. "
            "name:Sales* or name:*survey*"
        ],
    ),
    Case(
        "unknown-rule-did-you-mean",
        "scenario_id,rule,new\n*,sms-sendr,NewBrand\n",
        ["sheet.csv, row 2, column 'rule': unknown rule 'sms-sendr': did you mean 'sms-sender'?"],
    ),
    Case(
        "unknown-rule-no-suggestion",
        "scenario_id,rule,new\n*,frobnicate,NewBrand\n",
        [
            "sheet.csv, row 2, column 'rule': unknown rule 'frobnicate': the rules are header, "
            "number, rename, say-text, set, sms-sender, sms-text, url, variable, voice, webhook"
        ],
    ),
    # --- parameters -------------------------------------------------------------------------
    Case(
        "missing-required-parameter",
        "scenario_id,rule,new,old\n*,sms-sender,,OldBrand\n",
        [
            "sheet.csv, row 2, column 'new': rule sms-sender needs a value in column 'new' (the "
            "new SMS sender id)"
        ],
    ),
    Case(
        "none-of-at-least-one",
        "scenario_id,rule,only-language\n*,voice,en\n",
        [
            "sheet.csv, row 2, column 'language': rule voice needs at least one of language, "
            "voice, gender, speech-rate"
        ],
    ),
    Case(
        "cell-in-column-rule-does-not-take",
        "scenario_id,rule,find,replace,new\n*,url,http://a.example,https://a.example,X1y\n",
        [
            "sheet.csv, row 2, column 'new': rule url does not take a 'new' parameter (it takes "
            "find, replace, regex): clear the cell, or start the column name with # to keep it as "
            "a comment"
        ],
    ),
    Case(
        "typo-column",
        "scenario_id,rule,nwe\n*,sms-sender,NewBrand\n",
        [
            "sheet.csv, row 2, column 'new': rule sms-sender needs a value in column 'new' "
            "(the new SMS sender id)",
            "sheet.csv, row 2, column 'nwe': rule sms-sender does not take a 'nwe' parameter: did "
            "you mean 'new'?",
        ],
    ),
    Case(
        "typo-column-unknown-rule",
        "scenario_id,rule,nwe\n*,nope-rule,NewBrand\n",
        [
            "sheet.csv, row 2, column 'rule': unknown rule 'nope-rule': the rules are header, "
            "number, rename, say-text, set, sms-sender, sms-text, url, variable, voice, webhook",
            "sheet.csv, row 2, column 'nwe': no rule takes a 'nwe' parameter: did you mean 'new'?",
        ],
    ),
    Case(
        "cell-without-header",
        "scenario_id,rule,new,\n*,sms-sender,NewBrand,oops\n",
        [
            "sheet.csv, row 2, column 'D': this cell has no column name above it: name the column "
            "after a parameter, start its name with # to keep it as a comment, or clear the cell"
        ],
    ),
    Case(
        "cell-beyond-last-column",
        "scenario_id,rule,new\n*,sms-sender,NewBrand,oops\n",
        [
            "sheet.csv, row 2, column 'D': this cell has no column name above it: name the column "
            "after a parameter, start its name with # to keep it as a comment, or clear the cell"
        ],
    ),
    Case(
        "invalid-regex",
        "scenario_id,rule,find,replace,regex\n*,url,(crm,x,yes\n",
        [
            "sheet.csv, row 2, column 'find': '(crm' is not a valid regular expression (missing ), "
            "unterminated subpattern at position 0): escape special characters with a backslash, "
            "or set regex to false to find plain text"
        ],
    ),
    Case(
        "not-a-yes-no",
        "scenario_id,rule,find,replace,regex\n*,url,a,b,maybe\n",
        ["sheet.csv, row 2, column 'regex': 'maybe' is not a yes/no value: write true or false"],
    ),
    Case(
        "bad-sender-id",
        "scenario_id,rule,new\n*,sms-sender,Way Too Long Sender\n",
        [
            "sheet.csv, row 2, column 'new': sender id 'Way Too Long Sender' must be 3 to 11 "
            "letters and digits (alphanumeric) or 3 to 14 digits (numeric)"
        ],
    ),
    Case(
        "bad-e164",
        "scenario_id,rule,old,new\n*,number,+41 79 302 67 27,41793026728\n",
        [
            "sheet.csv, row 2, column 'old': '+41 79 302 67 27' is not an E.164 number: write "
            "digits only with country code, e.g. 41793026727"
        ],
    ),
    Case(
        "bad-url",
        "scenario_id,rule,endpoint\n*,webhook,ftp://hooks.example\n",
        [
            "sheet.csv, row 2, column 'endpoint': 'ftp://hooks.example' is not an http(s) URL: "
            "start it with https://"
        ],
    ),
    Case(
        "bad-json",
        "scenario_id,rule,action,path,value\n*,set,say,options.language,en-gb\n",
        [
            "sheet.csv, row 2, column 'value': 'en-gb' is not valid JSON (Expecting value at "
            'character 0): quote strings, e.g. "Joanna", and write numbers and true/false bare'
        ],
    ),
    Case(
        "out-of-range",
        "scenario_id,rule,speech-rate\n*,voice,3\n",
        ["sheet.csv, row 2, column 'speech-rate': '3' is above the maximum 2"],
    ),
    Case(
        "not-a-choice",
        "scenario_id,rule,gender\n*,voice,divers\n",
        ["sheet.csv, row 2, column 'gender': 'divers' is not one of female, male, FEMALE, MALE"],
    ),
    Case(
        "variable-with-braces",
        "scenario_id,rule,old,new\n*,variable,${lang},language\n",
        [
            "sheet.csv, row 2, column 'old': '${lang}' is not a variable name: use letters, digits "
            "and _ and no ${} braces"
        ],
    ),
    # --- Excel damage ---------------------------------------------------------------------
    Case(
        "e164-scientific",
        "scenario_id,rule,old,new\n*,number,4.47860099299E+11,41793026728\n",
        [
            "sheet.csv, row 2, column 'old': '4.47860099299E+11' is a number Excel wrote in "
            f"scientific notation, which loses digits: {FIX_TEXT}"
        ],
    ),
    Case(
        "e164-dot-zero",
        "scenario_id,rule,old,new\n*,number,447860099299.0,41793026728\n",
        [
            "sheet.csv, row 2, column 'old': '447860099299.0' is a whole number Excel turned into "
            f"a decimal: {FIX_TEXT}, without '.0'"
        ],
    ),
    Case(
        "sender-scientific",
        "scenario_id,rule,new\n*,sms-sender,4.9301234567E+14\n",
        [
            "sheet.csv, row 2, column 'new': '4.9301234567E+14' is a number Excel wrote in "
            f"scientific notation, which loses digits: {FIX_TEXT}"
        ],
    ),
    Case(
        "old-sender-dot-zero",
        "scenario_id,rule,new,old\n*,sms-sender,4930123457,4930123456.0\n",
        [
            "sheet.csv, row 2, column 'old': '4930123456.0' is a whole number Excel turned into "
            f"a decimal: {FIX_TEXT}, without '.0'"
        ],
    ),
    Case(
        "scenario-id-with-dashes",
        "scenario_id,rule,new\n0b045831-0896-e390-79fc-9cfc65bf4138,sms-sender,NewBrand\n",
        [
            "sheet.csv, row 2, column 'scenario_id': '0b045831-0896-e390-79fc-9cfc65bf4138' is "
            "not a scenario id: ids are 32 hexadecimal characters without dashes, e.g. "
            "0B0458310896E39079FC9CFC65BF4138; or write * for every scenario or name:GLOB"
        ],
    ),
    Case(
        "unclosed-quote",
        'scenario_id,rule,find,replace\n*,say-text,"Hello,Hi\n' + "*,say-text,a,b\n" * 10_000,
        [
            "sheet.csv, row 2: cannot read the CSV from this row on (field larger than field "
            'limit (131072)): look for an unclosed quote (") or a cell longer than 10,000 '
            "characters"
        ],
    ),
    Case(
        "unclosed-quote-in-last-column",
        'scenario_id,rule,new,note\n*,sms-sender,NewBrand,"rebrand, see OPS-12\n'
        + "name:Sales*,sms-sender,Other,\n" * 3,
        [
            'sheet.csv, row 2: a quote (") opened in this row is never closed, so every line '
            'below it was read into one cell: close the quote, or double it ("") inside a '
            "quoted cell"
        ],
    ),
    # --- rows -------------------------------------------------------------------------------
    Case(
        "duplicate-rows",
        f"scenario_id,rule,new\n{ID_A},sms-sender,NewBrand\n{ID_B},sms-sender,"
        f"NewBrand\n{ID_A.lower()},sms-sender, NewBrand \n",
        [
            "sheet.csv, row 4: repeats row 2 (same target, rule and parameters): delete one of the "
            "two rows"
        ],
    ),
    Case(
        "header-only",
        "scenario_id,rule,new,note\n",
        [
            "sheet.csv: no rows below the header: add one row per rule and target (ivr-migrate "
            "rules shows examples)"
        ],
    ),
    Case(
        "huge-cell",
        "scenario_id,rule,find,replace\n*,say-text," + "x" * 10_001 + ",y\n",
        [
            "sheet.csv, row 2, column 'find': cell holds 10,001 characters (at most 10,000): "
            "shorten it, or look for an unclosed quote"
        ],
    ),
    Case(
        "cannot-decode",
        b"scenario_id,rule,new\n*,sms-sender,Bad\x81\x8d\n",
        ["sheet.csv: cannot decode the text: save it as CSV UTF-8"],
    ),
    # --- XLSX ---------------------------------------------------------------------------------
    Case(
        "xlsx-formula",
        xlsx(["scenario_id", "rule", "new"], ["*", "sms-sender", '=UPPER("x")']),
        [
            "sheet.xlsx, row 2, column 'new': cell holds a formula ('=UPPER(\"x\")'); formulas are "
            "never evaluated: replace it with its value (copy, then Paste Special → Values)"
        ],
        file="sheet.xlsx",
    ),
    Case(
        "xlsx-formula-with-cached-value",
        excel_saved_formula,
        [
            "sheet.xlsx, row 2, column 'new': cell holds a formula ('=UPPER(\"newbrand\")'); "
            "formulas are never evaluated: replace it with its value (copy, then Paste Special → "
            "Values)"
        ],
        file="sheet.xlsx",
    ),
    Case(
        "xlsx-merged-cells",
        xlsx(
            ["scenario_id", "rule", "new"],
            [ID_A, "sms-sender", "NewBrand"],
            [None, "sms-sender", "Other"],
            edit=lambda ws: ws.merge_cells("A2:A3"),
        ),
        [
            "sheet.xlsx, row 2, column 'scenario_id': cells A2:A3 are merged: unmerge them and "
            "write the value in every row (only the first cell of a merged range holds it)"
        ],
        file="sheet.xlsx",
    ),
    Case(
        "xlsx-date",
        xlsx(
            ["scenario_id", "rule", "find", "replace"],
            ["*", "say-text", datetime(2026, 3, 4), "4 March"],
        ),
        [
            "sheet.xlsx, row 2, column 'find': Excel turned this cell into a date or time "
            f"(2026-03-04 00:00:00): {FIX_TEXT}"
        ],
        file="sheet.xlsx",
    ),
    Case(
        "xlsx-error-value",
        xlsx(["scenario_id", "rule", "new"], ["*", "sms-sender", "#N/A"]),
        ["sheet.xlsx, row 2, column 'new': cell holds the Excel error #N/A: fix or clear it"],
        file="sheet.xlsx",
    ),
    Case(
        "xlsx-numeric-id",
        xlsx(
            ["scenario_id", "rule", "new"],
            [12345678901234567890123456789012, "sms-sender", "NewBrand"],
        ),
        [
            "sheet.xlsx, row 2, column 'scenario_id': '1.23456789012346E+31' is a number Excel "
            f"reformatted, not a scenario id: {FIX_TEXT}"
        ],
        file="sheet.xlsx",
    ),
    Case(
        "xlsx-huge-cell",
        xlsx(["scenario_id", "rule", "find", "replace"], ["*", "say-text", "y" * 10_001, "z"]),
        [
            "sheet.xlsx, row 2, column 'find': cell holds 10,001 characters (at most 10,000): "
            "shorten it, or look for an unclosed quote"
        ],
        file="sheet.xlsx",
    ),
    Case(
        "xlsx-empty-sheet",
        xlsx(),
        [
            "sheet.xlsx: the sheet is empty: the first row must name "
            "the columns, e.g. scenario_id,rule"
        ],
        file="sheet.xlsx",
    ),
]


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_malformed_sheet_gives_its_messages(case: Case, in_tmp: Path) -> None:
    case.write(in_tmp / case.file)
    with pytest.raises(SheetError) as raised:
        read_sheet(case.file, sheet=case.sheet, rules=CORPUS_RULES)
    assert [str(p) for p in raised.value.problems] == case.expected
    assert raised.value.total == len(case.expected)
    assert all(p.file == case.file for p in raised.value.problems)


def test_corpus_is_large_and_covers_both_formats() -> None:
    assert len(CORPUS) >= 25
    assert sum(c.file.endswith(".xlsx") for c in CORPUS) >= 5


def test_missing_file(in_tmp: Path) -> None:
    with pytest.raises(SheetError) as raised:
        read_sheet("nope.csv")
    assert [str(p) for p in raised.value.problems] == ["nope.csv: no such file: check the path"]


def test_directory(in_tmp: Path) -> None:
    (in_tmp / "rules").mkdir()
    with pytest.raises(SheetError) as raised:
        read_sheet("rules")
    assert [str(p) for p in raised.value.problems] == [
        "rules: is a folder, not a sheet: pass a .csv or .xlsx file"
    ]


def test_unreadable_file(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root, so the refusal is simulated where the reader opens the file.
    path = in_tmp / "secret.csv"
    path.write_text("scenario_id,rule,new\n*,sms-sender,NewBrand\n")
    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "secret.csv":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(SheetError) as raised:
        read_sheet("secret.csv")
    assert [str(p) for p in raised.value.problems] == [
        "secret.csv: cannot read the file (permission denied): check its permissions"
    ]


def test_every_problem_of_a_sheet_is_reported_together(in_tmp: Path) -> None:
    (in_tmp / "sheet.csv").write_text(
        "scenario_id,rule,new,old\n"
        "*,sms-sender,NewBrand,\n"
        "123,sms-sender,NewBrand,\n"
        "*,sms-sendr,NewBrand,\n"
        "*,sms-sender,,Old\n"
    )
    with pytest.raises(SheetError) as raised:
        read_sheet("sheet.csv")
    assert [(p.row, p.column) for p in raised.value.problems] == [
        (3, "scenario_id"),
        (4, "rule"),
        (5, "new"),
    ]


def test_many_problems_are_cut_short_with_the_real_count(in_tmp: Path) -> None:
    bad_rows = "".join(f"*,sms-sender,Sender!{i}\n" for i in range(MAX_PROBLEMS + 10))
    (in_tmp / "sheet.csv").write_text("scenario_id,rule,new\n" + bad_rows)
    with pytest.raises(SheetError) as raised:
        read_sheet("sheet.csv")
    problems = raised.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert raised.value.total == MAX_PROBLEMS + 10
    assert str(problems[-1]) == (
        "sheet.csv: and 10 more problems not shown: fix these and run ivr-migrate check again"
    )


def test_a_million_row_one_column_csv_fails_fast_with_one_message(in_tmp: Path) -> None:
    with (in_tmp / "ids.csv").open("w") as handle:
        handle.write("scenario_id\n")
        handle.writelines(f"{i:032X}\n" for i in range(1_000_000))
    with pytest.raises(SheetError) as raised:
        read_sheet("ids.csv")
    assert [str(p) for p in raised.value.problems] == [
        "ids.csv: more than 200,000 rows: split the sheet into files of at most 200,000 rows "
        "and run them one after the other"
    ]


def test_too_many_rows_in_xlsx(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from migrate import sheet_files

    monkeypatch.setattr(sheet_files, "MAX_ROWS", 3)
    xlsx(["scenario_id", "rule", "new"], *[["*", "sms-sender", f"Brand{i}"] for i in range(5)])(
        in_tmp / "big.xlsx"
    )
    with pytest.raises(SheetError) as raised:
        read_sheet("big.xlsx")
    assert [p.message for p in raised.value.problems] == [
        "more than 3 rows: split the sheet into files of at most 3 rows and run them one after "
        "the other"
    ]
