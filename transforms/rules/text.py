"""Idempotent find-and-replace in text fields, shared by ``sms-text``, ``say-text`` and ``url``.

A plain ``str.replace`` is not idempotent when the replacement contains what it replaces
(``Bank`` → ``Bank AG`` grows on every run) or when a replacement creates a new occurrence next to
it (``aa`` → ``a`` on ``aaaa``). The operator runs a sheet, fixes a row, runs it again: the second
run must change nothing. So:

* an occurrence that already lies inside an occurrence of its own replacement is left alone
  (``Bank`` inside ``Bank AG``), for plain text and for regular expressions alike;
* replacement is repeated until the text is stable, so applying the rule to its output changes
  nothing; a pair that never settles raises :class:`~transforms.rules.base.RuleError`;
* an occurrence that cuts into a ``${…}`` variable reference is left alone (``order`` in
  ``${orderNumber}``); one that contains whole references (``${city}``) is replaced;
* zero-length regex matches are ignored.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from transforms.model import VARIABLE_REF
from transforms.rules.base import RuleError

#: Passes allowed beyond the length of the text before a find/replace pair is declared unstable.
_EXTRA_PASSES: Final = 8


@dataclass(frozen=True)
class Replacer:
    """One compiled find/replace pair; call :meth:`apply` on a text."""

    find: str
    replace: str
    regex: bool
    pattern: re.Pattern[str]

    def apply(self, text: str) -> str:
        """``text`` with every occurrence replaced until it is stable (see the module doc)."""
        if self.regex:
            if self.pattern.search(text) is None:
                return text
        elif self.find not in text:
            return text
        for _ in range(len(text) + _EXTRA_PASSES):
            new = self._one_pass(text)
            if new is None:
                return text
            text = new
        raise RuleError(
            f"replacing {self.find!r} with {self.replace!r} never settles on {text[:60]!r}: "
            "choose a replacement that does not recreate what it replaces"
        )

    def _one_pass(self, text: str) -> str | None:
        refs = [m.span() for m in VARIABLE_REF.finditer(text)] if "${" in text else []
        out: list[str] = []
        last = 0
        for match in self.pattern.finditer(text):
            start, end = match.span()
            if start == end:
                continue
            new = match.expand(self.replace) if self.regex else self.replace
            if _inside_occurrence(text, new, start, end) or _cuts_reference(refs, start, end):
                continue
            out.append(text[last:start])
            out.append(new)
            last = end
        if not out:
            return None
        out.append(text[last:])
        return "".join(out)


def _inside_occurrence(text: str, needle: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` lies within some occurrence of ``needle`` in ``text``."""
    size = len(needle)
    # An occurrence found in this window starts at or before ``start`` and ends at or after ``end``.
    return size >= end - start and text.find(needle, max(0, end - size), start + size) != -1


def _cuts_reference(refs: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when ``[start, end)`` overlaps a ``${…}`` span without containing all of it."""
    if not refs:
        return False
    # refs are sorted and disjoint: only those ending after start can overlap.
    index = bisect_left(refs, (start, start))
    for ref_start, ref_end in refs[max(0, index - 1) :]:
        if ref_start >= end:
            break
        if ref_end > start and not (start <= ref_start and ref_end <= end):
            return True
    return False


@lru_cache(maxsize=256)
def replacer(find: str, replace: str, regex: bool) -> Replacer:
    """The compiled :class:`Replacer` for one parameter set (cached: rows repeat across scenarios).

    Raises ``re.error`` for a bad pattern; :func:`find_replace_problems` reports it first.
    """
    pattern = re.compile(find if regex else re.escape(find))
    return Replacer(find, replace, regex, pattern)


def find_replace_problems(find: str, replace: str, regex: bool) -> list[tuple[str, str]]:
    """Problems of a find/replace parameter set, as ``(param, message)``."""
    if not regex:
        if find == replace:
            return [("replace", "find and replace are the same text: nothing would change")]
        return []
    try:
        pattern = re.compile(find)
    except re.error as exc:
        return [
            (
                "find",
                f"{find!r} is not a valid regular expression ({exc}): escape special "
                "characters with a backslash, or set regex to false to find plain text",
            )
        ]
    if pattern.fullmatch("") is not None:
        return [
            (
                "find",
                f"the regular expression {find!r} matches empty text: make it match at least "
                "one character",
            )
        ]
    try:
        pattern.sub(replace, "")  # parses the template: group references must exist
    except (re.error, IndexError) as exc:
        return [
            (
                "replace",
                f"{replace!r} refers to a group {find!r} does not have ({exc}): use \\1 or "
                "\\g<name> for groups the pattern defines, and \\\\ for a literal backslash",
            )
        ]
    return []
