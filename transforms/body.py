"""A scenario body as the API stores it: what a PUT writes back, and when two bodies are equal.

The PUT of ``/voice/ivr/1/scenarios/{id}`` replaces the whole scenario, so the body we write is
the scenario as read, minus the fields only the server sets (:data:`READ_ONLY_FIELDS`), with the
rules' edits applied: every key the tool does not model (a field Infobip adds next year, an
attribute inside an action) goes back unchanged instead of being dropped.

Two bodies are the same scenario when their :func:`fingerprint` is equal: the sha256 of the
canonical JSON (sorted keys, no spaces) of their writable part, where a top-level ``null``
counts as absent. Key order and the read-only fields never make two equal scenarios differ.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

#: Fields only the server sets: never sent in a create or update body.
READ_ONLY_FIELDS: Final = ("id", "createTime", "updateTime", "lastUsageDate")

_READ_ONLY: Final = frozenset(READ_ONLY_FIELDS)


def compact_json(value: Any) -> str:
    """JSON text that keeps key order: what we store and what the server gets."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """JSON text independent of key order, for comparisons."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def writable(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body a PUT sends: every key but the read-only ones, in the scenario's own order."""
    return {key: value for key, value in body.items() if key not in _READ_ONLY}


def same_scenario(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two bodies are the same scenario, as :func:`fingerprint` decides, without
    serialising either (dict equality ignores key order, as the canonical JSON does)."""
    return _kept(a) == _kept(b)


def _kept(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _READ_ONLY and v is not None}


def fingerprint(body: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of the writable fields (a top-level ``null`` is absent)."""
    return hashlib.sha256(canonical_json(_kept(body)).encode("utf-8")).hexdigest()
