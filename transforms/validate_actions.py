"""The validator's per-action checks: one checker per action kind, and the field helpers they share.

Used by :mod:`transforms.validate`; pure, no I/O. Every check appends ``(path, message)`` to a
:class:`Checks` collector and carries on, so a scenario's problems are all reported at once.

Paths follow :mod:`transforms.model`: scalar fields are the action path plus JSON keys
(``script[2].sendSms.from``); fields that hold action arrays use the nesting notation the walker
gives their children (``script[2].if.then``, ``script[3].switch.case["1"]``), so an error about an
array and the errors about the actions inside it share a prefix.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from typing import Any, Final

from transforms import model
from transforms.formats import check_e164, check_sender_id, check_url
from transforms.model import field_path, has_variable

INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
SAY_MAX_CHARS: Final = 1400
MAX_INPUT_LENGTH: Final = 255  # classic limit; the 2026 spec lowers it to 64 and forbids 0
HTTP_METHODS: Final = ("GET", "POST", "PUT", "DELETE", "PATCH")
SEND_TO_REPORTS: Final = ("ALWAYS", "MASKED", "NEVER")
GENDERS: Final = ("FEMALE", "MALE")
DTMF_CHARS: Final = frozenset("0123456789*#ABCD")

_MISSING: Final[Any] = object()


class Checks:
    """Problems found so far in one scenario, and the actionIds/goTo targets seen on the way."""

    __slots__ = ("action_ids", "gotos", "problems")

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.action_ids: dict[int, str] = {}
        self.gotos: list[tuple[int, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))


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


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- field helpers -----------------------------------------------------------------------------


def present(c: Checks, obj: dict[str, Any], path: str, key: str, required: bool) -> Any:
    """``obj[key]``, or ``_MISSING`` when absent or null (reported if the field is required)."""
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            c.add(at(path, key), "is required" if value is _MISSING else "must not be null")
        return _MISSING
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
    if value is _MISSING:
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
    if value is _MISSING:
        return None
    if not _is_int(value):
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
    if value is _MISSING:
        return None
    if not _is_number(value):
        c.add(at(path, key), f"must be a number, not {json_type(value)}")
        return None
    return float(value)


def boolean(c: Checks, obj: dict[str, Any], path: str, key: str, *, required: bool = False) -> None:
    value = present(c, obj, path, key, required)
    if value is not _MISSING and not isinstance(value, bool):
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
    if value is _MISSING or value in allowed:
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
    if value is _MISSING:
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
    if value is _MISSING:
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
    """An object field whose own keys must be in ``allowed``; ``None`` when absent or wrong."""
    value = present(c, obj, path, key, required)
    if value is _MISSING:
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
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            c.add(array_path, "is required" if value is _MISSING else "must not be null")
        return None
    if not isinstance(value, list):
        c.add(array_path, f"must be an array of actions, not {json_type(value)}")
        return None
    return value


def unknown_keys(
    c: Checks, obj: dict[str, Any], path: str, allowed: frozenset[str], what: str
) -> None:
    for key in obj:
        if key not in allowed:
            c.add(at(path, key), _unknown_key_message(key, allowed, what))


def _unknown_key_message(key: str, allowed: frozenset[str], what: str) -> str:
    listed = ", ".join(sorted(allowed))
    if key in _IDENTIFYING_KEYS:
        return (
            f"{what} cannot also hold {key!r}: put each action in an object of its own "
            f"(allowed keys: {listed})"
        )
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f": did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r} in {what}{hint} (allowed: {listed})"


# --- one checker per action kind ---------------------------------------------------------------

Checker = Callable[[Checks, dict[str, Any], str], None]

_LOOP_OPTIONS: Final = frozenset({"loopCount"})
_AUDIO_KEYS: Final = frozenset({"type", "fileUrl", "fileId"})


def _loop_options(c: Checks, a: dict[str, Any], path: str, what: str) -> None:
    opts = sub_object(c, a, path, "options", _LOOP_OPTIONS, what)
    if opts is not None:
        integer(c, opts, at(path, "options"), "loopCount", lo=1, hi=10)


def _call_api(c: Checks, a: dict[str, Any], path: str) -> None:
    formatted(c, a, path, "request", check_url, required=True)
    opts = sub_object(
        c,
        a,
        path,
        "options",
        frozenset({"method", "headers", "body", "collectResponse"}),
        "Call API options",
        required=True,
    )
    if opts is None:
        return
    where = at(path, "options")
    enum(c, opts, where, "method", HTTP_METHODS, required=True)
    string_map(c, opts, where, "headers")
    # Every schema types body as a string; every official JSON example sends an object.
    body = opts.get("body")
    if body is not None and not isinstance(body, str | dict):
        c.add(at(where, "body"), f"must be a string or a JSON object, not {json_type(body)}")
    boolean(c, opts, where, "collectResponse")


def _capture(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "capture")
    timeout = integer(c, a, path, "timeout", required=True, lo=1, hi=30)
    speech = sub_object(
        c,
        a,
        path,
        "speechOptions",
        frozenset({"language", "keyPhrases", "maxSilence"}),
        "speechOptions",
        required=True,
    )
    if speech is not None:
        where = at(path, "speechOptions")
        string(c, speech, where, "language")
        _key_phrases(c, speech, where)
        silence = integer(c, speech, where, "maxSilence", lo=1, hi=5)
        if silence is not None and timeout is not None and silence >= timeout:
            c.add(
                at(where, "maxSilence"),
                f"must be lower than timeout ({timeout}), not {silence}: "
                "lower maxSilence or raise timeout",
            )
    dtmf = sub_object(
        c, a, path, "dtmfOptions", frozenset({"maxInputLength", "mappedValues"}), "dtmfOptions"
    )
    if dtmf is not None:
        where = at(path, "dtmfOptions")
        integer(c, dtmf, where, "maxInputLength", lo=0, hi=MAX_INPUT_LENGTH)
        string_map(c, dtmf, where, "mappedValues")
    enum(c, a, path, "sendToReports", SEND_TO_REPORTS)
    boolean(c, a, path, "beep")


def _key_phrases(c: Checks, speech: dict[str, Any], path: str) -> None:
    phrases = present(c, speech, path, "keyPhrases", False)
    if phrases is _MISSING:
        return
    where = at(path, "keyPhrases")
    if not isinstance(phrases, list):
        c.add(where, f"must be an array of strings, not {json_type(phrases)}")
        return
    for index, phrase in enumerate(phrases):
        if not isinstance(phrase, str):
            c.add(f"{where}[{index}]", f"must be a string, not {json_type(phrase)}")
        elif len(phrase.split()) > 5:
            c.add(f"{where}[{index}]", "a key phrase may have at most 5 words")


def _collect(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "collectInto")
    opts = sub_object(
        c,
        a,
        path,
        "options",
        frozenset({"maxInputLength", "timeout", "sendToReports", "mappedValues"}),
        "collectInto options",
    )
    if opts is None:
        return
    where = at(path, "options")
    integer(c, opts, where, "maxInputLength", lo=0, hi=MAX_INPUT_LENGTH)
    timeout = opts.get("timeout")
    if not (isinstance(timeout, str) and has_variable(timeout)):  # documented as variable-capable
        integer(c, opts, where, "timeout", lo=1, hi=30)
    enum(c, opts, where, "sendToReports", SEND_TO_REPORTS)
    string_map(c, opts, where, "mappedValues")


def _dial(c: Checks, a: dict[str, Any], path: str) -> None:
    formatted(c, a, path, "dial", check_e164, required=True)
    opts = sub_object(
        c,
        a,
        path,
        "options",
        frozenset({"senderId", "maxCallDuration", "customRingback"}),
        "dial options",
    )
    if opts is None:
        return
    where = at(path, "options")
    formatted(c, opts, where, "senderId", check_e164)
    integer(c, opts, where, "maxCallDuration", lo=1)
    ringback = sub_object(
        c,
        opts,
        where,
        "customRingback",
        frozenset({"ringingAudio", "failedAudio"}),
        "customRingback",
    )
    if ringback is not None:
        ring_path = at(where, "customRingback")
        _audio(c, ringback, ring_path, "ringingAudio", required=True)
        _audio(c, ringback, ring_path, "failedAudio", required=False)


def _audio(c: Checks, obj: dict[str, Any], path: str, key: str, *, required: bool) -> None:
    audio = sub_object(c, obj, path, key, _AUDIO_KEYS, "an audio content", required=required)
    if audio is None:
        return
    where = at(path, key)
    enum(c, audio, where, "type", ("FILE", "URL"), required=True)
    kind = audio.get("type")
    if kind == "URL":
        formatted(c, audio, where, "fileUrl", check_url, required=True)
        if "fileId" in audio:
            c.add(at(where, "fileId"), "is only used with type FILE: remove it or use type FILE")
    elif kind == "FILE":
        string(c, audio, where, "fileId")
        if "fileUrl" in audio:
            c.add(at(where, "fileUrl"), "is only used with type URL: remove it or use type URL")


_DIAL_TARGET_KEYS: Final = frozenset({"number", "numbers"})


def _dial_to_many(c: Checks, a: dict[str, Any], path: str) -> None:
    where = at(path, "dialToMany")
    targets = present(c, a, path, "dialToMany", True)
    if targets is _MISSING:
        pass
    elif not isinstance(targets, list):
        c.add(
            where, f'must be an array like [{{"number": "41793026727"}}], not {json_type(targets)}'
        )
    elif not targets:
        c.add(where, "must list at least one number")
    else:
        for index, target in enumerate(targets):
            _dial_target(c, target, f"{where}[{index}]")
    opts = sub_object(
        c,
        a,
        path,
        "options",
        frozenset({"parallel", "senderId", "maxCallDuration", "ringTimeout"}),
        "dialToMany options",
    )
    if opts is None:
        return
    where = at(path, "options")
    boolean(c, opts, where, "parallel")
    formatted(c, opts, where, "senderId", check_e164)
    integer(c, opts, where, "maxCallDuration", lo=1)
    integer(c, opts, where, "ringTimeout", lo=1)  # classic only


def _dial_target(c: Checks, target: object, path: str) -> None:
    if not isinstance(target, dict):
        c.add(path, f'must be an object like {{"number": "41793026727"}}, not {json_type(target)}')
        return
    if not _DIAL_TARGET_KEYS.issuperset(target):
        unknown_keys(c, target, path, _DIAL_TARGET_KEYS, "a dialToMany entry")
    if "number" in target or "numbers" not in target:
        formatted(c, target, path, "number", check_e164, required=True)
    numbers = target.get("numbers")
    if numbers is None:
        return
    if not isinstance(numbers, str):
        c.add(at(path, "numbers"), f"must be a comma-separated string, not {json_type(numbers)}")
        return
    for part in numbers.split(","):
        problem = check_e164(part.strip())
        if problem:
            c.add(at(path, "numbers"), problem)


def _dial_to_webrtc(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "dialToWebRTC")


def _dial_to_conversations(c: Checks, a: dict[str, Any], path: str) -> None:
    conversations = sub_object(
        c,
        a,
        path,
        "dialToConversations",
        frozenset({"options"}),
        "dialToConversations",
        required=True,
    )
    if conversations is None:
        return
    where = at(path, "dialToConversations")
    opts = sub_object(
        c,
        conversations,
        where,
        "options",
        frozenset({"tags", "tagIdentifierType"}),
        "dialToConversations options",
        required=True,
    )
    if opts is None:
        return
    where = at(where, "options")
    # tags is required but may be null or empty (routes to any agent).
    if "tags" not in opts:
        c.add(at(where, "tags"), "is required (an array of tag names or ids; may be empty)")
    else:
        tags = opts["tags"]
        if tags is not None and not (
            isinstance(tags, list) and all(isinstance(t, str) for t in tags)
        ):
            c.add(at(where, "tags"), f"must be an array of strings, not {json_type(tags)}")
    enum(c, opts, where, "tagIdentifierType", ("ID", "NAME"))


def _for_each(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "for-each")
    string(c, a, path, "in")
    delimiter = string(c, a, path, "delimiter", required=False, blank=True)
    if delimiter == "":
        c.add(at(path, "delimiter"), "must not be empty: omit it to split on commas")
    action_list(c, a, "do", f"{path}.for-each.do", required=True)


_GO_TO_LIMITS: Final = ("goToLimit", "gotoLimit")  # schemas say goToLimit; examples gotoLimit


def _go_to(c: Checks, a: dict[str, Any], path: str) -> None:
    target = integer(c, a, path, "goTo", required=True)
    if target is not None:
        c.gotos.append((target, at(path, "goTo")))
    opts = sub_object(
        c,
        a,
        path,
        "options",
        frozenset({*_GO_TO_LIMITS, "countVariable"}),
        "goTo options",
    )
    if opts is None:
        return
    where = at(path, "options")
    for key in _GO_TO_LIMITS:
        integer(c, opts, where, key, lo=1, hi=100)
    if all(key in opts for key in _GO_TO_LIMITS):
        c.add(at(where, "gotoLimit"), "the limit is given twice: keep only goToLimit")
    string(c, opts, where, "countVariable", required=False)


def _if(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "if")
    then = action_list(c, a, "then", f"{path}.if.then", required=False)
    otherwise = action_list(c, a, "else", f"{path}.if.else", required=False)
    wrong_type = any(a.get(k) is not None and not isinstance(a[k], list) for k in ("then", "else"))
    if not then and not otherwise and not wrong_type:
        c.add(path, "an if needs at least one action in then or else")


def _pause(c: Checks, a: dict[str, Any], path: str) -> None:
    seconds = number(c, a, path, "pause", required=True)
    if seconds is not None and not 0 < seconds <= 5:
        c.add(at(path, "pause"), f"must be more than 0 and at most 5 seconds, not {seconds:g}")


def _play(c: Checks, a: dict[str, Any], path: str) -> None:
    formatted(c, a, path, "playFromUrl", check_url, required=True)
    _loop_options(c, a, path, "playFromUrl options")


def _play_from_recording(c: Checks, a: dict[str, Any], path: str) -> None:
    # Classic: null = this call's last recording, a number = its index, text = an identifier.
    if "playFromRecording" not in a:
        c.add(at(path, "playFromRecording"), "is required")
        return
    value = a["playFromRecording"]
    if value is not None and not isinstance(value, str) and not _is_int(value):
        c.add(
            at(path, "playFromRecording"),
            f"must be a recording identifier (string), an index or null, not {json_type(value)}",
        )


def _record(c: Checks, a: dict[str, Any], path: str) -> None:
    if a.get("record") is not None:  # null records without a limit
        integer(c, a, path, "record", lo=0)
    opts = sub_object(
        c,
        a,
        path,
        "options",
        frozenset({"escapeDigits", "beep", "maxSilence", "identifier"}),
        "record options",
    )
    if opts is None:
        return
    where = at(path, "options")
    digits = string(c, opts, where, "escapeDigits", required=False)
    if digits is not None and not DTMF_CHARS.issuperset(digits):
        c.add(at(where, "escapeDigits"), f"{digits!r} may hold only the keys 0-9, *, # and A-D")
    boolean(c, opts, where, "beep")
    integer(c, opts, where, "maxSilence", lo=1)
    string(c, opts, where, "identifier", required=False)


def _repeat_until(c: Checks, a: dict[str, Any], path: str) -> None:
    action_list(c, a, "repeat", f"{path}.repeat", required=True)
    string(c, a, path, "until")


def _repeat_while(c: Checks, a: dict[str, Any], path: str) -> None:
    action_list(c, a, "repeat", f"{path}.repeat", required=True)
    if "while" not in a:
        c.add(at(path, "while"), "is required: repeat needs a while condition (or until)")
    else:
        string(c, a, path, "while")


def _say(c: Checks, a: dict[str, Any], path: str) -> None:
    text = string(c, a, path, "say")
    if text is not None and len(text) > SAY_MAX_CHARS:
        c.add(
            at(path, "say"),
            f"is {len(text)} characters long; Say allows at most {SAY_MAX_CHARS}: "
            "split it into several say actions",
        )
    opts = sub_object(
        c, a, path, "options", frozenset({"language", "voice", "speechRate"}), "say options"
    )
    if opts is None:
        return
    where = at(path, "options")
    string(c, opts, where, "language", required=False)
    voice = sub_object(c, opts, where, "voice", frozenset({"name", "gender"}), "say voice")
    if voice is not None:
        voice_path = at(where, "voice")
        string(c, voice, voice_path, "name", required=False)
        gender = string(c, voice, voice_path, "gender", required=False)
        # Docs write female, the 2026 spec FEMALE: accept either case.
        if gender is not None and not has_variable(gender) and gender.upper() not in GENDERS:
            c.add(at(voice_path, "gender"), f"{gender!r} is not one of FEMALE, MALE")
    rate = number(c, opts, where, "speechRate")
    if rate is not None and not 0.5 <= rate <= 2.0:
        c.add(at(where, "speechRate"), f"must be between 0.5 and 2.0, not {rate:g}")


def _send_sms(c: Checks, a: dict[str, Any], path: str) -> None:
    sms = sub_object(
        c, a, path, "sendSms", frozenset({"text", "to", "from"}), "sendSms", required=True
    )
    if sms is None:
        return
    where = at(path, "sendSms")
    string(c, sms, where, "text")
    formatted(c, sms, where, "to", check_e164, required=True)
    formatted(c, sms, where, "from", check_sender_id)  # required only in the 2026 spec


def _set_variable(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "setVariable")
    string(c, a, path, "value", blank=True)


def _switch(c: Checks, a: dict[str, Any], path: str) -> None:
    name = string(c, a, path, "switch")
    if name is not None and has_variable(name):
        inner = name.strip().removeprefix("${").removesuffix("}")
        c.add(at(path, "switch"), f"takes a variable name, not {name!r}: write {inner!r}")
    where = f"{path}.switch.case"
    cases = a.get("case", _MISSING)
    if cases is _MISSING or cases is None:
        c.add(where, "is required" if cases is _MISSING else "must not be null")
        return
    if not isinstance(cases, dict):
        c.add(where, f"must be an object of value → actions, not {json_type(cases)}")
        return
    for value, branch in cases.items():
        if not isinstance(branch, list):
            c.add(
                f"{where}[{json.dumps(value, ensure_ascii=False)}]",
                f"must be an array of actions, not {json_type(branch)}",
            )


def _while_do(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "while")
    action_list(c, a, "do", f"{path}.while.do", required=True)


_DETECTING_KINDS: Final = frozenset({model.PLAY, model.SAY, model.COLLECT})


def _answering_machine_detection(c: Checks, a: dict[str, Any], path: str) -> None:
    boolean(c, a, path, "answeringMachineDetection", required=True)
    opts = sub_object(
        c,
        a,
        path,
        "options",
        frozenset({"waitEndOfMessageDetection", "endOfMessageDetectionTimeout"}),
        "answeringMachineDetection options",
    )
    if opts is not None:
        where = at(path, "options")
        enum(c, opts, where, "waitEndOfMessageDetection", ("ALWAYS", "NEVER", "ON_DETECTING"))
        integer(c, opts, where, "endOfMessageDetectionTimeout", lo=1, hi=60)
    prefix = f"{path}.answeringMachineDetection"
    detecting = action_list(c, a, "onDetecting", f"{prefix}.onDetecting", required=False)
    if detecting:
        if len(detecting) > 2:
            c.add(f"{prefix}.onDetecting", f"may hold at most 2 actions, not {len(detecting)}")
        for index, action in enumerate(detecting):
            kind = model.action_kind(action)
            if kind != model.UNKNOWN and kind not in _DETECTING_KINDS:
                c.add(
                    f"{prefix}.onDetecting[{index}]",
                    f"only playFromUrl, say or collectInto may run while detecting, not {kind}",
                )
    action_list(c, a, "onMachineDetected", f"{prefix}.onMachineDetected", required=True)
    action_list(c, a, "onTimeout", f"{prefix}.onTimeout", required=False)
    action_list(c, a, "onHumanDetected", f"{prefix}.onHumanDetected", required=False)


def _play_from_upload(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "playFromUpload")
    _loop_options(c, a, path, "playFromUpload options")


def _play_tty(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "playTty")
    _loop_options(c, a, path, "playTty options")


#: kind → (its allowed keys without actionId, whether it takes an actionId, its checker, label)
_SPECS: Final[dict[str, tuple[frozenset[str], bool, Checker, str]]] = {
    model.CALL_API: (frozenset({"request", "options"}), True, _call_api, "request"),
    model.CAPTURE: (
        frozenset({"capture", "timeout", "speechOptions", "dtmfOptions", "sendToReports", "beep"}),
        True,
        _capture,
        "capture",
    ),
    model.COLLECT: (frozenset({"collectInto", "options"}), True, _collect, "collectInto"),
    model.DIAL: (frozenset({"dial", "options"}), True, _dial, "dial"),
    model.DIAL_TO_MANY: (frozenset({"dialToMany", "options"}), True, _dial_to_many, "dialToMany"),
    model.DIAL_TO_WEBRTC: (frozenset({"dialToWebRTC"}), False, _dial_to_webrtc, "dialToWebRTC"),
    model.DIAL_TO_CONVERSATIONS: (
        frozenset({"dialToConversations"}),
        False,
        _dial_to_conversations,
        "dialToConversations",
    ),
    model.FOR_EACH: (
        frozenset({"for-each", "in", "delimiter", "do"}),
        False,
        _for_each,
        "for-each",
    ),
    model.GO_TO: (frozenset({"goTo", "options"}), False, _go_to, "goTo"),
    model.IF_THEN_ELSE: (frozenset({"if", "then", "else"}), True, _if, "if"),
    model.PAUSE: (frozenset({"pause"}), True, _pause, "pause"),
    model.PLAY: (frozenset({"playFromUrl", "options"}), True, _play, "playFromUrl"),
    model.PLAY_FROM_RECORDING: (
        frozenset({"playFromRecording"}),
        True,
        _play_from_recording,
        "playFromRecording",
    ),
    model.RECORD: (frozenset({"record", "options"}), True, _record, "record"),
    model.REPEAT_UNTIL: (frozenset({"repeat", "until"}), False, _repeat_until, "repeat/until"),
    model.REPEAT_WHILE: (frozenset({"repeat", "while"}), False, _repeat_while, "repeat/while"),
    model.SAY: (frozenset({"say", "options"}), True, _say, "say"),
    model.SEND_SMS: (frozenset({"sendSms"}), True, _send_sms, "sendSms"),
    model.SET_VARIABLE: (frozenset({"setVariable", "value"}), False, _set_variable, "setVariable"),
    model.SWITCH: (frozenset({"switch", "case"}), True, _switch, "switch"),
    model.WHILE_DO: (frozenset({"while", "do"}), False, _while_do, "while/do"),
    model.ANSWERING_MACHINE_DETECTION: (
        frozenset(
            {
                "answeringMachineDetection",
                "options",
                "onDetecting",
                "onMachineDetected",
                "onTimeout",
                "onHumanDetected",
            }
        ),
        False,
        _answering_machine_detection,
        "answeringMachineDetection",
    ),
    model.PLAY_FROM_UPLOAD: (
        frozenset({"playFromUpload", "options"}),
        True,
        _play_from_upload,
        "playFromUpload",
    ),
    model.PLAY_TTY: (frozenset({"playTty", "options"}), True, _play_tty, "playTty"),
}

_ALLOWED: Final = {
    kind: keys | {"actionId"} if takes_id else keys
    for kind, (keys, takes_id, _checker, _label) in _SPECS.items()
}
#: Keys that on their own identify an action (the shared loop keys excluded).
_IDENTIFYING_KEYS: Final = frozenset(
    key for key in model.PATH_KEY.values() if key not in ("repeat", "while")
)
_ACTION_KEYS_BY_LOWER: Final = {
    key.lower(): key for key in (*_IDENTIFYING_KEYS, "repeat", "while", "do", "until")
}
_ACTION_KEYS_TEXT: Final = ", ".join(sorted(_IDENTIFYING_KEYS)) + ", repeat + while, while + do"
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


def check_action(c: Checks, kind: str, action: dict[str, Any], path: str) -> None:
    """Check one recognised object action (not its nested actions: the walker yields those)."""
    _keys, takes_id, checker, label = _SPECS[kind]
    allowed = _ALLOWED[kind]
    if not allowed.issuperset(action):
        for key in action:
            if key not in allowed:
                message = (
                    f"{label} actions take no actionId, so no goTo can target them"
                    if key == "actionId"
                    else _unknown_key_message(key, allowed, f"a {label} action")
                )
                c.add(at(path, key), message)
    if takes_id and "actionId" in action:
        _action_id(c, action, path)
    checker(c, action, path)


def _action_id(c: Checks, action: dict[str, Any], path: str) -> None:
    action_id = integer(c, action, path, "actionId")
    if action_id is None:
        return
    first = c.action_ids.get(action_id)
    if first is not None:
        c.add(
            at(path, "actionId"),
            f"duplicate actionId {action_id}, already used by {first}: give each action its own id",
        )
    else:
        c.action_ids[action_id] = path


def check_unknown(c: Checks, element: object, path: str) -> None:
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
    if element in _IDENTIFYING_KEYS:
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
