"""The changed-field diff of report.html: word-level spans, and field paths that wrap cleanly.

:func:`diff_html` marks each edit of a text as its own span: ``Nordlicht … nordlicht.example``
→ ``NordBrand … nordbrand.example`` shows two edits, not one span from the first to the last.
Long unchanged stretches are elided to :data:`DIFF_CONTEXT` characters around the edits.
:func:`path_html` lets a field path wrap only before a ``.`` or a ``[``.
"""

from __future__ import annotations

import difflib
import html
import re
from typing import Final

from migrate.reports.safety import MAX_CELL_CHARS, value_text

#: Characters of unchanged text kept on each side of an edit.
DIFF_CONTEXT: Final = 120
#: Token pairs above which the diff is one span from the first to the last difference (a
#: word diff of two very long texts costs more than it shows).
MAX_DIFF_WORK: Final = 1_000_000
CUT_MARK: Final = "… (truncated, full value in journal.sqlite)"

_TOKENS: Final = re.compile(r"\w+|\s+|[^\w\s]")
_PATH_SEGMENT: Final = re.compile(r"[^.\[]+|\.[^.\[]*|\[[^\]]*\]?")

#: (changed, text) pieces of one side of a diff.
Pieces = list[tuple[bool, str]]


def esc(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)


def word_diff(old: str, new: str) -> tuple[Pieces, Pieces]:
    """Both texts as pieces, the edited words marked; an edit is a run of changed words (the
    blanks between two changed words belong to the edit)."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    if len(a) * len(b) > MAX_DIFF_WORK:
        return _one_span(old, new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    opcodes = matcher.get_opcodes()
    merged: list[tuple[bool, int, int, int, int]] = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        changed = tag != "equal"
        between = 0 < index < len(opcodes) - 1 and merged and merged[-1][0]
        if not changed and between and all(token.isspace() for token in a[i1:i2]):
            changed = True  # "Nordlicht Outdoor" → "NordBrand Gear" is one edit
        if merged and merged[-1][0] == changed:
            _, f1, _, g1, _ = merged[-1]
            merged[-1] = (changed, f1, i2, g1, j2)
        else:
            merged.append((changed, i1, i2, j1, j2))
    old_pieces = [(c, "".join(a[i1:i2])) for c, i1, i2, _, _ in merged if i2 > i1]
    new_pieces = [(c, "".join(b[j1:j2])) for c, _, _, j1, j2 in merged if j2 > j1]
    return old_pieces, new_pieces


def _one_span(old: str, new: str) -> tuple[Pieces, Pieces]:
    prefix = len(_common_prefix(old, new))
    suffix = len(_common_prefix(old[prefix:][::-1], new[prefix:][::-1]))
    return (
        _pieces(old[:prefix], old[prefix : len(old) - suffix], old[len(old) - suffix :]),
        _pieces(new[:prefix], new[prefix : len(new) - suffix], new[len(new) - suffix :]),
    )


def _pieces(head: str, middle: str, tail: str) -> Pieces:
    parts = ((False, head), (True, middle), (False, tail))
    return [(changed, part) for changed, part in parts if part]


def _common_prefix(a: str, b: str) -> str:
    limit = min(len(a), len(b))
    index = 0
    while index < limit and a[index] == b[index]:
        index += 1
    return a[:index]


def diff_html(before: object, after: object) -> tuple[str, str]:
    """Both values as HTML, each edit in ``<del>``/``<ins>``, long unchanged text elided."""
    if before is None:
        return '<span class="absent">(absent)</span>', esc(cut(value_text(after)))
    if after is None:
        return esc(cut(value_text(before))), '<span class="absent">(removed)</span>'
    old, new = word_diff(value_text(before), value_text(after))
    return _render(old, "del"), _render(new, "ins")


def _render(pieces: Pieces, tag: str) -> str:
    out = []
    for index, (changed, part) in enumerate(pieces):
        if changed:
            out.append(f"<{tag}>{esc(cut(part))}</{tag}>")
        else:
            out.append(esc(_elide(part, first=index == 0, last=index == len(pieces) - 1)))
    return "".join(out)


def _elide(text: str, *, first: bool, last: bool) -> str:
    """Unchanged text: keep the context next to the edits, elide the rest."""
    if first and last:
        return cut(text)
    if first:
        return text if len(text) <= DIFF_CONTEXT else "…" + text[-DIFF_CONTEXT:]
    if last:
        return text if len(text) <= DIFF_CONTEXT else text[:DIFF_CONTEXT] + "…"
    if len(text) <= 2 * DIFF_CONTEXT + 1:
        return text
    return text[:DIFF_CONTEXT] + "…" + text[-DIFF_CONTEXT:]


def cut(text: str) -> str:
    """Text cut at :data:`MAX_CELL_CHARS`, saying where the full value is."""
    if len(text) <= MAX_CELL_CHARS:
        return text
    return text[:MAX_CELL_CHARS] + CUT_MARK


def path_html(path: str) -> str:
    """A field path whose lines break only before ``.`` and ``[``.

    Each segment (``script``, ``[3]``, ``.sendSms``) is kept whole (``white-space: nowrap`` on
    ``.seg``); a ``<wbr>`` between segments is the only place a line may end.
    """
    segments = _PATH_SEGMENT.findall(path) or [path]
    return "<wbr>".join(f'<span class="seg">{esc(segment)}</span>' for segment in segments)
