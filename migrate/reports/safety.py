"""Make hostile text safe for spreadsheets and short enough for tables.

Scenario names, texts and error bodies come from the account and may be written by anyone. A
spreadsheet opening a CSV or XLSX runs a cell as a formula when it starts with ``=``, ``+``,
``-`` or ``@`` (also after leading blanks) or with a tab or carriage return (OWASP "CSV
injection"). In the CSVs, :func:`neutralise` prefixes such cells with a single quote ``'``, which
spreadsheets show as text and which a reader can see and strip (OWASP's advice for CSV). In the
workbooks no prefix is needed, nor wanted: every string is stored as a text cell, which a
spreadsheet shows as it is and never evaluates, so report.xlsx holds the data as it is.

Decision on legitimate values: two strict shapes are kept as they are, in CSV and in XLSX,
because a spreadsheet reads them as numbers, never as formulas, and prefixing them would corrupt
phone numbers and amounts for every other consumer of the files (pandas, scripts, ``plan``):

* E.164-like phone numbers: ``+`` followed by 6 to 15 digits only (``+41793026727``);
* plain negative numbers: ``-`` followed by digits, optionally one decimal part (``-12.5``).

Anything else that starts with a trigger, e.g. ``-2+3``, ``+41 79 302``, ``+cmd|' /C calc'!A0``,
is prefixed. In XLSX the kept values are additionally stored as text cells with the ``@`` (text)
number format, so Excel keeps the ``+`` and the digits exactly.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

#: Characters that make a spreadsheet evaluate a cell when they come first (after blanks).
FORMULA_TRIGGERS: Final = frozenset("=+-@")
#: Characters that are dangerous as the very first character.
LEADING_CONTROL: Final = frozenset("\t\r\n")

_SAFE_NUMBER: Final = re.compile(r"\+\d{6,15}|-\d+(?:\.\d+)?")

#: Longest text kept in a table cell; longer text is cut and marked.
MAX_CELL_CHARS: Final = 500
TRUNCATION_MARK: Final = "… (truncated, full value in journal.sqlite)"


def is_safe_number(text: str) -> bool:
    """True for the strict phone-number and negative-number shapes kept unprefixed."""
    return _SAFE_NUMBER.fullmatch(text) is not None


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could evaluate ``text`` as a formula."""
    if not text:
        return False
    if text[0] in LEADING_CONTROL:
        return True
    stripped = text.lstrip(" \t\r\n\u00a0\u3000")
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS and not is_safe_number(text)


def neutralise(value: Any) -> Any:
    """Prefix formula-like strings with ``'``; every other value is returned unchanged."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def truncate(text: str, limit: int = MAX_CELL_CHARS) -> str:
    """Cut ``text`` to ``limit`` characters and say where the full value is."""
    if len(text) <= limit:
        return text
    return text[:limit] + TRUNCATION_MARK


def value_text(value: Any) -> str:
    """A JSON value as one table cell: strings as they are, the rest as compact JSON.

    ``None`` (an absent field) is the empty string.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def text(value: Any, limit: int = MAX_CELL_CHARS) -> Any:
    """A value ready for a table: long text cut and marked, everything else unchanged.

    Not neutralised: the CSV writer does that, the workbook stores text cells instead.
    """
    if isinstance(value, str):
        return truncate(value, limit)
    return value
