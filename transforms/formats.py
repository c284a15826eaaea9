"""Checks of literal values the API constrains: sender ids, E.164 numbers, URLs.

Each check returns ``None`` when the value is acceptable, otherwise a short message that names
the fix. Values built from variables (``${…}``) cannot be checked offline and always pass.
Shared by the validator, the rules (new values) and the sheet reader (parameter cells).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from transforms.model import has_variable

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
    """Absolute http(s) URL with a host."""
    if not isinstance(value, str):
        return "must be a string"
    if has_variable(value) and not value.startswith(("http://", "https://")):
        # The whole URL, or its scheme, comes from a variable.
        return None
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        return f"{value!r} is not a URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"{value!r} is not an http(s) URL: start it with https://"
    if not parts.netloc or any(c.isspace() for c in value):
        return f"{value!r} is not a valid URL: it needs a host and no spaces"
    return None
