"""Rule sheets (DESIGN §4): read a CSV or XLSX file into typed rows, or report every problem.

:func:`read_sheet` returns one :class:`SheetRow` per sheet row, in sheet order, or raises
:class:`~migrate.errors.SheetError` listing every problem found (file, row, column, fix), so
nothing downstream ever runs on a half-valid sheet. Decisions an operator may need to know:

- The file type is read from the content, not the extension: a zip is an XLSX workbook, anything
  else must be text (UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252) separated by
  ``,``, ``;`` or tab, whichever the header row uses most.
- Row numbers are the ones a spreadsheet shows: the header is row 1 and the first data row is
  row 2 (blank rows above still count, a quoted cell spanning lines is one row).
- Column names are matched ignoring case, and spaces, ``_`` and ``-`` are equivalent:
  ``Scenario ID`` is ``scenario_id`` and ``Speech Rate`` is ``speech-rate``. Columns whose name
  starts with ``#`` are ignored, as is an empty column with no name; ``note`` is kept as the
  row's note. ``outcome``, ``http_status`` and ``error`` are ignored too: they are the columns a
  failures.csv adds after each sheet row, so that file is itself a sheet (no rule parameter may
  be called so). Rule names are matched ignoring case.
- ``scenario_id`` holds a scenario id (32 hex characters, upper-cased), ``*`` (every scenario) or
  ``name:GLOB``: fnmatch wildcards (``*``, ``?``, ``[abc]``) over the whole scenario name,
  **case-sensitive**, because the API's names are and a bulk change must not match more than
  what was written.
- A row whose scenario_id, rule and parameter cells are all empty is skipped (a row holding only
  a note is a comment).
- XLSX: formulas are reported, never evaluated and never replaced by Excel's cached value;
  cells Excel turned into dates, Excel error values and merged cells are reported too.
- Numbers Excel damaged (``4.47860099299E+11``, ``447860099299.0``) are reported with the fix,
  never guessed back.
"""

from __future__ import annotations

import difflib
import fnmatch
import operator
import os
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

from migrate.errors import Problem, SheetError
from migrate.plugins import rule_catalogue
from migrate.sheet_files import (
    FIX_TEXT_COLUMN,
    MAX_CELL_CHARS,
    MAX_ROWS,
    BadCell,
    Cell,
    Record,
    Unreadable,
    clip,
    column_letter,
    open_sheet_file,
)
from transforms.rules.base import Catalogue, Param, ParamError, Rule

__all__ = [
    "ACCOUNT_COLUMN",
    "ID_COLUMN",
    "MAX_CELL_CHARS",
    "MAX_PROBLEMS",
    "MAX_ROWS",
    "NOTE_COLUMN",
    "REPORT_COLUMNS",
    "RULE_COLUMN",
    "SheetRow",
    "SheetSummary",
    "Target",
    "parse_target",
    "read_sheet",
    "summarize",
]

ID_COLUMN: Final = "scenario_id"
RULE_COLUMN: Final = "rule"
NOTE_COLUMN: Final = "note"
#: Which account of the accounts file a row applies to (runs over several accounts).
ACCOUNT_COLUMN: Final = "account"
#: The columns failures.csv adds after a sheet row's own (DESIGN §8); read and ignored.
REPORT_COLUMNS: Final = ("outcome", "http_status", "error")
#: Problems reported before "and N more": enough to see the pattern, few enough to read.
MAX_PROBLEMS: Final = 50

_HEX_ID: Final = re.compile(r"^[0-9A-Fa-f]{32}$")
_KEY_SEPARATORS: Final = re.compile(r"[\s_\-]+")
# Excel shows big numbers as 4.47860099299E+11 and writes them so into CSV; digits are lost.
_EXCEL_SCIENTIFIC: Final = re.compile(r"^[+-]?\d+(?:[.,]\d+)?E[+-]\d+$")
_ANY_SCIENTIFIC: Final = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")
_DOT_ZERO: Final = re.compile(r"^\+?\d+[.,]0+$")
# In free text only a phone-number-like value is taken for damage: "100.0" may be meant.
_LONG_DOT_ZERO: Final = re.compile(r"^\+?\d{6,}[.,]0+$")


@dataclass(frozen=True, slots=True)
class Target:
    """What a row applies to: one scenario id, every scenario (``*``) or names matching a glob."""

    kind: Literal["id", "all", "name"]
    value: str

    def matches(self, scenario_id: str, name: str) -> bool:
        """Whether a scenario with this id and name is a target of the row."""
        if self.kind == "all":
            return True
        if self.kind == "id":
            return scenario_id.upper() == self.value
        return fnmatch.fnmatchcase(name, self.value)

    def __str__(self) -> str:
        """The target as written in a sheet cell."""
        return {"id": self.value, "all": "*", "name": f"name:{self.value}"}[self.kind]


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One valid sheet row: a rule, its converted parameters, and the target it applies to.

    Rows with the same rule and parameter cells share their ``params`` and ``cells`` dicts
    (a 100,000-row sheet usually repeats a handful of sets): treat them as read-only.
    """

    file: str
    row: int
    target: Target
    rule: str
    params: dict[str, Any]
    #: The trimmed, non-empty parameter cells as written, by parameter name.
    cells: dict[str, str]
    note: str = ""
    #: The ``account`` cell (empty when the sheet has no account column).
    account: str = ""

    def sheet_cells(self) -> dict[str, str]:
        """The row as sheet cells again (for a failures report that is itself a valid sheet)."""
        row = {ID_COLUMN: str(self.target), RULE_COLUMN: self.rule, **self.cells}
        if self.account:
            row = {ACCOUNT_COLUMN: self.account, **row}
        if self.note:
            row[NOTE_COLUMN] = self.note
        return row


@dataclass(frozen=True)
class SheetSummary:
    """What a valid sheet would do, for ``ivr-migrate check``."""

    rows: int
    #: Distinct scenario ids written in the sheet.
    scenario_ids: int
    #: Distinct selectors (``*``, ``name:GLOB``) in sheet order; they match at plan time.
    selectors: tuple[str, ...]
    #: Rows per rule, in order of first appearance.
    rules: dict[str, int]


def parse_target(text: str) -> Target:
    """Parse a trimmed scenario_id cell; :class:`ValueError` names the fix."""
    if len(text) == 32 and _HEX_ID.match(text):
        return Target("id", text.upper())
    if text == "*":
        return Target("all", "*")
    if text[:5].lower() == "name:":
        glob = text[5:].strip()
        if not glob:
            raise ValueError("name: needs a pattern after it, e.g. name:Sales* or name:*survey*")
        return Target("name", glob)
    if _ANY_SCIENTIFIC.match(text) or _DOT_ZERO.match(text):
        raise ValueError(
            f"{clip(text)} is a number Excel reformatted, not a scenario id: {FIX_TEXT_COLUMN}"
        )
    size = ""
    if re.fullmatch(r"[0-9A-Fa-f]+", text):
        size = f" (this one has {len(text)})"
    elif _HEX_ID.match(text.replace("-", "")):
        size = " without dashes"
    raise ValueError(
        f"{clip(text)} is not a scenario id: ids are 32 hexadecimal characters{size}, "
        "e.g. 0B0458310896E39079FC9CFC65BF4138; or write * for every scenario or name:GLOB"
    )


def summarize(rows: Iterable[SheetRow]) -> SheetSummary:
    """Count rows, distinct scenario ids, selectors and rows per rule."""
    count = 0
    ids: set[str] = set()
    selectors: dict[str, None] = {}
    rules: Counter[str] = Counter()
    for row in rows:
        count += 1
        rules[row.rule] += 1
        if row.target.kind == "id":
            ids.add(row.target.value)
        else:
            selectors.setdefault(str(row.target))
    return SheetSummary(count, len(ids), tuple(selectors), dict(rules))


def check_accounts(rows: Sequence[SheetRow], accounts: Collection[str], file: str) -> None:
    """The rows' accounts against the accounts file (DESIGN §4): every row names one of them;
    without an account column, the file must name exactly one account. ``accounts`` empty: a
    run without an accounts file, where an account column makes no sense."""
    named = sorted(accounts)
    with_column = any(row.account for row in rows)
    if not named:
        if with_column:
            raise SheetError(
                [
                    Problem(
                        file,
                        None,
                        ACCOUNT_COLUMN,
                        "the sheet names accounts but no accounts file was given: pass "
                        "--accounts FILE (or write ./ivr-migrate.toml)",
                    )
                ]
            )
        return
    if not with_column:
        if len(named) > 1:
            raise SheetError(
                [
                    Problem(
                        file,
                        None,
                        ACCOUNT_COLUMN,
                        f"the accounts file names {len(named)} accounts ({', '.join(named)}): "
                        "add an account column saying which account each row applies to",
                    )
                ]
            )
        return
    problems = [
        Problem(
            file,
            row.row,
            ACCOUNT_COLUMN,
            f"no account {row.account!r} in the accounts file; it names {', '.join(named)}"
            + (f": did you mean {hint!r}?" if (hint := _closest(row.account, named)) else ""),
        )
        for row in rows
        if row.account not in accounts
    ]
    if problems:
        raise SheetError(problems[:MAX_PROBLEMS], total=len(problems))


def read_sheet(
    path: str | os.PathLike[str], *, sheet: str | None = None, rules: Catalogue | None = None
) -> list[SheetRow]:
    """Read and check a rule sheet; raise :class:`SheetError` with every problem found.

    ``sheet`` names the worksheet of an XLSX workbook (needed when it has several); ``rules`` the
    rules its rows may use (default: the built-in rules and installed plugins).
    """
    file = os.fspath(path)
    try:
        source = open_sheet_file(Path(file), sheet)
        try:
            checker = _Validator(file, source.merged, rules or rule_catalogue())
            checker.hidden_rows = source.hidden_rows
            return checker.run(source.records)
        finally:
            source.close()  # the validator may stop early: release the file now
    except Unreadable as exc:
        raise SheetError([Problem(file, exc.row, None, exc.message)]) from None


# --- problems -------------------------------------------------------------------------------


class _Fatal(Exception):
    """Stop checking: the header is broken, so rows cannot be read against it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems


def _sheet_error(file: str, problems: list[Problem]) -> SheetError:
    """The SheetError for these problems, sorted by row and cut short after MAX_PROBLEMS."""
    problems = sorted(problems, key=lambda p: p.row or 0)
    total = len(problems)
    if total > MAX_PROBLEMS:
        more = total - MAX_PROBLEMS
        problems = problems[:MAX_PROBLEMS]
        problems.append(
            Problem(
                file,
                None,
                None,
                f"and {more:,} more problems not shown: fix these and run ivr-migrate check again",
            )
        )
    return SheetError(problems, total=total)


def _key(header: str) -> str:
    """Header spelling-insensitive key: ``Scenario ID`` and ``scenario_id`` → ``scenario-id``."""
    return _KEY_SEPARATORS.sub("-", header.strip().lower())


def _closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    names = {_key(c): c for c in candidates}
    found = difflib.get_close_matches(_key(word), list(names), n=1, cutoff=cutoff)
    return names[found[0]] if found else None


# --- validation ------------------------------------------------------------------------------

_REPORT_KEYS: Final = frozenset(_key(name) for name in REPORT_COLUMNS)
_ID_ALIASES: Final = frozenset({"id", "ids", "scenario", "scenarios", "scenarioid", "target"})
_RULE_ALIASES: Final = frozenset({"rules", "rule-name", "rulename", "action", "transform"})

ColumnRole = Literal["id", "rule", "note", "account", "param", "ignored", "unknown"]


@dataclass(frozen=True)
class _Column:
    index: int
    #: As written in the header (trimmed), or the column letter when the header cell is empty.
    header: str
    role: ColumnRole
    #: The declared name for id, rule, note and parameter columns.
    name: str = ""


def _excel_damage(kind: str, value: str) -> str | None:
    """Why a cell of this parameter type looks like a number Excel reformatted, if it does."""
    scientific = _ANY_SCIENTIFIC if kind == "e164" else _EXCEL_SCIENTIFIC
    if kind in ("number", "json", "bool"):
        return None
    if scientific.match(value):
        return (
            f"{clip(value)} is a number Excel wrote in scientific notation, which loses "
            f"digits: {FIX_TEXT_COLUMN}"
        )
    dot_zero = _DOT_ZERO if kind in ("e164", "sender") else _LONG_DOT_ZERO
    if dot_zero.match(value):
        return (
            f"{clip(value)} is a whole number Excel turned into a decimal: "
            f"{FIX_TEXT_COLUMN}, without '.0'"
        )
    return None


class _Validator:
    """Checks the records of one sheet; collects every problem before deciding."""

    def __init__(
        self, file: str, merged: list[tuple[int, int, int, int]], rules: Catalogue
    ) -> None:
        self.file = file
        self.merged = merged
        self.rules = rules
        self.rules_by_key = {name.lower(): rule for name, rule in self.rules.items()}
        self.param_names = {_key(p.name): p.name for r in self.rules.values() for p in r.params}
        self.params_of = {name: {p.name: p for p in r.params} for name, r in self.rules.items()}
        self.problems: list[Problem] = []
        #: Rows hidden in Excel: applied unseen by whoever reviews the sheet, so refused.
        self.hidden_rows: frozenset[int] = frozenset()

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, row, column, message))

    def run(self, records: Iterator[Record]) -> list[SheetRow]:
        try:
            header_row, header = self._header(records)
            columns = self._columns(header_row, header)
            self._report_merged(columns)
            rows = self._rows(records, header_row, columns)
        except _Fatal as fatal:
            raise _sheet_error(self.file, fatal.problems) from None
        if self.problems:
            raise _sheet_error(self.file, self.problems)
        if not rows:
            raise SheetError(
                [
                    Problem(
                        self.file,
                        None,
                        None,
                        "no rows below the header: add one "
                        "row per rule and target (ivr-migrate rules shows examples)",
                    )
                ]
            )
        return rows

    def _header(self, records: Iterator[Record]) -> tuple[int, list[Cell]]:
        for number, cells in records:
            if any(isinstance(c, BadCell) or c.strip() for c in cells):
                return number, cells
        message = "the sheet is empty: the first row must name the columns, e.g. scenario_id,rule"
        raise _Fatal([Problem(self.file, None, None, message)])

    def _columns(self, header_row: int, header: list[Cell]) -> list[_Column]:
        columns: list[_Column] = []
        for index, cell in enumerate(header):
            letter = column_letter(index)
            if isinstance(cell, BadCell):
                self.add(header_row, letter, f"a column name cannot be read: {cell.message}")
                continue
            text = cell.strip()
            key = _key(text)
            if not text:
                columns.append(_Column(index, letter, "unknown"))
            elif text.startswith("#"):
                columns.append(_Column(index, text, "ignored"))
            elif key == _key(ID_COLUMN):
                columns.append(_Column(index, text, "id", ID_COLUMN))
            elif key == RULE_COLUMN:
                columns.append(_Column(index, text, "rule", RULE_COLUMN))
            elif key == NOTE_COLUMN:
                columns.append(_Column(index, text, "note", NOTE_COLUMN))
            elif key == ACCOUNT_COLUMN:
                columns.append(_Column(index, text, "account", ACCOUNT_COLUMN))
            elif key in _REPORT_KEYS:
                columns.append(_Column(index, text, "ignored", key))
            elif key in self.param_names:
                columns.append(_Column(index, text, "param", self.param_names[key]))
            else:
                columns.append(_Column(index, text, "unknown", key))
        self._check_header(header_row, header, columns)
        if self.problems:
            # Rows cannot be read reliably against a broken header: stop here.
            raise _Fatal(self.problems)
        return columns

    def _check_header(self, header_row: int, header: list[Cell], columns: list[_Column]) -> None:
        named: dict[str, list[_Column]] = {}
        for column in columns:
            if column.role != "ignored" and column.name:
                named.setdefault(column.name, []).append(column)
        for same in named.values():
            if len(same) > 1:
                letters = " and ".join(column_letter(c.index) for c in same)
                self.add(
                    header_row,
                    same[0].header,
                    f"column {same[0].header!r} appears "
                    f"{len(same)} times (columns {letters}): keep one, or start the "
                    "others' names with # to ignore them",
                )
        unknown = [c.header for c in columns if c.role == "unknown" and c.name]
        for name, aliases in ((ID_COLUMN, _ID_ALIASES), (RULE_COLUMN, _RULE_ALIASES)):
            if name in named:
                continue
            alias = next((h for h in unknown if _key(h) in aliases), None)
            alias = alias or _closest(name, unknown)
            if alias:
                fix = f"rename column {alias!r} to {name}"
            elif self._looks_like_data(header):
                fix = (
                    "this row looks like data, not column names: insert a header row above "
                    "it, e.g. scenario_id,rule,new,old"
                )
            else:
                fix = "the first non-empty row must name the columns, e.g. scenario_id,rule,new,old"
            self.add(header_row, None, f"missing column {name!r}: {fix}")

    def _looks_like_data(self, header: list[Cell]) -> bool:
        for cell in header:
            text = cell.strip() if isinstance(cell, str) else ""
            if text.lower() in self.rules_by_key or text == "*" or _HEX_ID.match(text):
                return True
        return False

    def _report_merged(self, columns: list[_Column]) -> None:
        names = {c.index + 1: c.header for c in columns}
        for first_row, first_col, last_row, last_col in self.merged:
            first = f"{column_letter(first_col - 1)}{first_row}"
            last = f"{column_letter(last_col - 1)}{last_row}"
            self.add(
                first_row,
                names.get(first_col, column_letter(first_col - 1)),
                f"cells {first}:{last} are merged: unmerge them and write the value in "
                "every row (only the first cell of a merged range holds it)",
            )

    def _merged_away(self) -> dict[int, frozenset[int]]:
        """0-based column indexes, by row, of cells hidden under a merged range's first cell."""
        hidden: dict[int, set[int]] = {}
        for first_row, first_col, last_row, last_col in self.merged:
            for row in range(first_row, min(last_row, MAX_ROWS + 1) + 1):
                for col in range(first_col, last_col + 1):
                    if (row, col) != (first_row, first_col):
                        hidden.setdefault(row, set()).add(col - 1)
        return {row: frozenset(columns) for row, columns in hidden.items()}

    def _rows(
        self, records: Iterator[Record], header_row: int, columns: list[_Column]
    ) -> list[SheetRow]:
        checker = _RowChecker(self, columns)
        hidden = self._merged_away()
        rows: list[SheetRow] = []
        seen: dict[tuple[str, str, str, tuple[str, tuple[Cell, ...]]], int] = {}
        for number, cells in records:
            if number in self.hidden_rows and any(cells):
                self.add(number, None, _HIDDEN_ROW)
                continue
            checked = checker.check(number, cells, hidden.get(number, _NOTHING_HIDDEN))
            if checked is None:
                continue
            row, params_key = checked
            first = seen.setdefault(
                (row.account, row.target.kind, row.target.value, params_key), number
            )
            if first != number:
                self.add(
                    number,
                    None,
                    f"repeats row {first} (same target, rule and "
                    "parameters): delete one of the two rows",
                )
            elif not self.problems:
                rows.append(row)
        return rows


@dataclass(frozen=True, slots=True)
class _ParamSet:
    """The parameter cells of a rule, checked once however many rows repeat them."""

    key: tuple[str, tuple[Cell, ...]]
    params: dict[str, Any]
    written: dict[str, str]
    #: (0-based column index, column header, message)
    problems: tuple[tuple[int, str, str], ...]


_NOTHING_HIDDEN: Final[frozenset[int]] = frozenset()
_HIDDEN_ROW: Final = (
    "the row is hidden in Excel (hidden, or filtered out), so a review of the sheet does not "
    "show it: unhide it, or delete it"
)


class _RowChecker:
    """Checks one data row against the header's columns."""

    def __init__(self, sheet: _Validator, columns: list[_Column]) -> None:
        self.sheet = sheet
        self.width = len(columns) and columns[-1].index + 1
        by_role = {role: [c for c in columns if c.role == role] for role in get_args(ColumnRole)}
        self.id_column = by_role["id"][0]
        self.rule_column = by_role["rule"][0]
        self.note_column = by_role["note"][0] if by_role["note"] else None
        self.account_column = by_role["account"][0] if by_role["account"] else None
        self.params = by_role["param"]
        self.param_indexes = [c.index for c in self.params]
        self.unknown = by_role["unknown"]
        self.header_of = {c.name: c for c in self.params}
        self.used = _picker(
            [self.id_column.index, self.rule_column.index]
            + [c.index for c in self.params + self.unknown]
        )
        self.param_cells = _picker(self.param_indexes)
        # A bulk sheet repeats one parameter set over many ids: convert and check it once, and
        # let its rows share the resulting dicts.
        self.sets: dict[tuple[str, tuple[Cell, ...]], _ParamSet] = {}

    def check(
        self, number: int, cells: list[Cell], hidden: frozenset[int] = _NOTHING_HIDDEN
    ) -> tuple[SheetRow, tuple[str, tuple[Cell, ...]]] | None:
        """A valid row and the key of its parameter set, or None after adding its problems.

        ``cells`` are trimmed (the sources do that). ``hidden`` holds the columns of this row
        covered by a merged cell (already reported).
        """
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        extra = range(self.width, len(cells))
        if not any(self.used(cells)) and not any(cells[i] for i in extra):
            return None
        before = len(self.sheet.problems)
        target = self._target(number, cells, hidden)
        rule = self._rule(number, cells, hidden)
        found = self._param_set(rule, cells)
        for index, header, message in found.problems:
            if index not in hidden:
                self.sheet.add(number, header, message)
        self._unknown(number, cells, rule, extra)
        note = cells[self.note_column.index] if self.note_column else ""
        if isinstance(note, BadCell):
            self.sheet.add(number, NOTE_COLUMN, note.message)
            note = ""
        account = self._account(number, cells, hidden)
        if len(self.sheet.problems) > before or target is None or rule is None:
            return None
        row = SheetRow(
            self.sheet.file, number, target, rule.name, found.params, found.written, note, account
        )
        return row, found.key

    def _account(self, number: int, cells: list[Cell], hidden: frozenset[int]) -> str:
        if self.account_column is None:
            return ""
        text = self._cell(number, cells, self.account_column, hidden)
        if text and not _ACCOUNT_NAME.match(text):
            self.sheet.add(number, self.account_column.header, f"{text!r} is not an account name")
        return text

    def _cell(self, number: int, cells: list[Cell], column: _Column, hidden: frozenset[int]) -> str:
        """The text of a required cell; "" after reporting it unusable or empty."""
        cell = cells[column.index]
        if isinstance(cell, BadCell):
            self.sheet.add(number, column.header, cell.message)
            return ""
        if not cell and column.index not in hidden:
            self.sheet.add(number, column.header, _EMPTY[column.role])
        return cell

    def _target(self, number: int, cells: list[Cell], hidden: frozenset[int]) -> Target | None:
        text = self._cell(number, cells, self.id_column, hidden)
        if not text:
            return None
        try:
            return parse_target(text)
        except ValueError as exc:
            self.sheet.add(number, self.id_column.header, str(exc))
            return None

    def _rule(self, number: int, cells: list[Cell], hidden: frozenset[int]) -> Rule | None:
        text = self._cell(number, cells, self.rule_column, hidden)
        if not text:
            return None
        rule = self.sheet.rules.get(text) or self.sheet.rules_by_key.get(text.lower())
        if rule is None:
            # Stricter than suggest_rule: a wrong hint ("frobnicate" → "voice") misleads.
            hint = _closest(text, self.sheet.rules)
            names = ", ".join(self.sheet.rules)
            fix = f"did you mean {hint!r}?" if hint else f"the rules are {names}"
            self.sheet.add(number, self.rule_column.header, f"unknown rule {clip(text)}: {fix}")
        return rule

    def _param_set(self, rule: Rule | None, cells: list[Cell]) -> _ParamSet:
        key = (rule.name if rule else "", self.param_cells(cells))
        found = self.sets.get(key)
        if found is None:
            found = self.sets[key] = self._evaluate(key, rule)
        return found

    def _evaluate(self, key: tuple[str, tuple[Cell, ...]], rule: Rule | None) -> _ParamSet:
        params: dict[str, Any] = {}
        written: dict[str, str] = {}
        problems: list[tuple[int, str, str]] = []
        failed: set[str] = set()
        takes = self.sheet.params_of[rule.name] if rule else {}
        for column, cell in zip(self.params, key[1], strict=True):
            if not cell:
                continue
            if isinstance(cell, BadCell):
                problems.append((column.index, column.header, cell.message))
                failed.add(column.name)
                continue
            if rule is None:
                continue  # without a known rule there is nothing to check the cell against
            param = takes.get(column.name)
            if param is None:
                problems.append((column.index, column.header, _not_taken(rule, column.header)))
                continue
            problem = _excel_damage(param.type, cell) or _convert(param, cell, params)
            if problem:
                problems.append((column.index, column.header, problem))
                failed.add(param.name)
                continue
            written[param.name] = cell
        if rule is not None:
            problems.extend(self._missing(rule, params, failed))
        return _ParamSet(key, params, written, tuple(problems))

    def _missing(
        self, rule: Rule, params: dict[str, Any], failed: set[str]
    ) -> list[tuple[int, str, str]]:
        if failed:
            # Cross-parameter checks need every value; report only what is plainly absent.
            found = [
                (p.name, f"rule {rule.name} needs a value in column {p.name!r} ({p.help})")
                for p in rule.params
                if p.required and p.name not in params and p.name not in failed
            ]
        else:
            found = rule.problems(params)
        located = []
        for name, message in found:
            column = self.header_of.get(name)
            located.append(
                (column.index, column.header, message) if column else (-1, name, message)
            )
        return located

    def _unknown(self, number: int, cells: list[Cell], rule: Rule | None, extra: range) -> None:
        for column in self.unknown:
            if cells[column.index]:
                if not column.name:  # the header cell is empty
                    self.sheet.add(number, column.header, _NO_HEADER)
                elif rule is not None:
                    self.sheet.add(number, column.header, _not_taken(rule, column.header))
                else:
                    self.sheet.add(number, column.header, self._taken_by_none(column.header))
        for index in extra:
            if cells[index]:
                self.sheet.add(number, column_letter(index), _NO_HEADER)

    def _taken_by_none(self, header: str) -> str:
        hint = _closest(header, self.sheet.param_names.values())
        if hint:
            return f"no rule takes a {header!r} parameter: did you mean {hint!r}?"
        return (
            f"no rule takes a {header!r} parameter: clear the cell, or start the column name "
            "with # to keep it as a comment"
        )


_ACCOUNT_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")

_EMPTY: Final = {
    "account": "the account is empty: write the name of an account of the accounts file",
    "id": "scenario_id is empty: write a scenario id, * for every scenario, or name:GLOB",
    "rule": "rule is empty: write a rule name (ivr-migrate rules lists them)",
}
_NO_HEADER: Final = (
    "this cell has no column name above it: name the column after a parameter, start its name "
    "with # to keep it as a comment, or clear the cell"
)


def _picker(indexes: list[int]) -> Callable[[list[Cell]], tuple[Cell, ...]]:
    """A fast ``cells → tuple of the cells at indexes`` (operator.itemgetter, always a tuple)."""
    if len(indexes) > 1:
        return operator.itemgetter(*indexes)
    if indexes:
        index = indexes[0]
        return lambda cells: (cells[index],)
    return lambda cells: ()


def _convert(param: Param, cell: str, params: dict[str, Any]) -> str | None:
    """Convert a cell into ``params``; the ParamError message if it cannot be used."""
    try:
        params[param.name] = param.convert(cell)
    except ParamError as exc:
        return str(exc)
    return None


def _not_taken(rule: Rule, header: str) -> str:
    names = [p.name for p in rule.params]
    hint = _closest(header, names)
    if hint:
        return f"rule {rule.name} does not take a {header!r} parameter: did you mean {hint!r}?"
    return (
        f"rule {rule.name} does not take a {header!r} parameter (it takes {', '.join(names)}): "
        "clear the cell, or start the column name with # to keep it as a comment"
    )
