"""Field paths inside an action (``options.voice.name``, ``dialToMany[1].number``,
``options.headers["X-Api-Version"]``): parsing, reading, writing, and JSON equality.

The notation is the one :func:`transforms.model.field_path` writes, so a path printed in a change
list or a validation error can be pasted into a ``set`` row.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

from transforms.model import field_path
from transforms.rules.base import ParamError

Keys = tuple[str | int, ...]

#: Marks an absent field (``None`` would be ambiguous with JSON null).
MISSING: Final = object()

_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_INDEX: Final = re.compile(r"\[(\d+)\]")
_QUOTED: Final = re.compile(r'\[("(?:[^"\\]|\\.)*")\]')
_PATH_HELP: Final = "write keys separated by dots, e.g. options.voice.name or dialToMany[0].number"


def parse_path(text: str, *, stop: str = "") -> tuple[Keys, int]:
    """Parse a field path at the start of ``text``; returns its keys and where it ended.

    Parsing stops at the end of the text or at a character in ``stop``; anything else is a
    :class:`ParamError` naming the fix.
    """
    keys: list[str | int] = []
    pos = 0
    expect_key = True  # at the start and after a dot
    while pos < len(text) and text[pos] not in stop:
        if expect_key:
            match = _KEY.match(text, pos)
            if match is None:
                break
            keys.append(match.group())
            pos = match.end()
            expect_key = False
        elif text[pos] == ".":
            pos += 1
            expect_key = True
        elif (match := _INDEX.match(text, pos)) is not None:
            keys.append(int(match.group(1)))
            pos = match.end()
        elif (match := _QUOTED.match(text, pos)) is not None:
            keys.append(json.loads(match.group(1)))
            pos = match.end()
        else:
            break
    if expect_key or (pos < len(text) and text[pos] not in stop):
        where = f" at character {pos + 1}" if text else ""
        raise ParamError(f"{text!r} is not a field path{where}: {_PATH_HELP}")
    return tuple(keys), pos


def path_text(keys: Keys) -> str:
    """The field path of ``keys`` inside an action, as changes print it: ``options.voice.name``."""
    return field_path("", *keys).removeprefix(".")


def parse_where(text: str) -> tuple[Keys, Any]:
    """Parse ``PATH=JSON`` (e.g. ``options.language="en"``) into keys and the expected value."""
    keys, end = parse_path(text, stop="= ")
    rest = text[end:].lstrip()
    if not rest.startswith("="):
        raise ParamError(f'{text!r} is not PATH=JSON: write e.g. options.language="en"')
    raw = rest[1:].strip()
    try:
        return keys, json.loads(raw)
    except json.JSONDecodeError:
        raise ParamError(
            f"the value {raw!r} after = is not JSON: quote strings, e.g. "
            f'{path_text(keys)}="{raw}", and write numbers and true/false/null bare'
        ) from None


def get_field(obj: Any, keys: Keys) -> Any:
    """The value at ``keys`` inside ``obj``, or :data:`MISSING`."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(obj, list) or key >= len(obj):
                return MISSING
        elif not isinstance(obj, dict) or key not in obj:
            return MISSING
        obj = obj[key]
    return obj


def set_field(obj: dict[str, Any], keys: Keys, value: Any) -> bool:
    """Write ``value`` at ``keys``, creating objects on the way where a key is absent or null.

    A created object is appended last; a null one is replaced in place (``null`` counts as an
    absent container, as the validator treats it). Returns False, writing nothing, when the way
    is blocked: a non-object where an object is needed, or a list index that does not exist
    (lists are never created or extended).
    """
    if not _writable(obj, keys):
        return False
    parent: Any = obj
    for key in keys[:-1]:
        if isinstance(key, str) and parent.get(key) is None:
            parent[key] = {}
        parent = parent[key]
    parent[keys[-1]] = value
    return True


def _writable(obj: Any, keys: Keys) -> bool:
    """True when :func:`set_field` can write at ``keys`` (see there), without changing ``obj``."""
    parent = obj
    for step, key in enumerate(keys):
        if isinstance(key, int):
            if not isinstance(parent, list) or key >= len(parent):
                return False
        elif not isinstance(parent, dict):
            return False
        if step == len(keys) - 1:
            return True
        if isinstance(key, str) and parent.get(key) is None:
            # A new empty object: only object keys can follow.
            return all(isinstance(rest, str) for rest in keys[step + 1 :])
        parent = parent[key]
    return True


def delete_field(obj: dict[str, Any], keys: Keys) -> bool:
    """Remove the object key at ``keys``; False when there is none (list items are kept)."""
    parent = get_field(obj, keys[:-1])
    last = keys[-1]
    if isinstance(last, int) or not isinstance(parent, dict) or last not in parent:
        return False
    del parent[last]
    return True


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: ``1 == 1.0``, but ``true`` is not ``1`` and key order is ignored."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (
            isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
