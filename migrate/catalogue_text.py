"""The text of ``ivr-migrate rules``, built only from the rules' own declarations and docstrings.

Nothing here describes a particular rule: a rule added to the catalogue (or by a plugin) shows up
with its summary, parameters and example row without touching this module.
"""

from __future__ import annotations

import csv
import difflib
import inspect
import io
import re
import textwrap
from typing import Final

from migrate.errors import UsageError
from migrate.plugins import rule_catalogue
from transforms.rules.base import Param, Rule

#: How a cell of each parameter type must be written; unknown (plugin) types show their name.
TYPE_HELP: Final = {
    "text": "text",
    "bool": "yes/no: true or false",
    "number": "number",
    "sender": "SMS sender id: 3 to 11 letters and digits, or 3 to 14 digits",
    "e164": "phone number in E.164: digits with country code, e.g. 41793026727",
    "url": "absolute http(s) URL",
    "json": 'JSON value: "quoted text", 12, true, null, [..] or {..}',
    "variable": "variable name: letters, digits and _, without ${}",
}

_TARGETS: Final = (
    "Each sheet row applies one rule to the scenarios named in its scenario_id cell: a scenario "
    "id, * for every scenario, or name:GLOB for the names matching a case-sensitive pattern. "
    "Parameters are columns named after them; an empty cell leaves the parameter out. Rows for "
    "the same scenario apply in sheet order. Columns starting with # and a note column are "
    "ignored."
)


def render_catalogue() -> str:
    """Every rule: name, one-line summary, parameters with types, and an example row."""
    rules = rule_catalogue()
    lines = [
        *_wrap(f"{len(rules)} rules. {_TARGETS}"),
        "Run `ivr-migrate rules NAME` for one rule in full.",
        "",
    ]
    for rule in rules.values():
        lines.append(f"{rule.name}: {plain(rule.summary)}")
        briefs = [f"{p.name} ({p.type}, {_need(p)})" for p in rule.params] or ["none"]
        lines.extend(_wrap_items("  parameters: ", briefs, "    "))
        if rule.at_least_one_of:
            lines.append(f"  needs at least one of: {', '.join(rule.at_least_one_of)}")
        lines.append("  example:")
        lines.extend(f"    {line}" for line in _example_sheet(rule))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_rule(name: str) -> str:
    """One rule in full: its whole docstring, every parameter, and an example sheet."""
    rule = _find(name)
    lines = [rule.name, "", plain(inspect.cleandoc(rule.doc) or rule.summary), ""]
    lines.append("Parameters (one column each; an empty cell leaves the parameter out):")
    width = max((len(p.name) for p in rule.params), default=0)
    for param in rule.params:
        lines.append(f"  {param.name:<{width}}  {_need(param)}, {_type_text(param)}")
        pad = " " * (width + 4)
        lines.append(f"{pad}{param.help}")
        for extra in _limits(param):
            lines.append(f"{pad}{extra}")
        if param.example:
            lines.append(f"{pad}example: {param.example}")
    if not rule.params:
        lines.append("  none")
    if rule.at_least_one_of:
        lines += ["", f"Needs at least one of: {', '.join(rule.at_least_one_of)}."]
    lines += ["", "Example sheet (CSV):"]
    lines.extend(f"  {line}" for line in _example_sheet(rule))
    lines += ["", *_wrap(_TARGETS)]
    return "\n".join(lines) + "\n"


#: reStructuredText inline markup of docstrings: ``literal`` and :role:`target`.
_LITERAL: Final = re.compile(r"``(.+?)``")
_ROLE: Final = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`]+)`")


def plain(text: str) -> str:
    """A docstring as plain text for the terminal: ``new`` becomes 'new', :func:`a.b.walk` walk."""
    return _ROLE.sub(r"\1", _LITERAL.sub(r"'\1'", text))


def _find(name: str) -> Rule:
    rules = rule_catalogue()
    rule = rules.get(name) or rules.get(name.strip().lower())
    if rule is not None:
        return rule
    # Stricter than suggest_rule: a wrong hint ("frobnicate" → "voice") misleads.
    close = difflib.get_close_matches(name.strip().lower(), list(rules), n=1, cutoff=0.6)
    hint = close[0] if close else None
    if hint:
        raise UsageError(
            f"unknown rule {name!r}: did you mean {hint!r}? (ivr-migrate rules lists them)"
        )
    raise UsageError(f"unknown rule {name!r}: the rules are {', '.join(rules)}")


def _wrap(text: str, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent=first, subsequent_indent=rest)


def _wrap_items(first: str, items: list[str], rest: str, width: int = 100) -> list[str]:
    """``first`` + comma-separated items, wrapped between items only."""
    lines = [first + items[0]]
    for item in items[1:]:
        if len(lines[-1]) + 2 + len(item) > width:
            lines[-1] += ","
            lines.append(rest + item)
        else:
            lines[-1] += ", " + item
    return lines


def _need(param: Param) -> str:
    return "required" if param.required else "optional"


def _type_text(param: Param) -> str:
    return TYPE_HELP.get(param.type, param.type)


def _limits(param: Param) -> list[str]:
    found = []
    if param.choices:
        found.append(f"one of: {', '.join(param.choices)}")
    if param.minimum is not None and param.maximum is not None:
        found.append(f"from {param.minimum:g} to {param.maximum:g}")
    elif param.minimum is not None:
        found.append(f"at least {param.minimum:g}")
    elif param.maximum is not None:
        found.append(f"at most {param.maximum:g}")
    return found


def _example_sheet(rule: Rule) -> list[str]:
    """The rule's example row as CSV, with its header line."""
    row = rule.example_row()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(row))
    writer.writerow(list(row.values()))
    return out.getvalue().splitlines()
