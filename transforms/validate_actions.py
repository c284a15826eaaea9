"""The validator's per-action checks: one checker per action kind, in a dispatch table.

A checker checks one action's own fields; the walker in :mod:`transforms.validate` reaches the
actions nested inside it. Fields that hold action arrays are addressed with the nesting notation
the walker gives their children (``script[2].if.then``, ``script[3].switch.case["1"]``), so an
error about an array and the errors about the actions inside it share a prefix; scalar fields are
the action path plus JSON keys (``script[2].sendSms.from``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, NamedTuple

from transforms import model
from transforms.formats import check_e164, check_sender_id, check_url
from transforms.model import has_variable
from transforms.validate_fields import (
    MISSING,
    Checks,
    action_list,
    at,
    boolean,
    enum,
    formatted,
    integer,
    is_int,
    json_type,
    number,
    present,
    string,
    string_map,
    sub_object,
    unknown_key_message,
    unknown_keys,
)

SAY_MAX_CHARS: Final = 1400
MAX_INPUT_LENGTH: Final = 255  # classic limit; the 2026 spec lowers it to 64 and forbids 0
HTTP_METHODS: Final = ("GET", "POST", "PUT", "DELETE", "PATCH")
SEND_TO_REPORTS: Final = ("ALWAYS", "MASKED", "NEVER")
GENDERS: Final = ("FEMALE", "MALE")
DTMF_CHARS: Final = frozenset("0123456789*#ABCD")


# --- one checker per action kind ---------------------------------------------------------------

Checker = Callable[[Checks, dict[str, Any], str], None]

#: Keys that on their own identify an action (the shared loop keys excluded).
IDENTIFYING_KEYS: Final = frozenset(
    key for key in model.PATH_KEY.values() if key not in ("repeat", "while")
)


def _keys(names: str) -> frozenset[str]:
    return frozenset(names.split())


_LOOP_OPTIONS: Final = _keys("loopCount")
_CALL_API_OPTIONS: Final = _keys("method headers body collectResponse")
_SPEECH_OPTIONS: Final = _keys("language keyPhrases maxSilence")
_DTMF_OPTIONS: Final = _keys("maxInputLength mappedValues")
_COLLECT_OPTIONS: Final = _keys("maxInputLength timeout sendToReports mappedValues")
_DIAL_OPTIONS: Final = _keys("senderId maxCallDuration customRingback")
_RINGBACK_KEYS: Final = _keys("ringingAudio failedAudio")
_DIAL_TO_MANY_OPTIONS: Final = _keys("parallel senderId maxCallDuration ringTimeout")
_CONVERSATIONS_KEYS: Final = _keys("options")
_CONVERSATIONS_OPTIONS: Final = _keys("tags tagIdentifierType")
_GO_TO_LIMITS: Final = ("goToLimit", "gotoLimit")  # schemas say goToLimit; examples gotoLimit
_GO_TO_OPTIONS: Final = frozenset({*_GO_TO_LIMITS, "countVariable"})
_DIAL_TARGET_KEYS: Final = _keys("number numbers")
_RECORD_OPTIONS: Final = _keys("escapeDigits beep maxSilence identifier")
_SAY_OPTIONS: Final = _keys("language voice speechRate")
_VOICE_KEYS: Final = _keys("name gender")
_SMS_KEYS: Final = _keys("text to from")
_AMD_OPTIONS: Final = _keys("waitEndOfMessageDetection endOfMessageDetectionTimeout")
_AUDIO_KEYS: Final = _keys("type fileUrl fileId")


def _loop_options(c: Checks, a: dict[str, Any], path: str, what: str) -> None:
    opts = sub_object(c, a, path, "options", _LOOP_OPTIONS, what)
    if opts is not None:
        integer(c, opts, at(path, "options"), "loopCount", lo=1, hi=10)


def _call_api(c: Checks, a: dict[str, Any], path: str) -> None:
    formatted(c, a, path, "request", check_url, required=True)
    opts = sub_object(c, a, path, "options", _CALL_API_OPTIONS, "Call API options", required=True)
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
        c, a, path, "speechOptions", _SPEECH_OPTIONS, "speechOptions", required=True
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
    dtmf = sub_object(c, a, path, "dtmfOptions", _DTMF_OPTIONS, "dtmfOptions")
    if dtmf is not None:
        where = at(path, "dtmfOptions")
        integer(c, dtmf, where, "maxInputLength", lo=0, hi=MAX_INPUT_LENGTH)
        string_map(c, dtmf, where, "mappedValues")
    enum(c, a, path, "sendToReports", SEND_TO_REPORTS)
    boolean(c, a, path, "beep")


def _key_phrases(c: Checks, speech: dict[str, Any], path: str) -> None:
    phrases = present(c, speech, path, "keyPhrases", False)
    if phrases is MISSING:
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
    opts = sub_object(c, a, path, "options", _COLLECT_OPTIONS, "collectInto options")
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
    opts = sub_object(c, a, path, "options", _DIAL_OPTIONS, "dial options")
    if opts is None:
        return
    where = at(path, "options")
    formatted(c, opts, where, "senderId", check_e164)
    integer(c, opts, where, "maxCallDuration", lo=1)
    ringback = sub_object(c, opts, where, "customRingback", _RINGBACK_KEYS, "customRingback")
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


def _dial_to_many(c: Checks, a: dict[str, Any], path: str) -> None:
    where = at(path, "dialToMany")
    targets = present(c, a, path, "dialToMany", True)
    if targets is MISSING:
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
    opts = sub_object(c, a, path, "options", _DIAL_TO_MANY_OPTIONS, "dialToMany options")
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
        c, a, path, "dialToConversations", _CONVERSATIONS_KEYS, "dialToConversations", required=True
    )
    if conversations is None:
        return
    where = at(path, "dialToConversations")
    opts = sub_object(
        c,
        conversations,
        where,
        "options",
        _CONVERSATIONS_OPTIONS,
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
        if tags is not None and not isinstance(tags, list):
            c.add(at(where, "tags"), f"must be an array of strings, not {json_type(tags)}")
        for index, tag in enumerate(tags or ()):
            if not isinstance(tag, str):
                c.add(f"{at(where, 'tags')}[{index}]", f"must be a string, not {json_type(tag)}")
    enum(c, opts, where, "tagIdentifierType", ("ID", "NAME"))


def _for_each(c: Checks, a: dict[str, Any], path: str) -> None:
    string(c, a, path, "for-each")
    string(c, a, path, "in")
    delimiter = string(c, a, path, "delimiter", required=False, blank=True)
    if delimiter == "":
        c.add(at(path, "delimiter"), "must not be empty: omit it to split on commas")
    action_list(c, a, "do", f"{path}.for-each.do", required=True)


def _go_to(c: Checks, a: dict[str, Any], path: str) -> None:
    target = integer(c, a, path, "goTo", required=True)
    if target is not None:
        c.gotos.append((target, at(path, "goTo")))
    opts = sub_object(c, a, path, "options", _GO_TO_OPTIONS, "goTo options")
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
    if value is not None and not isinstance(value, str) and not is_int(value):
        c.add(
            at(path, "playFromRecording"),
            f"must be a recording identifier (string), an index or null, not {json_type(value)}",
        )


def _record(c: Checks, a: dict[str, Any], path: str) -> None:
    if a.get("record") is not None:  # null records without a limit
        integer(c, a, path, "record", lo=0)
    opts = sub_object(c, a, path, "options", _RECORD_OPTIONS, "record options")
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
    opts = sub_object(c, a, path, "options", _SAY_OPTIONS, "say options")
    if opts is None:
        return
    where = at(path, "options")
    string(c, opts, where, "language", required=False)
    voice = sub_object(c, opts, where, "voice", _VOICE_KEYS, "say voice")
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
    sms = sub_object(c, a, path, "sendSms", _SMS_KEYS, "sendSms", required=True)
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
    cases = a.get("case", MISSING)
    if cases is MISSING or cases is None:
        c.add(where, "is required" if cases is MISSING else "must not be null")
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
    opts = sub_object(c, a, path, "options", _AMD_OPTIONS, "answeringMachineDetection options")
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


class _Spec(NamedTuple):
    allowed: frozenset[str]  # the action's keys, actionId included when it takes one
    action_id: bool
    checker: Checker
    label: str  # how messages name the kind; "" = its wire key


def _spec(keys: str, checker: Checker, *, action_id: bool, label: str = "") -> _Spec:
    allowed = _keys(keys)
    return _Spec(allowed | {"actionId"} if action_id else allowed, action_id, checker, label)


_SPECS: Final = {
    model.CALL_API: _spec("request options", _call_api, action_id=True),
    model.CAPTURE: _spec(
        "capture timeout speechOptions dtmfOptions sendToReports beep", _capture, action_id=True
    ),
    model.COLLECT: _spec("collectInto options", _collect, action_id=True),
    model.DIAL: _spec("dial options", _dial, action_id=True),
    model.DIAL_TO_MANY: _spec("dialToMany options", _dial_to_many, action_id=True),
    model.DIAL_TO_WEBRTC: _spec("dialToWebRTC", _dial_to_webrtc, action_id=False),
    model.DIAL_TO_CONVERSATIONS: _spec(
        "dialToConversations", _dial_to_conversations, action_id=False
    ),
    model.FOR_EACH: _spec("for-each in delimiter do", _for_each, action_id=False),
    model.GO_TO: _spec("goTo options", _go_to, action_id=False),
    model.IF_THEN_ELSE: _spec("if then else", _if, action_id=True),
    model.PAUSE: _spec("pause", _pause, action_id=True),
    model.PLAY: _spec("playFromUrl options", _play, action_id=True),
    model.PLAY_FROM_RECORDING: _spec("playFromRecording", _play_from_recording, action_id=True),
    model.RECORD: _spec("record options", _record, action_id=True),
    model.REPEAT_UNTIL: _spec("repeat until", _repeat_until, action_id=False, label="repeat/until"),
    model.REPEAT_WHILE: _spec("repeat while", _repeat_while, action_id=False, label="repeat/while"),
    model.SAY: _spec("say options", _say, action_id=True),
    model.SEND_SMS: _spec("sendSms", _send_sms, action_id=True),
    model.SET_VARIABLE: _spec("setVariable value", _set_variable, action_id=False),
    model.SWITCH: _spec("switch case", _switch, action_id=True),
    model.WHILE_DO: _spec("while do", _while_do, action_id=False, label="while/do"),
    model.ANSWERING_MACHINE_DETECTION: _spec(
        "answeringMachineDetection options onDetecting onMachineDetected onTimeout onHumanDetected",
        _answering_machine_detection,
        action_id=False,
    ),
    model.PLAY_FROM_UPLOAD: _spec("playFromUpload options", _play_from_upload, action_id=True),
    model.PLAY_TTY: _spec("playTty options", _play_tty, action_id=True),
}


def check_action(c: Checks, kind: str, action: dict[str, Any], path: str) -> None:
    """Check one recognised object action (not its nested actions: the walker yields those)."""
    allowed, takes_id, checker, label = _SPECS[kind]
    label = label or model.PATH_KEY[kind]
    if not allowed.issuperset(action):
        for key in action:
            if key in allowed:
                continue
            if key in IDENTIFYING_KEYS:  # two actions in one object: which one is meant?
                c.add(at(path, key), _second_action_message(key, allowed, label))
            else:  # an extra key beside a recognised action is sent back as it is
                c.warn(at(path, key), _extra_key_message(key, allowed, label))
    if takes_id and "actionId" in action:
        _action_id(c, action, path)
    checker(c, action, path)


def _second_action_message(key: str, allowed: frozenset[str], label: str) -> str:
    return (
        f"a {label} action cannot also hold {key!r}: put each action in an object of its "
        f"own (allowed keys: {', '.join(sorted(allowed))})"
    )


def _extra_key_message(key: str, allowed: frozenset[str], label: str) -> str:
    if key == "actionId":
        return f"{label} actions take no actionId, so no goTo can target them"
    return unknown_key_message(key, allowed, f"a {label} action")


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
