"""Renaming a variable: where actions set it, and every ``${…}`` expression that reads it.

Expressions are tokenised, never rewritten with a blind regex: an identifier token is a variable
read unless it follows a ``.`` (a property, ``${obj.lang}``); quoted string literals
(``'lang'``) and text outside ``${…}`` are never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from transforms.model import (
    CAPTURE,
    COLLECT,
    FOR_EACH,
    GO_TO,
    SET_VARIABLE,
    SWITCH,
    VARIABLE_REF,
    nested_fields,
)

#: Suffixes of the variables the platform derives from another one (reference §6.4).
DERIVED_SUFFIXES: Final = ("_Meaning", "_Full")

#: Names the platform sets or the expression language owns: they cannot be renamed.
RESERVED_NAMES: Final = frozenset(
    {"to", "from", "startTime", "answerTime", "machineAnswered"}
    | {"true", "false", "null", "undefined", "NaN", "Infinity", "typeof", "in", "new"}
)

#: Top-level fields that hold a variable *name* (no braces), by action kind.
NAME_FIELDS: Final = {
    COLLECT: "collectInto",
    CAPTURE: "capture",
    SET_VARIABLE: "setVariable",
    FOR_EACH: "for-each",
    SWITCH: "switch",
}

_TOKEN: Final = re.compile(
    r"""
      (?P<string>'(?:[^'\\]|\\.)*(?:'|$)|"(?:[^"\\]|\\.)*(?:"|$))
    | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def name_map(old: str, new: str) -> dict[str, str]:
    """Every name that follows the rename: the variable and its derived ``_Meaning``/``_Full``."""
    return {old + suffix: new + suffix for suffix in ("", *DERIVED_SUFFIXES)}


def rename_in_expression(expression: str, names: dict[str, str], seen: set[str]) -> str:
    """Rename variable reads inside one ``${…}`` body; adds every variable read to ``seen``."""
    out: list[str] = []
    after_dot = False
    for token in _TOKEN.finditer(expression):
        text = token.group()
        kind = token.lastgroup
        if kind == "name" and not after_dot:
            seen.add(text)
            text = names.get(text, text)
        if kind != "space":
            after_dot = kind == "other" and text == "."
        out.append(text)
    return "".join(out)


def rename_in_string(value: str, names: dict[str, str], seen: set[str]) -> str:
    """Rename variable reads in every ``${…}`` of a string field; the rest is kept as is."""
    return VARIABLE_REF.sub(
        lambda m: "${" + rename_in_expression(m.group(1), names, seen) + "}", value
    )


#: ``(keys inside the action, before, after)`` of one renamed field.
FieldEdit = tuple[tuple[Any, ...], str, str]


@dataclass
class Renamer:
    """Renames through one scenario, remembering every name it met (to detect collisions)."""

    old: str
    new: str
    names: dict[str, str] = field(init=False)
    #: Every variable name the scenario set or read before the rename (among involved strings).
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.names = name_map(self.old, self.new)

    def collides(self) -> list[str]:
        """Names of the new variable (or its derived ones) already in use next to the old one."""
        if not any(name in self.seen for name in self.names):
            return []
        return [target for target in self.names.values() if target in self.seen]

    def rename_action(self, kind: str, action: dict[str, Any]) -> list[FieldEdit]:
        """Rename in one action's own fields (not in its nested actions), in key order."""
        edits: list[FieldEdit] = []
        skip = nested_fields(kind)
        name_field = NAME_FIELDS.get(kind)
        for key in list(action):
            value = action[key]
            if key in skip:
                continue
            if key == name_field:
                self._name(action, key, (key,), edits)
            elif kind == GO_TO and key == "options" and isinstance(value, dict):
                for option in list(value):
                    keys = ("options", option)
                    if option == "countVariable":
                        self._name(value, option, keys, edits)
                    else:
                        self._strings(value, option, keys, edits)
            else:
                self._strings(action, key, (key,), edits)
        return edits

    def _name(self, parent: Any, key: Any, keys: tuple[Any, ...], edits: list[FieldEdit]) -> None:
        value = parent[key]
        if not isinstance(value, str):
            return
        self.seen.add(value)
        if value in self.names:
            parent[key] = self.names[value]
            edits.append((keys, value, parent[key]))

    def _strings(
        self, parent: Any, key: Any, keys: tuple[Any, ...], edits: list[FieldEdit]
    ) -> None:
        value = parent[key]
        if isinstance(value, str):
            # Cheap filter first: the old name is a prefix of its derived names, same for new.
            if "${" in value and (self.old in value or self.new in value):
                renamed = rename_in_string(value, self.names, self.seen)
                if renamed != value:
                    parent[key] = renamed
                    edits.append((keys, value, renamed))
        elif isinstance(value, dict):
            for child in list(value):
                self._strings(value, child, (*keys, child), edits)
        elif isinstance(value, list):
            for index in range(len(value)):
                self._strings(value, index, (*keys, index), edits)
