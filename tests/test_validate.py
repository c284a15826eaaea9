"""The validator: every problem, each at its exact path, with a message that names the fix."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from transforms import model
from transforms.formats import check_url
from transforms.validate import (
    ValidationError,
    ValidationWarning,
    check_scenario,
    errors_by_path,
    scenario_warnings,
    validate_scenario,
)

REPO = Path(__file__).resolve().parents[1]
SEED_FILES = sorted((REPO / "migrate" / "seed").glob("*.json"))
DATA_FILES = sorted((REPO / "tests" / "data" / "scenarios").glob("*.json"))

SMS: dict[str, Any] = {"sendSms": {"from": "InfoSMS", "to": "${to}", "text": "Hello"}}
API: dict[str, Any] = {"request": "https://crm.example.com/a", "options": {"method": "GET"}}


def body(*script: Any, **fields: Any) -> dict[str, Any]:
    return {"name": "Test scenario", "description": "", "script": list(script), **fields}


def paths(found: list[ValidationError] | list[ValidationWarning]) -> list[str]:
    return [e.path for e in found]


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- bundled and test scenarios ----------------------------------------------------------------


def test_the_scenario_files_exist() -> None:
    assert len(SEED_FILES) >= 7
    assert len(DATA_FILES) >= 5


@pytest.mark.parametrize("path", SEED_FILES + DATA_FILES, ids=lambda p: p.name)
def test_every_bundled_and_test_scenario_validates(path: Path) -> None:
    scenario = load(path)
    assert validate_scenario(scenario) == []
    assert validate_scenario(scenario, request=False) == []


@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.name)
def test_test_scenarios_are_shaped_like_get_responses(path: Path) -> None:
    scenario = load(path)
    assert set(scenario) >= {"id", "name", "description", "createTime", "updateTime", "script"}
    assert len(scenario["id"]) == 32 and scenario["id"] == scenario["id"].upper()
    int(scenario["id"], 16)


def test_bundled_and_test_scenarios_together_cover_every_action_kind() -> None:
    kinds: set[str] = set()
    for path in SEED_FILES + DATA_FILES:
        kinds.update(model.count_kinds(load(path)["script"]))
    assert kinds == set(model.ALL_KINDS)


# --- one valid and at least one invalid case per action kind ----------------------------------

VALID: list[tuple[str, list[Any]]] = [
    (model.CALL_API, [API]),
    (
        "request with object body, headers, collectResponse",
        [
            {
                "request": "https://crm.example.com/calls/${to}",
                "options": {
                    "method": "POST",
                    "headers": {"Content-Type": "application/json"},
                    "body": {"caller": "${from}", "nested": {"a": [1, 2]}},
                    "collectResponse": True,
                },
                "actionId": 4,
            }
        ],
    ),
    (
        "request with string body",
        [{"request": "https://x.example/", "options": {"method": "PATCH", "body": "<a/>"}}],
    ),
    (
        model.CAPTURE,
        [
            {
                "capture": "answer",
                "timeout": 5,
                "speechOptions": {"language": "en-US", "maxSilence": 4, "keyPhrases": ["a b"]},
                "dtmfOptions": {"maxInputLength": 64, "mappedValues": {"1": "yes"}},
                "sendToReports": "MASKED",
                "beep": False,
                "actionId": 1,
            }
        ],
    ),
    (model.COLLECT, [{"collectInto": "pin"}]),
    (
        "collectInto classic maxInputLength 0 and variable timeout",
        [{"collectInto": "pin", "options": {"maxInputLength": 0, "timeout": "${t}"}}],
    ),
    (
        "collectInto maxInputLength 255",
        [{"collectInto": "pin", "options": {"maxInputLength": 255, "sendToReports": "NEVER"}}],
    ),
    (model.DIAL, [{"dial": "41793026731", "options": {"senderId": "+41793026000"}}]),
    (
        "dial with customRingback",
        [
            {
                "dial": "${agent}",
                "options": {
                    "maxCallDuration": 1,
                    "customRingback": {
                        "ringingAudio": {"type": "URL", "fileUrl": "https://x.example/r.mp3"},
                        "failedAudio": {"type": "FILE", "fileId": "abc"},
                    },
                },
            }
        ],
    ),
    (
        model.DIAL_TO_MANY,
        [{"dialToMany": [{"number": "41793026731"}], "options": {"parallel": True}}],
    ),
    (
        "dialToMany classic numbers and ringTimeout, no options",
        [{"dialToMany": [{"numbers": "41793026731, 41793026732"}, {"number": "${n}"}]}],
    ),
    (
        "dialToMany ringTimeout",
        [{"dialToMany": [{"number": "41793026731"}], "options": {"ringTimeout": 20}}],
    ),
    (model.DIAL_TO_WEBRTC, [{"dialToWebRTC": "b7e3c1d4-app"}]),
    (
        model.DIAL_TO_CONVERSATIONS,
        [{"dialToConversations": {"options": {"tags": ["a"], "tagIdentifierType": "NAME"}}}],
    ),
    ("dialToConversations null tags", [{"dialToConversations": {"options": {"tags": None}}}]),
    (model.FOR_EACH, [{"for-each": "c", "in": "a;b", "delimiter": ";", "do": [{"say": "${c}"}]}]),
    ("for-each with space delimiter", [{"for-each": "c", "in": "a b", "delimiter": " ", "do": []}]),
    (model.GO_TO, [{"say": "x", "actionId": 1}, {"goTo": 1, "options": {"goToLimit": 100}}]),
    (
        "goTo with gotoLimit spelling and countVariable",
        [
            {"say": "x", "actionId": 1},
            {"goTo": 1, "options": {"gotoLimit": 3, "countVariable": "n"}},
        ],
    ),
    (
        "goTo forward into a branch",
        [{"goTo": 9}, {"if": "${a}", "then": [{"pause": 1, "actionId": 9}]}],
    ),
    (model.HANGUP, ["hangup"]),
    (model.IF_THEN_ELSE, [{"if": "${a == 1}", "then": [{"say": "x"}], "else": []}]),
    ("if with only else", [{"if": "${a == 1}", "else": ["hangup"]}]),
    (
        model.MACHINE_DETECTION,
        ["machineDetection", {"if": "${machineAnswered == true}", "then": ["hangup"]}],
    ),
    (model.PAUSE, [{"pause": 5}, {"pause": 0.5, "actionId": 3}]),
    (
        model.PLAY,
        [{"playFromUrl": "http://www.example.com/file${i}.wav", "options": {"loopCount": 10}}],
    ),
    (
        model.PLAY_FROM_RECORDING,
        [
            {"playFromRecording": "rec-${from}"},
            {"playFromRecording": None},
            {"playFromRecording": 2},
        ],
    ),
    (
        model.RECORD,
        [
            {
                "record": 10,
                "options": {
                    "escapeDigits": "123*#",
                    "beep": True,
                    "maxSilence": 3,
                    "identifier": "x",
                },
            },
            {"record": None},
        ],
    ),
    (model.REPEAT_UNTIL, [{"repeat": [{"say": "x"}], "until": "${i == 3}"}]),
    (model.REPEAT_WHILE, [{"repeat": [{"collectInto": "v"}], "while": "${v} != 1"}]),
    (
        model.SAY,
        [
            {
                "say": "x" * 1400,
                "options": {
                    "language": "en",
                    "voice": {"name": "Joanna", "gender": "female"},
                    "speechRate": 0.5,
                },
            },
            {"say": "y", "options": {"speechRate": 2, "voice": {"gender": "MALE"}}},
        ],
    ),
    (model.SEND_SMS, [SMS]),
    ("sendSms without from (classic)", [{"sendSms": {"to": "41793026727", "text": "Hi"}}]),
    ("sendSms numeric sender", [{"sendSms": {"from": "4930123456", "to": "${to}", "text": "x"}}]),
    (
        model.SET_VARIABLE,
        [{"setVariable": "i", "value": ""}, {"setVariable": "j", "value": "${i + 1}"}],
    ),
    (model.SWITCH, [{"switch": "v", "case": {"1": [{"say": "x"}], "true": ["hangup"]}}]),
    ("switch with empty __default", [{"switch": "v", "case": {"1": [], "__default": []}}]),
    (model.WHILE_DO, [{"while": "${i < 4}", "do": [{"setVariable": "i", "value": "${i + 1}"}]}]),
    (
        model.ANSWERING_MACHINE_DETECTION,
        [
            {
                "answeringMachineDetection": True,
                "options": {
                    "waitEndOfMessageDetection": "NEVER",
                    "endOfMessageDetectionTimeout": 60,
                },
                "onDetecting": [{"say": "x"}, {"collectInto": "d"}],
                "onMachineDetected": [{"playFromUrl": "https://x.example/a.mp3"}, "hangup"],
                "onTimeout": ["hangup"],
                "onHumanDetected": [],
            }
        ],
    ),
    (
        model.PLAY_FROM_UPLOAD,
        [{"playFromUpload": "f75ff9ca", "options": {"loopCount": 1}, "actionId": 2}],
    ),
    (model.PLAY_TTY, [{"playTty": "HELLO ${name}", "options": {"loopCount": 2}}]),
    (
        "2026 top-level fields are checked in the body test below; nested hangup everywhere",
        [
            {"if": "${a}", "then": ["hangup"], "else": ["hangup"]},
            {"switch": "v", "case": {"__default": ["hangup"]}},
            {"repeat": ["hangup"], "while": "${a}"},
        ],
    ),
]


def test_valid_cases_cover_every_kind() -> None:
    assert {name for name, _ in VALID} >= set(model.ALL_KINDS)


@pytest.mark.parametrize(("name", "script"), VALID, ids=[n for n, _ in VALID])
def test_valid_action(name: str, script: list[Any]) -> None:
    assert validate_scenario(body(*script)) == []


# (kind, script, exact error path, fragment of the message)
INVALID: list[tuple[str, list[Any], str, str]] = [
    (model.CALL_API, [{"request": "https://x.example/"}], "script[0].options", "is required"),
    (
        model.CALL_API,
        [{"request": "https://x.example/", "options": {"method": "FETCH"}}],
        "script[0].options.method",
        "not one of GET, POST, PUT, DELETE, PATCH",
    ),
    (
        model.CALL_API,
        [{"request": "https://x.example/", "options": {"method": "post"}}],
        "script[0].options.method",
        "write POST",
    ),
    (
        model.CALL_API,
        [{"request": "ftp://x.example/", "options": {"method": "GET"}}],
        "script[0].request",
        "https://",
    ),
    (
        model.CALL_API,
        [{"request": "https://x.example/", "options": {"method": "POST", "body": [1]}}],
        "script[0].options.body",
        "string or a JSON object",
    ),
    (
        model.CALL_API,
        [{"request": "https://x.example/", "options": {"method": "GET", "headers": {"X-N": 1}}}],
        "script[0].options.headers.X-N",
        "must be a string",
    ),
    (
        model.CAPTURE,
        [{"capture": "v", "timeout": 31, "speechOptions": {"language": "en-US"}}],
        "script[0].timeout",
        "between 1 and 30",
    ),
    (
        model.CAPTURE,
        [{"capture": "v", "timeout": 5, "speechOptions": {"maxSilence": 2}}],
        "script[0].speechOptions.language",
        "is required",
    ),
    (
        model.CAPTURE,
        [
            {
                "capture": "v",
                "timeout": 5,
                "speechOptions": {"language": "en", "keyPhrases": ["a b c d e f"]},
            }
        ],
        "script[0].speechOptions.keyPhrases[0]",
        "at most 5 words",
    ),
    (
        model.CAPTURE,
        [{"capture": "v", "timeout": 5, "beep": "yes", "speechOptions": {"language": "en"}}],
        "script[0].beep",
        "true or false",
    ),
    (model.COLLECT, [{"collectInto": ""}], "script[0].collectInto", "must not be blank"),
    (
        model.COLLECT,
        [{"collectInto": "d", "options": {"maxInputLength": 256}}],
        "script[0].options.maxInputLength",
        "between 0 and 255",
    ),
    (
        model.COLLECT,
        [{"collectInto": "d", "options": {"sendToReports": "always"}}],
        "script[0].options.sendToReports",
        "write ALWAYS",
    ),
    (model.DIAL, [{"dial": "0800 FLOWERS"}], "script[0].dial", "E.164"),
    (
        model.DIAL,
        [{"dial": "41793026731", "options": {"maxCallDuration": 0}}],
        "script[0].options.maxCallDuration",
        "at least 1",
    ),
    (
        model.DIAL,
        [
            {
                "dial": "41793026731",
                "options": {"customRingback": {"failedAudio": {"type": "FILE", "fileId": "a"}}},
            }
        ],
        "script[0].options.customRingback.ringingAudio",
        "is required",
    ),
    (
        model.DIAL,
        [{"dial": "41793026731", "options": {"customRingback": {"ringingAudio": {"type": "URL"}}}}],
        "script[0].options.customRingback.ringingAudio.fileUrl",
        "is required",
    ),
    (
        model.DIAL_TO_MANY,
        [{"dialToMany": [{"number": "41793026731"}, {"number": "+41 79 302"}]}],
        "script[0].dialToMany[1].number",
        "E.164",
    ),
    (
        model.DIAL_TO_MANY,
        [{"dialToMany": [{"numbers": "41793026731,abc"}]}],
        "script[0].dialToMany[0].numbers",
        "'abc' is not an E.164 number",
    ),
    (model.DIAL_TO_MANY, [{"dialToMany": []}], "script[0].dialToMany", "at least one number"),
    (
        model.DIAL_TO_MANY,
        [{"dialToMany": [{"number": "41793026731"}], "options": {"parallel": "yes"}}],
        "script[0].options.parallel",
        "true or false",
    ),
    (model.DIAL_TO_WEBRTC, [{"dialToWebRTC": 123}], "script[0].dialToWebRTC", "must be a string"),
    (
        model.DIAL_TO_CONVERSATIONS,
        [{"dialToConversations": {"options": {}}}],
        "script[0].dialToConversations.options.tags",
        "is required",
    ),
    (
        model.DIAL_TO_CONVERSATIONS,
        [{"dialToConversations": {"options": {"tags": [], "tagIdentifierType": "LABEL"}}}],
        "script[0].dialToConversations.options.tagIdentifierType",
        "not one of ID, NAME",
    ),
    (
        model.DIAL_TO_CONVERSATIONS,
        [{"dialToConversations": {"options": {"tags": ["VIP", 7]}}}],
        "script[0].dialToConversations.options.tags[1]",
        "must be a string",
    ),
    (model.FOR_EACH, [{"for-each": "c", "do": []}], "script[0].in", "is required"),
    (
        model.FOR_EACH,
        [{"for-each": "c", "in": "a", "do": {"say": "x"}}],
        "script[0].for-each.do",
        "array of actions",
    ),
    (model.GO_TO, [{"say": "x", "actionId": 1}, {"goTo": "1"}], "script[1].goTo", "whole number"),
    (
        model.GO_TO,
        [{"say": "x", "actionId": 1}, {"goTo": 1, "options": {"goToLimit": 101}}],
        "script[1].options.goToLimit",
        "between 1 and 100",
    ),
    (model.HANGUP, [{"hangup": True}], "script[0].hangup", '"hangup" (a bare string)'),
    (model.HANGUP, ["Hangup"], "script[0]", "write 'hangup'"),
    (model.IF_THEN_ELSE, [{"if": "${a}"}], "script[0]", "at least one action in then or else"),
    (
        model.IF_THEN_ELSE,
        [{"if": "${a}", "then": "hangup"}],
        "script[0].if.then",
        "array of actions",
    ),
    (model.IF_THEN_ELSE, [{"if": "", "then": ["hangup"]}], "script[0].if", "must not be blank"),
    (model.MACHINE_DETECTION, ["machinedetection"], "script[0]", "write 'machineDetection'"),
    (
        model.MACHINE_DETECTION,
        [{"machineDetection": True}],
        "script[0].machineDetection",
        '"machineDetection" (a bare string)',
    ),
    (model.PAUSE, [{"pause": 0}], "script[0].pause", "more than 0 and at most 5"),
    (model.PAUSE, [{"pause": 5.5}], "script[0].pause", "more than 0 and at most 5"),
    (model.PAUSE, [{"pause": "2"}], "script[0].pause", "must be a number"),
    (model.PLAY, [{"playFromUrl": "www.example.com/a.mp3"}], "script[0].playFromUrl", "https://"),
    (
        model.PLAY,
        [{"playFromUrl": "https://x.example/a.mp3", "options": {"loopCount": 11}}],
        "script[0].options.loopCount",
        "between 1 and 10",
    ),
    (
        model.PLAY_FROM_RECORDING,
        [{"playFromRecording": {"id": "x"}}],
        "script[0].playFromRecording",
        "recording identifier",
    ),
    (model.RECORD, [{"record": -1}], "script[0].record", "at least 0"),
    (
        model.RECORD,
        [{"record": 10, "options": {"escapeDigits": "stop"}}],
        "script[0].options.escapeDigits",
        "0-9, *, #",
    ),
    (model.REPEAT_UNTIL, [{"repeat": [], "until": 5}], "script[0].until", "must be a string"),
    (
        model.REPEAT_UNTIL,
        [{"repeat": "hangup", "until": "${a}"}],
        "script[0].repeat",
        "array of actions",
    ),
    (
        model.REPEAT_WHILE,
        [{"repeat": [{"say": "x"}]}],
        "script[0].while",
        "needs a while condition",
    ),
    (model.SAY, [{"say": "x" * 1401}], "script[0].say", "1401 characters"),
    (
        model.SAY,
        [{"say": "x", "options": {"speechRate": 3}}],
        "script[0].options.speechRate",
        "0.5 and 2.0",
    ),
    (
        model.SAY,
        [{"say": "x", "options": {"voice": {"gender": "robot"}}}],
        "script[0].options.voice.gender",
        "FEMALE, MALE",
    ),
    (
        model.SEND_SMS,
        [{"sendSms": {"from": "A", "to": "${to}", "text": "x"}}],
        "script[0].sendSms.from",
        "sender id",
    ),
    (model.SEND_SMS, [{"sendSms": {"to": "12", "text": "x"}}], "script[0].sendSms.to", "E.164"),
    (model.SEND_SMS, [{"sendSms": {"to": "${to}"}}], "script[0].sendSms.text", "is required"),
    (model.SEND_SMS, [{"sendSms": "hello"}], "script[0].sendSms", "must be an object"),
    (model.SET_VARIABLE, [{"setVariable": "i"}], "script[0].value", "is required"),
    (model.SET_VARIABLE, [{"setVariable": "i", "value": 1}], "script[0].value", "must be a string"),
    (model.SWITCH, [{"switch": "v"}], "script[0].switch.case", "is required"),
    (model.SWITCH, [{"switch": "${lang}", "case": {}}], "script[0].switch", "write 'lang'"),
    (
        model.SWITCH,
        [{"switch": "v", "case": {"1": {"say": "x"}}}],
        'script[0].switch.case["1"]',
        "array of actions",
    ),
    (model.WHILE_DO, [{"while": "${a}", "do": None}], "script[0].while.do", "must not be null"),
    (model.WHILE_DO, [{"while": 1, "do": []}], "script[0].while", "must be a string"),
    (
        model.ANSWERING_MACHINE_DETECTION,
        [{"answeringMachineDetection": True}],
        "script[0].answeringMachineDetection.onMachineDetected",
        "is required",
    ),
    (
        model.ANSWERING_MACHINE_DETECTION,
        [{"answeringMachineDetection": "yes", "onMachineDetected": []}],
        "script[0].answeringMachineDetection",
        "true or false",
    ),
    (
        model.ANSWERING_MACHINE_DETECTION,
        [{"answeringMachineDetection": True, "onMachineDetected": [], "onDetecting": [SMS]}],
        "script[0].answeringMachineDetection.onDetecting[0]",
        "only playFromUrl, say or collectInto",
    ),
    (
        model.ANSWERING_MACHINE_DETECTION,
        [
            {
                "answeringMachineDetection": True,
                "onMachineDetected": [],
                "options": {"waitEndOfMessageDetection": "SOMETIMES"},
            }
        ],
        "script[0].options.waitEndOfMessageDetection",
        "ALWAYS, NEVER, ON_DETECTING",
    ),
    (
        model.PLAY_FROM_UPLOAD,
        [{"playFromUpload": " "}],
        "script[0].playFromUpload",
        "must not be blank",
    ),
    (
        model.PLAY_FROM_UPLOAD,
        [{"playFromUpload": "f", "options": {"loopCount": 0}}],
        "script[0].options.loopCount",
        "between 1 and 10",
    ),
    (model.PLAY_TTY, [{"playTty": 42}], "script[0].playTty", "must be a string"),
    # Nested: the same checks at nested paths.
    (
        model.SEND_SMS,
        [
            {
                "for-each": "c",
                "in": "a",
                "do": [
                    {
                        "if": "${c}",
                        "then": [{"sendSms": {"from": "No", "to": "${to}", "text": "x"}}],
                    }
                ],
            }
        ],
        "script[0].for-each.do[0].if.then[0].sendSms.from",
        "3 to 11",
    ),
    (
        model.SAY,
        [{"switch": "v", "case": {"__default": [{"repeat": [{"say": ""}], "while": "${a}"}]}}],
        'script[0].switch.case["__default"][0].repeat[0].say',
        "must not be blank",
    ),
    (
        model.DIAL,
        [{"answeringMachineDetection": True, "onMachineDetected": [{"dial": "x"}]}],
        "script[0].answeringMachineDetection.onMachineDetected[0].dial",
        "E.164",
    ),
]


def test_invalid_cases_cover_every_kind() -> None:
    assert {kind for kind, *_ in INVALID} == set(model.ALL_KINDS)


@pytest.mark.parametrize(
    ("kind", "script", "path", "fragment"), INVALID, ids=[f"{k}-{p}" for k, _, p, _ in INVALID]
)
def test_invalid_action(kind: str, script: list[Any], path: str, fragment: str) -> None:
    errors = validate_scenario(body(*script))
    assert paths(errors) == [path], errors
    assert fragment in errors[0].message


# --- all errors, ids and goTo --------------------------------------------------------------------


def test_all_errors_are_returned_not_only_the_first() -> None:
    errors = validate_scenario(
        body(
            {"say": "x" * 1500},
            {"if": "${a}", "then": [{"sendSms": {"from": "!", "to": "${to}", "text": "x"}}]},
            {"pause": 9},
        )
    )
    assert paths(errors) == [
        "script[0].say",
        "script[1].if.then[0].sendSms.from",
        "script[2].pause",
    ]


def test_several_problems_in_one_action_are_all_reported() -> None:
    errors = validate_scenario(
        body({"capture": "", "timeout": 0, "speechOptions": {"language": 1}, "sendToReports": "X"})
    )
    assert paths(errors) == [
        "script[0].capture",
        "script[0].timeout",
        "script[0].speechOptions.language",
        "script[0].sendToReports",
    ]


def test_goto_to_a_missing_action_id() -> None:
    errors = validate_scenario(body({"say": "x", "actionId": 1}, {"goTo": 7}))
    assert paths(errors) == ["script[1].goTo"]
    assert "actionId 7" in errors[0].message and "present: 1" in errors[0].message


def test_goto_to_an_action_id_on_a_kind_without_one_is_missing() -> None:
    found = check_scenario(body({"setVariable": "a", "value": "1", "actionId": 3}, {"goTo": 3}))
    assert paths(found.errors) == ["script[1].goTo"]
    assert [str(w) for w in found.warnings] == [
        "script[0].actionId: setVariable actions take no actionId, so no goTo can target them"
    ]


def test_duplicate_action_id_is_reported_at_the_second_use() -> None:
    errors = validate_scenario(
        body({"say": "a", "actionId": 5}, {"if": "${x}", "then": [{"pause": 1, "actionId": 5}]})
    )
    assert paths(errors) == ["script[1].if.then[0].actionId"]
    assert "duplicate actionId 5" in errors[0].message
    assert "script[0]" in errors[0].message


def test_action_id_must_be_an_int32() -> None:
    errors = validate_scenario(body({"say": "a", "actionId": "5"}, {"say": "b", "actionId": 2**31}))
    assert paths(errors) == ["script[0].actionId", "script[1].actionId"]


def test_capture_max_silence_must_be_lower_than_timeout() -> None:
    capture = {"capture": "v", "timeout": 3, "speechOptions": {"language": "en", "maxSilence": 3}}
    errors = validate_scenario(body(capture))
    assert paths(errors) == ["script[0].speechOptions.maxSilence"]
    assert "lower than timeout (3)" in errors[0].message
    capture["timeout"] = 4
    assert validate_scenario(body(capture)) == []


def test_say_length_limit_is_1400_characters_not_bytes() -> None:
    assert validate_scenario(body({"say": "ž" * 1400})) == []
    errors = validate_scenario(body({"say": "ž" * 1401}))
    assert paths(errors) == ["script[0].say"]
    assert "split it" in errors[0].message


@pytest.mark.parametrize(
    "sender", ["A", "AB", "ThisIsTooLong", "12", "123456789012345", "Bad!Name"]
)
def test_bad_sender_ids(sender: str) -> None:
    errors = validate_scenario(body({"sendSms": {"from": sender, "to": "${to}", "text": "x"}}))
    assert paths(errors) == ["script[0].sendSms.from"]


@pytest.mark.parametrize(
    "sender", ["InfoSMS", "ABC", "Brand Co", "123", "12345678901234", "${brand}"]
)
def test_good_sender_ids(sender: str) -> None:
    assert validate_scenario(body({"sendSms": {"from": sender, "to": "${to}", "text": "x"}})) == []


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("41793026727", True),
        ("+41793026727", True),
        ("${to}", True),
        ("${prefix}123", True),
        ("041793026727", False),
        ("+41 79 302 67 27", False),
        ("4179302672712345", False),
        ("to", False),
    ],
)
def test_e164_literals_are_checked_variables_pass(number: str, ok: bool) -> None:
    errors = validate_scenario(body({"sendSms": {"to": number, "text": "x"}}, {"dial": number}))
    assert paths(errors) == ([] if ok else ["script[0].sendSms.to", "script[1].dial"])


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://api.example.com/x", None),
        ("HTTP://api.example.com", None),
        ("${url}", None),
        ("https://api.example.com/${path}?q=${v}", None),
        ("https://api.example.com/${a == 'b c'}", None),  # spaces inside ${…} are expression
        ("https://${host}/x", "builds its host from a variable"),
        ("https://api.${env}.example.com/x", "builds its host from a variable"),
        ("https://${user}@api.example.com/x", "builds its host from a variable"),
        ("${base}/x", "starts with a variable"),
        ("${scheme}://api.example.com", "starts with a variable"),
        ("${a}${b}", "starts with a variable"),
        ("https://not a url", "needs a host and no spaces"),
        ("not a urlold.example/${lang}", "start it with https://"),
        ("https://", "needs a host and no spaces"),
        ("https://api.example.com/a b${x}", "needs a host and no spaces"),
        ("ftp://files.example.com/a", "start it with https://"),
        ("https://[::1/x", "Invalid IPv6 URL"),
    ],
)
def test_urls_with_variables_are_checked_on_their_literal_parts(
    url: str, problem: str | None
) -> None:
    found = check_url(url)
    assert (found is None) if problem is None else (found is not None and problem in found)


def ringback(ringing: dict[str, str], failed: dict[str, str] | None = None) -> dict[str, Any]:
    audio = {"ringingAudio": ringing} | ({"failedAudio": failed} if failed else {})
    return {"dial": "41793026731", "options": {"customRingback": audio}}


#: Every place the url rule edits: a function of the URL → (scenario, path of the URL).
URL_PLACES: dict[str, Any] = {
    "request": lambda url: (
        body({"request": url, "options": {"method": "GET"}}),
        "script[0].request",
    ),
    "playFromUrl": lambda url: (body({"playFromUrl": url}), "script[0].playFromUrl"),
    "ringingAudio": lambda url: (
        body(ringback({"type": "URL", "fileUrl": url})),
        "script[0].options.customRingback.ringingAudio.fileUrl",
    ),
    "failedAudio": lambda url: (
        body(ringback({"type": "FILE", "fileId": "f1"}, {"type": "URL", "fileUrl": url})),
        "script[0].options.customRingback.failedAudio.fileUrl",
    ),
    "notifyUrl": lambda url: (body("hangup", notifyUrl=url), "notifyUrl"),
}


@pytest.mark.parametrize("place", sorted(URL_PLACES))
@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://${host}/x", False),
        ("https://not a url", False),
        ("${url}", True),
        ("https://crm.example.com/${id}", True),
    ],
)
def test_every_url_the_url_rule_edits_is_checked(place: str, url: str, ok: bool) -> None:
    scenario, path = URL_PLACES[place](url)
    assert paths(validate_scenario(scenario)) == ([] if ok else [path])


# --- unknown keys, misspellings, non-actions ----------------------------------------------------


def warnings_only(scenario: dict[str, Any]) -> list[ValidationWarning]:
    """The warnings of a scenario that has no error: unknown keys never make it invalid."""
    found = check_scenario(scenario)
    assert found.errors == []
    assert validate_scenario(scenario) == [] and scenario_warnings(scenario) == found.warnings
    return found.warnings


def test_unknown_key_at_top_level_is_a_warning() -> None:
    warnings = warnings_only(body({"say": "x"}, Description="d"))
    assert paths(warnings) == ["Description"]
    assert "did you mean 'description'" in warnings[0].message


def test_an_action_key_at_top_level_is_an_unknown_scenario_field() -> None:
    warnings = warnings_only(body({"say": "x"}, say="hello"))
    assert paths(warnings) == ["say"]
    assert warnings[0].message.startswith("unknown key 'say' in a scenario")


def test_unknown_key_in_an_action_is_a_warning() -> None:
    warnings = warnings_only(body({"say": "x", "voice": "Joanna"}))
    assert paths(warnings) == ["script[0].voice"]
    assert "unknown key 'voice' in a say action" in warnings[0].message


def test_unknown_key_in_options_is_a_warning() -> None:
    warnings = warnings_only(
        body({"say": "x", "actionId": 1}, {"goTo": 1, "options": {"limit": 3}})
    )
    assert paths(warnings) == ["script[1].options.limit"]
    assert "goTo options" in warnings[0].message and "goToLimit" in warnings[0].message


def test_unknown_key_in_nested_options_objects_is_a_warning() -> None:
    warnings = warnings_only(
        body({"say": "x", "options": {"voice": {"name": "Hans", "accent": "bavarian"}}})
    )
    assert paths(warnings) == ["script[0].options.voice.accent"]


@pytest.mark.parametrize(
    ("action", "path", "fragment"),
    [
        ({"say": "x", "forEach": "city"}, "script[0].forEach", "unknown key 'forEach' in a say"),
        ({"dialToWebRTC": "app", "actionId": 1}, "script[0].actionId", "take no actionId"),
        ({"while": "${a}", "do": [], "label": "x"}, "script[0].label", "in a while/do action"),
        (
            {"dialToMany": [{"number": "41793026731", "nubmer": "x"}]},
            "script[0].dialToMany[0].nubmer",
            "did you mean 'number'?",
        ),
        (
            {
                "dial": "41793026731",
                "options": {
                    "customRingback": {
                        "ringingAudio": {"type": "URL", "fileUrl": "https://x.example/r.mp3"},
                        "busyAudio": {},
                    }
                },
            },
            "script[0].options.customRingback.busyAudio",
            "unknown key 'busyAudio' in customRingback",
        ),
        (
            {"sendSms": {**SMS["sendSms"], "flash": True}},
            "script[0].sendSms.flash",
            "unknown key 'flash' in sendSms",
        ),
        (
            {"if": "${a}", "then": [{"say": "x", "options": {"speed": 1}}]},
            "script[0].if.then[0].options.speed",
            "unknown key 'speed' in say options",
        ),
    ],
)
def test_an_extra_key_beside_a_recognised_action_is_a_warning_at_any_depth(
    action: dict[str, Any], path: str, fragment: str
) -> None:
    (warning,) = warnings_only(body(action))
    assert warning.path == path
    assert fragment in warning.message


def test_the_scenario_as_read_keeps_its_unknown_keys_as_warnings_beside_real_errors() -> None:
    found = check_scenario(body({"say": "", "voice": "Joanna"}, Description="d"))
    assert [str(e) for e in found.errors] == ["script[0].say: must not be blank"]
    assert paths(found.warnings) == ["Description", "script[0].voice"]


def test_two_action_keys_in_one_object() -> None:
    # The model recognises the object as sendSms (its key order); the say key is the extra one.
    errors = validate_scenario(body({"say": "x", "sendSms": SMS["sendSms"]}))
    assert paths(errors) == ["script[0].say"]
    assert "object of its own" in errors[0].message


@pytest.mark.parametrize(("key", "fix"), sorted(model.MISSPELLED_KEYS.items()))
def test_sdk_names_get_a_message_naming_the_wire_key(key: str, fix: str) -> None:
    errors = validate_scenario(body({key: "x", "do": []}))
    assert paths(errors) == [f"script[0].{key}"]
    assert key in errors[0].message and fix in errors[0].message


def test_foreach_camel_case_names_for_each() -> None:
    script = {"forEach": "city", "in": "A,B", "do": [{"say": "${city}"}]}
    (error,) = validate_scenario(body(script))
    assert str(error) == "script[0].forEach: 'forEach' is not an action key: use 'for-each'"


def test_action_keys_are_case_sensitive() -> None:
    errors = validate_scenario(body({"SendSms": SMS["sendSms"]}))
    assert paths(errors) == ["script[0].SendSms"]
    assert "write 'sendSms'" in errors[0].message


def test_object_without_an_action_key() -> None:
    (error,) = validate_scenario(body({"actionId": 1}))
    assert error.path == "script[0]"
    assert error.message.startswith("no action key")
    assert "found: actionId" in error.message


@pytest.mark.parametrize(
    ("element", "fragment"),
    [
        ({"while": "${a}"}, "'while' needs 'do'"),
        ({"do": []}, "'do' needs 'while'"),
        ({"until": "${a}"}, "'until' needs 'repeat'"),
        ({"case": {}}, "'case' needs 'switch'"),
        ({"then": []}, "'then' needs 'if'"),
        ("say", "write an object"),
        ("press one", "only string actions"),
        (7, 'must be an action object or the string "hangup"'),
        (None, "not null"),
    ],
)
def test_non_actions_are_explained(element: Any, fragment: str) -> None:
    (error,) = validate_scenario(body(element))
    assert error.path == "script[0]"
    assert fragment in error.message


# --- scenario fields ---------------------------------------------------------------------------


def test_script_given_as_a_json_string() -> None:
    (error,) = validate_scenario({"name": "x", "script": '[{"say": "hi"}]'})
    assert error.path == "script"
    assert "not a JSON-encoded string" in error.message


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ({"script": []}, ["name"]),
        ({"name": 5, "script": []}, ["name"]),
        ({"name": " ", "script": []}, ["name"]),
        ({"name": "x"}, ["script"]),
        ({"name": "x", "script": None}, ["script"]),
        ({"name": "x", "script": {"say": "x"}}, ["script"]),
        ({"name": "x", "description": 3, "script": []}, ["description"]),
        ({"name": "x", "script": [], "notifyUrl": "hooks.example.com"}, ["notifyUrl"]),
        ({"name": "x", "script": [], "notifyContentType": "text/plain"}, ["notifyContentType"]),
        ({"name": "x", "script": [], "record": "false"}, ["record"]),
        ({"description": None, "script": "[]", "extra": 1}, ["name", "script"]),
    ],
)
def test_wrong_scenario_fields(scenario: dict[str, Any], expected: list[str]) -> None:
    assert paths(validate_scenario(scenario)) == expected


@pytest.mark.parametrize("not_an_object", [[], "x", None, 3])
def test_body_that_is_not_an_object(not_an_object: Any) -> None:
    (error,) = validate_scenario(not_an_object)
    assert error.path == "body"
    assert "JSON object" in error.message


def test_2026_top_level_fields_are_accepted() -> None:
    scenario = body(
        {"say": "x"},
        notifyUrl="https://hooks.example.com/ivr",
        notifyContentType="application/xml",
        record=True,
    )
    assert validate_scenario(scenario) == []


def test_read_only_fields_are_tolerated_in_requests_and_expected_in_responses() -> None:
    scenario = body({"say": "x"}, id="E83E787CF2613450157ADA3476171E3F", createTime="t")
    scenario |= {"updateTime": None, "lastUsageDate": None}
    assert validate_scenario(scenario) == []
    assert validate_scenario(scenario, request=False) == []
    bare = body({"say": "x"})
    assert paths(validate_scenario(bare, request=False)) == ["id", "createTime"]


def test_script_is_optional_in_responses_only() -> None:
    response = {"id": "E83E787CF2613450157ADA3476171E3F", "name": "x", "createTime": "t"}
    assert validate_scenario(response, request=False) == []
    assert paths(validate_scenario(response)) == ["script"]


def test_response_mode_still_checks_the_script() -> None:
    response = {"id": "A", "name": "x", "createTime": "t", "script": [{"pause": 0}]}
    assert paths(validate_scenario(response, request=False)) == ["script[0].pause"]


# --- API shape and properties --------------------------------------------------------------------


def test_validation_error_str_and_grouping() -> None:
    errors = validate_scenario(body({"say": "", "options": {"speechRate": 9}}, {"pause": 0}))
    assert [str(e) for e in errors] == [
        "script[0].say: must not be blank",
        "script[0].options.speechRate: must be between 0.5 and 2.0, not 9",
        "script[1].pause: must be more than 0 and at most 5 seconds, not 0",
    ]
    grouped = errors_by_path([*errors, ValidationError("script[1].pause", "again")])
    assert grouped == {
        "script[0].say": ["must not be blank"],
        "script[0].options.speechRate": ["must be between 0.5 and 2.0, not 9"],
        "script[1].pause": ["must be more than 0 and at most 5 seconds, not 0", "again"],
    }
    assert errors_by_path([]) == {}


def test_validation_error_is_frozen() -> None:
    error = ValidationError("name", "is required")
    with pytest.raises(AttributeError):
        error.path = "x"  # type: ignore[misc]


def test_validation_does_not_modify_the_body() -> None:
    scenario = load(DATA_FILES[0])
    scenario["script"].append({"forEach": "x", "do": [{"sendSms": {"from": "!"}}]})
    before = copy.deepcopy(scenario)
    assert validate_scenario(scenario)
    assert scenario == before


def test_deep_nesting_is_validated_without_recursion() -> None:
    script: list[Any] = [{"pause": 0}]
    for _ in range(2000):
        script = [{"while": "${x}", "do": script}]
    (error,) = validate_scenario(body(*script))
    assert error.path == "script[0]" + ".while.do[0]" * 2000 + ".pause"
