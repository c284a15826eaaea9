"""Checks of literal values the API constrains: sender ids, E.164 numbers, URLs.

Each check returns ``None`` when the value is acceptable, otherwise a short message that names
the fix. Values built from variables (``${…}``) cannot be checked offline: sender ids and numbers
with one pass; a URL is checked on its literal parts (:func:`check_url`).
Shared by the validator, the rules (new values) and the sheet reader (parameter cells).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from transforms.model import VARIABLE_REF, has_variable

_NUMERIC_SENDER: Final = re.compile(r"^\+?[0-9]{3,14}$")
_ALNUM_SENDER: Final = re.compile(r"^[A-Za-z0-9 ._&-]{3,11}$")
_E164: Final = re.compile(r"^\+?[1-9][0-9]{5,14}$")


def check_sender_id(value: object) -> str | None:
    """Sender id: numeric 3–14 digits or alphanumeric 3–11 characters (reference §6.5)."""
    if not isinstance(value, str):
        return "must be a string"
    if has_variable(value):
        return None
    if _NUMERIC_SENDER.match(value):
        return None
    if value.isdigit() or (value.startswith("+") and value[1:].isdigit()):
        return f"numeric sender id {value!r} must have 3 to 14 digits"
    if _ALNUM_SENDER.match(value) and any(c.isalpha() for c in value):
        return None
    return (
        f"sender id {value!r} must be 3 to 11 letters and digits (alphanumeric) "
        "or 3 to 14 digits (numeric)"
    )


def check_e164(value: object) -> str | None:
    """E.164 number: up to 15 digits, no leading zero, optional ``+``, no spaces."""
    if not isinstance(value, str):
        return "must be a string"
    if has_variable(value):
        return None
    if _E164.match(value):
        return None
    return (
        f"{value!r} is not an E.164 number: write digits only with country code, e.g. 41793026727"
    )


def check_url(value: object) -> str | None:
    """Absolute http(s) URL with a literal host, or one variable standing for the whole URL.

    Variables may fill the path, query and fragment (``https://api.example.com/${id}?l=${lang}``);
    the scheme and host must be written out, since a value like ``https://${host}/x`` or
    ``${base}/x`` cannot be checked offline, unless the whole value is one ``${url}``. The literal
    parts must hold no spaces.
    """
    if not isinstance(value, str):
        return "must be a string"
    if VARIABLE_REF.fullmatch(value):
        return None  # the whole URL comes from one variable
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        if value.startswith("${"):
            return (
                f"{value!r} starts with a variable: write the scheme and host literally "
                "(https://host/…), or the whole URL as one variable such as ${url}"
            )
        return f"{value!r} is not an http(s) URL: start it with https://"
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if has_variable(authority):
        return (
            f"{value!r} builds its host from a variable: write the host literally, or the whole "
            "URL as one variable such as ${url}"
        )
    literal = VARIABLE_REF.sub("", value)
    try:
        parts = urlsplit(literal)
    except ValueError as exc:
        return f"{value!r} is not a URL: {exc}"
    if not parts.hostname or any(c.isspace() for c in literal):
        return f"{value!r} is not a valid URL: it needs a host and no spaces"
    return None
