"""Name and description templates of the ``rename`` rule: ``{name} (2026)``.

Only the bare placeholders ``{name}`` and ``{description}`` are allowed, with ``{{``/``}}`` for
literal braces. Attribute access, indexing, conversions and format specs (``{name.upper}``,
``{name!r}``, ``{name:>9}``) are refused: a sheet cell is data, never code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from string import Formatter
from typing import Final

from transforms.rules.base import ParamError

PLACEHOLDERS: Final = ("name", "description")


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and placeholder names, alternating."""

    source: str
    #: ``(literal, placeholder or None)`` pairs, as :class:`string.Formatter` parses them.
    parts: tuple[tuple[str, str | None], ...]

    def fields(self) -> set[str]:
        return {field for _, field in self.parts if field is not None}

    def render(self, values: dict[str, str]) -> str:
        return "".join(literal + (values[field] if field else "") for literal, field in self.parts)

    def produced(self, value: str, own: str, values: dict[str, str]) -> bool:
        """True when ``value`` is what this template makes of *some* value of field ``own``.

        With the other placeholders filled from ``values``: ``"Sales (2026)"`` was produced by
        ``"{name} (2026)"``; so a second run leaves it alone instead of appending again.
        """
        return _frame(self, own, tuple(sorted(values.items()))).fullmatch(value) is not None


@lru_cache(maxsize=256)
def _frame(template: Template, own: str, values: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    filled = dict(values)
    out: list[str] = []
    first = True
    for literal, field in template.parts:
        out.append(re.escape(literal))
        if field == own:
            out.append("(?P<own>.*)" if first else "(?P=own)")
            first = False
        elif field is not None:
            out.append(re.escape(filled[field]))
    return re.compile("".join(out), re.DOTALL)


@lru_cache(maxsize=256)
def parse_template(source: str) -> Template:
    """Parse and check a template; :class:`ParamError` names the fix."""
    parts: list[tuple[str, str | None]] = []
    try:
        parsed = list(Formatter().parse(source))
    except ValueError as exc:
        raise ParamError(
            f"{source!r} is not a valid template ({exc}): write {{name}} or {{description}}, "
            "and {{ and }} for literal braces"
        ) from None
    for literal, field, spec, conversion in parsed:
        if field is None:
            parts.append((literal, None))
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            shown = (
                "{"
                + field
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise ParamError(
                f"unknown placeholder {shown} in {source!r}: only {{name}} and {{description}} "
                "are allowed; write {{ and }} for literal braces"
            )
        parts.append((literal, field))
    return Template(source, tuple(parts))
