"""The IVR script model: recognise actions by their wire keys and walk nested scripts.

Pure code: no I/O and no third-party imports. Follows ivr-api-reference.md §6.

Path notation (used everywhere: validation errors, change lists, reports):

* a top-level action is ``script[2]``;
* an action nested in another is the parent's path, the parent's identifying key, the nesting
  field and the index: ``script[2].if.then[0]``, ``script[2].if.else[1]``,
  ``script[3].switch.case["1"][0]``, ``script[3].switch.case["__default"][2]``,
  ``script[0].for-each.do[0]``, ``script[0].while.do[0]``, ``script[0].repeat[1]``,
  ``script[5].answeringMachineDetection.onTimeout[0]``;
* a field of an action is the action path plus the field's JSON keys: ``script[2].sendSms.from``,
  ``script[4].options.voice.name``, ``script[1].say``; list items use ``[i]``
  (``script[6].dialToMany[1].number``) and keys that are not plain identifiers are quoted as
  ``["key"]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

Action = dict[str, Any] | str
Script = list[Any]

# Kind names. Object kinds that own a unique key are named after it; the shared-key families and
# the two string actions get names of their own.
CALL_API: Final = "request"
CAPTURE: Final = "capture"
COLLECT: Final = "collectInto"
DIAL: Final = "dial"
DIAL_TO_MANY: Final = "dialToMany"
DIAL_TO_WEBRTC: Final = "dialToWebRTC"
DIAL_TO_CONVERSATIONS: Final = "dialToConversations"
FOR_EACH: Final = "for-each"
GO_TO: Final = "goTo"
HANGUP: Final = "hangup"
IF_THEN_ELSE: Final = "if"
MACHINE_DETECTION: Final = "machineDetection"
PAUSE: Final = "pause"
PLAY: Final = "playFromUrl"
PLAY_FROM_RECORDING: Final = "playFromRecording"
RECORD: Final = "record"
REPEAT_UNTIL: Final = "repeatUntil"
REPEAT_WHILE: Final = "repeatWhile"
SAY: Final = "say"
SEND_SMS: Final = "sendSms"
SET_VARIABLE: Final = "setVariable"
SWITCH: Final = "switch"
WHILE_DO: Final = "whileDo"
ANSWERING_MACHINE_DETECTION: Final = "answeringMachineDetection"
PLAY_FROM_UPLOAD: Final = "playFromUpload"
PLAY_TTY: Final = "playTty"
UNKNOWN: Final = "unknown"

#: Kinds of the classic 23-action model, in the order of the reference's catalogue.
CLASSIC_KINDS: Final = (
    CALL_API,
    CAPTURE,
    COLLECT,
    DIAL,
    DIAL_TO_MANY,
    DIAL_TO_WEBRTC,
    DIAL_TO_CONVERSATIONS,
    FOR_EACH,
    GO_TO,
    HANGUP,
    IF_THEN_ELSE,
    MACHINE_DETECTION,
    PAUSE,
    PLAY,
    PLAY_FROM_RECORDING,
    RECORD,
    REPEAT_UNTIL,
    REPEAT_WHILE,
    SAY,
    SEND_SMS,
    SET_VARIABLE,
    SWITCH,
    WHILE_DO,
)
#: Kinds added by the 2026 spec.
KINDS_2026: Final = (ANSWERING_MACHINE_DETECTION, PLAY_FROM_UPLOAD, PLAY_TTY)
ALL_KINDS: Final = CLASSIC_KINDS + KINDS_2026

STRING_ACTIONS: Final = frozenset({HANGUP, MACHINE_DETECTION})

# Keys that identify exactly one object kind. Checked in this order; the shared-key families
# (repeat/while/do) are resolved after them.
_UNIQUE_KEYS: Final = (
    ANSWERING_MACHINE_DETECTION,
    CALL_API,
    CAPTURE,
    COLLECT,
    DIAL_TO_MANY,
    DIAL_TO_WEBRTC,
    DIAL_TO_CONVERSATIONS,
    DIAL,
    FOR_EACH,
    GO_TO,
    IF_THEN_ELSE,
    PAUSE,
    PLAY,
    PLAY_FROM_RECORDING,
    PLAY_FROM_UPLOAD,
    PLAY_TTY,
    RECORD,
    SEND_SMS,
    SET_VARIABLE,
    SWITCH,
    SAY,
)

_KEY_RANK: Final = {key: rank for rank, key in enumerate(_UNIQUE_KEYS)}

#: The JSON key that names each kind in a path (``script[0].while.do[0]``).
PATH_KEY: Final = {kind: kind for kind in _UNIQUE_KEYS} | {
    REPEAT_UNTIL: "repeat",
    REPEAT_WHILE: "repeat",
    WHILE_DO: "while",
}

#: SDK class names and misspellings seen in the wild, mapped to the wire key to use instead.
MISSPELLED_KEYS: Final = {
    "forEach": "for-each",
    "for_each": "for-each",
    "foreach": "for-each",
    "callAPI": "request",
    "callApi": "request",
    "collect": "collectInto",
    "play": "playFromUrl",
    "ifThenElse": "if",
    "switchCase": "switch",
    "repeatWhile": "repeat + while",
    "whileDo": "while + do",
    "repeatUntil": "repeat + until",
    "sendSMS": "sendSms",
    "hangup": '"hangup" (a bare string)',
    "machineDetection": '"machineDetection" (a bare string)',
}


def action_kind(action: Any) -> str:
    """Return the kind of one script element, or ``UNKNOWN``."""
    if isinstance(action, str):
        return action if action in STRING_ACTIONS else UNKNOWN
    if not isinstance(action, dict):
        return UNKNOWN
    # Look at the action's own few keys rather than at all 21; the rank keeps the order above
    # deciding when an (invalid) action carries two identifying keys.
    found, best = None, len(_UNIQUE_KEYS)
    for key in action:
        rank = _KEY_RANK.get(key, best)
        if rank < best:
            found, best = key, rank
    if found is not None:
        return found
    if "repeat" in action:
        return REPEAT_UNTIL if "until" in action else REPEAT_WHILE
    if "while" in action and "do" in action:
        return WHILE_DO
    return UNKNOWN


def nested_fields(kind: str) -> tuple[str, ...]:
    """Names of the fields of an action of ``kind`` that hold action arrays."""
    return _NESTED.get(kind, ())


_NESTED: Final[dict[str, tuple[str, ...]]] = {
    IF_THEN_ELSE: ("then", "else"),
    SWITCH: ("case",),
    FOR_EACH: ("do",),
    WHILE_DO: ("do",),
    REPEAT_WHILE: ("repeat",),
    REPEAT_UNTIL: ("repeat",),
    ANSWERING_MACHINE_DETECTION: (
        "onDetecting",
        "onMachineDetected",
        "onTimeout",
        "onHumanDetected",
    ),
}


def children(action: Any, path: str) -> Iterator[tuple[str, list[Any]]]:
    """Yield ``(array_path, array)`` for every nested action array of one action.

    Arrays that are missing or not lists are skipped (the validator reports them).
    """
    return _children(action, path, action_kind(action))


def _children(action: Any, path: str, kind: str) -> Iterator[tuple[str, list[Any]]]:
    if kind not in _NESTED or not isinstance(action, dict):
        return
    if kind in (REPEAT_WHILE, REPEAT_UNTIL):
        if isinstance(action.get("repeat"), list):
            yield f"{path}.repeat", action["repeat"]
        return
    prefix = f"{path}.{PATH_KEY[kind]}"
    if kind == SWITCH:
        cases = action.get("case")
        if isinstance(cases, dict):
            for value, branch in cases.items():
                if isinstance(branch, list):
                    yield f"{prefix}.case[{json.dumps(value, ensure_ascii=False)}]", branch
        return
    for field in _NESTED[kind]:
        branch = action.get(field)
        if isinstance(branch, list):
            yield f"{prefix}.{field}", branch


@dataclass(frozen=True, slots=True)
class Located:
    """One action found by :func:`walk`: where it is, what it is, and the array that holds it.

    ``container[index] is action``, so a caller working on its own copy of a script can replace
    the element in place (string actions cannot be mutated otherwise).
    """

    path: str
    kind: str
    action: Any
    container: list[Any]
    index: int
    depth: int


def walk(script: Any, base: str = "script") -> Iterator[Located]:
    """Yield every action of ``script`` depth-first, in execution order, parents before children."""
    if not isinstance(script, list):
        return
    # An explicit stack keeps deep nesting from hitting the recursion limit. Arrays are pushed in
    # reverse so that they come off in document order.
    pending: list[tuple[str, list[Any], int, int]] = [(base, script, 0, 0)]
    while pending:
        array_path, array, depth, start = pending.pop()
        for index in range(start, len(array)):
            action = array[index]
            path = f"{array_path}[{index}]"
            kind = action_kind(action)
            yield Located(path, kind, action, array, index, depth)
            nested = list(_children(action, path, kind)) if kind in _NESTED else None
            if nested:
                pending.append((array_path, array, depth, index + 1))
                for child_path, child in reversed(nested):
                    pending.append((child_path, child, depth + 1, 0))
                break


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def field_path(action_path: str, *keys: str | int) -> str:
    """Path of a field inside an action: ``field_path("script[2]", "sendSms", "from")``."""
    out = [action_path]
    for key in keys:
        if isinstance(key, int):
            out.append(f"[{key}]")
        elif _IDENTIFIER.match(key):
            out.append(f".{key}")
        else:
            out.append(f"[{json.dumps(key, ensure_ascii=False)}]")
    return "".join(out)


def count_kinds(script: Any) -> dict[str, int]:
    """Number of actions of each kind in a script, nested ones included."""
    counts: dict[str, int] = {}
    for found in walk(script):
        counts[found.kind] = counts.get(found.kind, 0) + 1
    return counts


# Variable references: ``${name}``, ``${name == 'x'}``, ``${i + 1}``. Identifiers inside the
# braces that are not inside a quoted string literal are variable reads.
VARIABLE_REF: Final = re.compile(r"\$\{([^{}]*)\}")


def has_variable(value: str) -> bool:
    """True when a string value is built from variables, so its literal format is not checked."""
    return "${" in value
