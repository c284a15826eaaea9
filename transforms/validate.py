"""Validate a scenario body against the IVR script model (ivr-api-reference.md §4.6, §6, §7).

:func:`validate_scenario` returns every problem, each addressed by a path in the notation of
:mod:`transforms.model` (``script[2].if.then[0].sendSms.from``), never only the first;
:func:`scenario_warnings` every key the tool does not know (a warning, never an error: the PUT
sends it back unchanged); :func:`check_scenario` both in one pass.

Where the classic and the 2026 schema generations disagree the validator accepts the union, since
one account holds scenarios written against both: ``sendSms.from`` and Call API ``options.body``
optional, ``body`` a string or a JSON object, ``gotoLimit`` as well as ``goToLimit``, Dial To Many
``numbers`` and ``ringTimeout``, ``"hangup"`` in any nested array, ``__default`` optional,
``maxInputLength`` 0–255, Dial To WebRTC and Repeat Until still accepted.

Literal formats are checked with :mod:`transforms.formats`; values built from variables (``${…}``)
pass. A literal that is neither a number nor a variable, such as ``"dial": "dial"`` in an SDK mock,
is refused: a real call cannot be placed to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from transforms import model
from transforms.body import READ_ONLY_FIELDS
from transforms.formats import check_url
from transforms.validate_actions import IDENTIFYING_KEYS, check_action
from transforms.validate_fields import (
    Checks,
    at,
    boolean,
    enum,
    formatted,
    json_type,
    string,
    unknown_keys,
)

__all__ = [
    "READ_ONLY_FIELDS",
    "REQUEST_FIELDS",
    "Validation",
    "ValidationError",
    "ValidationWarning",
    "check_scenario",
    "errors_by_path",
    "scenario_warnings",
    "validate_scenario",
]

#: Fields a create/update body may carry.
REQUEST_FIELDS: Final = (
    "name",
    "description",
    "script",
    "notifyUrl",
    "notifyContentType",
    "record",
)
NOTIFY_CONTENT_TYPES: Final = ("application/json", "application/xml")
#: Path of a problem with the body as a whole (not an object).
BODY_PATH: Final = "body"

_SCENARIO_KEYS: Final = frozenset(REQUEST_FIELDS + READ_ONLY_FIELDS)


@dataclass(frozen=True, slots=True)
class _Finding:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationError(_Finding):
    """One problem: where it is and what to do about it."""


@dataclass(frozen=True, slots=True)
class ValidationWarning(_Finding):
    """A key the tool does not know, beside known ones: sent back unchanged, worth a look."""


@dataclass(frozen=True, slots=True)
class Validation:
    """What :func:`check_scenario` found: errors make the body invalid, warnings do not."""

    errors: list[ValidationError]
    warnings: list[ValidationWarning]


def check_scenario(body: object, *, request: bool = True) -> Validation:
    """Every problem and every warning of a scenario body, in one pass.

    ``request=True`` checks a create/update body (``name`` and ``script`` required; read-only
    fields ignored). ``request=False`` checks a response object (``id``, ``createTime`` expected;
    ``script`` optional). Unknown keys at the top level, in an action beside its recognised key,
    or in a known sub-object are warnings: the PUT is a full replace and sends them back as read.
    An object with no recognisable action key, or with two, is an error.
    """
    c = Checks()
    if not isinstance(body, dict):
        c.add(BODY_PATH, f"a scenario must be a JSON object, not {json_type(body)}")
    else:
        _check_fields(c, body, request)
        script = body.get("script")
        if isinstance(script, list):
            _check_script(c, script)
    return Validation(
        [ValidationError(path, message) for path, message in c.problems],
        [ValidationWarning(path, message) for path, message in c.warnings],
    )


def validate_scenario(body: object, *, request: bool = True) -> list[ValidationError]:
    """Every problem of a scenario body; ``[]`` when it is valid (see :func:`check_scenario`)."""
    return check_scenario(body, request=request).errors


def scenario_warnings(body: object, *, request: bool = True) -> list[ValidationWarning]:
    """Every unknown key of a scenario body, with a "did you mean" hint where one is close."""
    return check_scenario(body, request=request).warnings


def errors_by_path(errors: Iterable[ValidationError]) -> dict[str, list[str]]:
    """Messages grouped by path, in order: the shape of Infobip's ``validationErrors``."""
    grouped: dict[str, list[str]] = {}
    for error in errors:
        grouped.setdefault(error.path, []).append(error.message)
    return grouped


def _check_fields(c: Checks, body: dict[str, Any], request: bool) -> None:
    if not _SCENARIO_KEYS.issuperset(body):
        unknown_keys(c, body, "", _SCENARIO_KEYS, "a scenario")
    string(c, body, "", "name")
    string(c, body, "", "description", required=False, blank=True)
    _check_script_field(c, body, required=request)
    formatted(c, body, "", "notifyUrl", check_url)
    enum(c, body, "", "notifyContentType", NOTIFY_CONTENT_TYPES)
    boolean(c, body, "", "record")
    if not request:
        string(c, body, "", "id")
        string(c, body, "", "createTime")
        string(c, body, "", "updateTime", required=False)
        string(c, body, "", "lastUsageDate", required=False)


def _check_script_field(c: Checks, body: dict[str, Any], *, required: bool) -> None:
    script = body.get("script")
    if script is None:
        if required:
            c.add("script", "is required" if "script" not in body else "must not be null")
    elif isinstance(script, str):
        c.add(
            "script",
            "script must be an array of actions, not a JSON-encoded string: "
            "send the parsed array (script: [...]) instead of its text",
        )
    elif not isinstance(script, list):
        c.add("script", f"must be an array of actions, not {json_type(script)}")


def _check_script(c: Checks, script: list[Any]) -> None:
    for found in model.walk(script):
        if found.kind == model.UNKNOWN:
            _explain_non_action(c, found.action, found.path)
        elif found.kind not in model.STRING_ACTIONS:
            check_action(c, found.kind, found.action, found.path)
    for target, path in c.gotos:
        if target not in c.action_ids:
            known = ", ".join(str(i) for i in sorted(c.action_ids)) or "none"
            c.add(
                path,
                f"points to actionId {target}, which no action in this scenario has "
                f"(actionIds present: {known})",
            )


#: Lower-cased action keys, to tell ``SendSms`` from an unknown key.
_ACTION_KEYS_BY_LOWER: Final = {
    key.lower(): key for key in (*IDENTIFYING_KEYS, "repeat", "while", "do", "until")
}
_ACTION_KEYS_TEXT: Final = ", ".join(sorted(IDENTIFYING_KEYS)) + ", repeat + while, while + do"
#: A loop or branch key found without the key that makes it an action.
_COMPANIONS: Final = {
    "while": "'while' needs 'do' (While Do) or 'repeat' (Repeat While)",
    "do": "'do' needs 'while' (While Do) or 'for-each' (For Each)",
    "until": "'until' needs 'repeat' (Repeat Until)",
    "case": "'case' needs 'switch' with the variable name",
    "then": "'then' needs 'if' with the condition",
    "else": "'else' needs 'if' with the condition",
    "in": "'in' needs 'for-each' with the loop variable name",
}


def _explain_non_action(c: Checks, element: object, path: str) -> None:
    """Explain a script element that is not an action, naming the fix where there is one."""
    if isinstance(element, str):
        c.add(path, _unknown_string_message(element))
    elif isinstance(element, dict):
        c.add(*_unknown_object_problem(element, path))
    else:
        c.add(
            path,
            'must be an action object or the string "hangup" or "machineDetection", '
            f"not {json_type(element)}",
        )


def _unknown_string_message(element: str) -> str:
    for known in model.STRING_ACTIONS:
        if element.strip().lower() == known.lower():
            return f"unknown string action {element!r}: write {known!r}"
    if element in IDENTIFYING_KEYS:
        return f"{element!r} is not a string action: write an object {{{element!r}: …}}"
    return (
        f'unknown string action {element!r}: the only string actions are "hangup" and '
        '"machineDetection"; every other action is an object'
    )


def _unknown_object_problem(element: dict[str, Any], path: str) -> tuple[str, str]:
    for key in element:
        fix = model.MISSPELLED_KEYS.get(key)
        if fix is not None:
            shown = fix if " " in fix else repr(fix)
            return at(path, key), f"{key!r} is not an action key: use {shown}"
    for key in element:
        correct = _ACTION_KEYS_BY_LOWER.get(key.lower()) if isinstance(key, str) else None
        if correct is not None and correct != key:
            return at(path, key), f"action keys are case-sensitive: write {correct!r}"
    for key in element:
        if key in _COMPANIONS:
            return path, _COMPANIONS[key]
    found = ", ".join(element) if element else "nothing"
    return (
        path,
        f"no action key: an action object needs one of {_ACTION_KEYS_TEXT} (found: {found})",
    )
