"""Field helpers of the validator: typed reads of one JSON field that report what is wrong.

Each helper appends ``(path, message)`` to a :class:`Checks` collector and carries on, so a
scenario's problems are all reported at once; it returns the value when usable, else ``None``.
Paths are built only when there is something to report.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, Final

from transforms.model import field_path

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1

MISSING: Final[Any] = object()


class Checks:
    """Problems and warnings found so far in one scenario, and the actionIds/goTo targets seen.

    A problem makes the scenario invalid; a warning does not (a key the tool does not know, which
    a PUT sends back unchanged).
    """

    __slots__ = ("action_ids", "gotos", "problems", "warnings")

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []
        self.action_ids: dict[int, str] = {}
        self.gotos: list[tuple[int, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append((path, message))


def at(path: str, key: str | int) -> str:
    """Path of ``key`` inside the object at ``path`` (``""`` is the scenario itself)."""
    return field_path(path, key) if path else field_path("", key).removeprefix(".")


def json_type(value: object) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- field helpers -----------------------------------------------------------------------------


def present(c: Checks, obj: dict[str, Any], path: str, key: str, required: bool) -> Any:
    """``obj[key]``, or ``MISSING`` when absent or null (reported if the field is required)."""
    value = obj.get(key, MISSING)
    if value is MISSING or value is None:
        if required:
            c.add(at(path, key), "is required" if value is MISSING else "must not be null")
        return MISSING
    return value


def string(
    c: Checks,
    obj: dict[str, Any],
    path: str,
    key: str,
    *,
    required: bool = True,
    blank: bool = False,
) -> str | None:
    """A string field; blank values are refused unless ``blank``."""
    value = present(c, obj, path, key, required)
    if value is MISSING:
        return None
    if not isinstance(value, str):
        c.add(at(path, key), f"must be a string, not {json_type(value)}")
        return None
    if not blank and not value.strip():
        c.add(at(path, key), "must not be blank")
        return None
    return value


def integer(
    c: Checks,
    obj: dict[str, Any],
    path: str,
    key: str,
    *,
    required: bool = False,
    lo: int = INT32_MIN,
    hi: int = INT32_MAX,
) -> int | None:
    """An integer field within ``lo``..``hi``; ``None`` when absent or wrong."""
    value = present(c, obj, path, key, required)
    if value is MISSING:
        return None
    if not is_int(value):
        c.add(at(path, key), f"must be a whole number, not {json_type(value)}")
        return None
    if not lo <= value <= hi:
        bound = f"at least {lo}" if hi == INT32_MAX else f"between {lo} and {hi}"
        c.add(at(path, key), f"must be {bound}, not {value}")
        return None
    return int(value)


def number(
    c: Checks, obj: dict[str, Any], path: str, key: str, *, required: bool = False
) -> float | None:
    """A number field (integer or decimal); range checks are the caller's."""
    value = present(c, obj, path, key, required)
    if value is MISSING:
        return None
    if not is_number(value):
        c.add(at(path, key), f"must be a number, not {json_type(value)}")
        return None
    return float(value)


def boolean(c: Checks, obj: dict[str, Any], path: str, key: str, *, required: bool = False) -> None:
    value = present(c, obj, path, key, required)
    if value is not MISSING and not isinstance(value, bool):
        c.add(at(path, key), f"must be true or false, not {json_type(value)}")


def enum(
    c: Checks,
    obj: dict[str, Any],
    path: str,
    key: str,
    allowed: tuple[str, ...],
    *,
    required: bool = False,
) -> None:
    value = present(c, obj, path, key, required)
    if value is MISSING or value in allowed:
        return
    if not isinstance(value, str):
        c.add(at(path, key), f"must be one of {', '.join(allowed)}, not {json_type(value)}")
        return
    hint = f": write {value.upper()}" if value.upper() in allowed else ""
    c.add(at(path, key), f"{value!r} is not one of {', '.join(allowed)}{hint}")


def formatted(
    c: Checks,
    obj: dict[str, Any],
    path: str,
    key: str,
    check: Callable[[object], str | None],
    *,
    required: bool = False,
) -> None:
    """A string whose literal format ``check`` constrains (``${…}`` values pass)."""
    value = present(c, obj, path, key, required)
    if value is MISSING:
        return
    if not isinstance(value, str):
        c.add(at(path, key), f"must be a string, not {json_type(value)}")
        return
    problem = check(value)
    if problem:
        c.add(at(path, key), problem)


def string_map(c: Checks, obj: dict[str, Any], path: str, key: str) -> None:
    """An optional object of string → string (headers, mappedValues)."""
    value = present(c, obj, path, key, False)
    if value is MISSING:
        return
    where = at(path, key)
    if not isinstance(value, dict):
        c.add(where, f"must be an object of strings, not {json_type(value)}")
        return
    for name, item in value.items():
        if not isinstance(item, str):
            c.add(at(where, name), f"must be a string, not {json_type(item)}")


def sub_object(
    c: Checks,
    obj: dict[str, Any],
    path: str,
    key: str,
    allowed: frozenset[str],
    what: str,
    *,
    required: bool = False,
) -> dict[str, Any] | None:
    """An object field; keys not in ``allowed`` are warned about. ``None`` when absent or wrong."""
    value = present(c, obj, path, key, required)
    if value is MISSING:
        return None
    if not isinstance(value, dict):
        c.add(at(path, key), f"must be an object, not {json_type(value)}")
        return None
    if not allowed.issuperset(value):
        unknown_keys(c, value, at(path, key), allowed, what)
    return value


def action_list(
    c: Checks, obj: dict[str, Any], key: str, array_path: str, *, required: bool
) -> list[Any] | None:
    """A field holding an action array; its items are checked when the walker reaches them."""
    value = obj.get(key, MISSING)
    if value is MISSING or value is None:
        if required:
            c.add(array_path, "is required" if value is MISSING else "must not be null")
        return None
    if not isinstance(value, list):
        c.add(array_path, f"must be an array of actions, not {json_type(value)}")
        return None
    return value


def unknown_keys(
    c: Checks, obj: dict[str, Any], path: str, allowed: frozenset[str], what: str
) -> None:
    """Warn about every key of ``obj`` not in ``allowed``: it is sent back as it is."""
    for key in obj:
        if key not in allowed:
            c.warn(at(path, key), unknown_key_message(key, allowed, what))


def unknown_key_message(key: str, allowed: frozenset[str], what: str) -> str:
    listed = ", ".join(sorted(allowed))
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f": did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r} in {what}{hint} (allowed: {listed})"
