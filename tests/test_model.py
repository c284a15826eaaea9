"""The script model: action kinds by wire key, the walker's order and paths, field paths."""

from __future__ import annotations

from typing import Any

import pytest

from transforms import model
from transforms.model import action_kind, count_kinds, field_path, walk

SMS: dict[str, Any] = {"sendSms": {"from": "Brand", "to": "${to}", "text": "hi"}}

# One element of every kind, by the kind the model must recognise.
KIND_EXAMPLES: list[tuple[str, Any]] = [
    (model.CALL_API, {"request": "https://x.example/a", "options": {"method": "GET"}}),
    (model.CAPTURE, {"capture": "v", "timeout": 5, "speechOptions": {"language": "en-US"}}),
    (model.COLLECT, {"collectInto": "digits"}),
    (model.DIAL, {"dial": "41793026731"}),
    (model.DIAL_TO_MANY, {"dialToMany": [{"number": "41793026731"}]}),
    (model.DIAL_TO_WEBRTC, {"dialToWebRTC": "app-id"}),
    (model.DIAL_TO_CONVERSATIONS, {"dialToConversations": {"options": {"tags": []}}}),
    (model.FOR_EACH, {"for-each": "city", "in": "A,B", "do": []}),
    (model.GO_TO, {"goTo": 1}),
    (model.HANGUP, "hangup"),
    (model.IF_THEN_ELSE, {"if": "${a == 1}", "then": ["hangup"]}),
    (model.MACHINE_DETECTION, "machineDetection"),
    (model.PAUSE, {"pause": 1}),
    (model.PLAY, {"playFromUrl": "https://x.example/a.mp3"}),
    (model.PLAY_FROM_RECORDING, {"playFromRecording": "rec"}),
    (model.RECORD, {"record": 10}),
    (model.REPEAT_UNTIL, {"repeat": [], "until": "${i == 3}"}),
    (model.REPEAT_WHILE, {"repeat": [], "while": "${i < 3}"}),
    (model.SAY, {"say": "Hello"}),
    (model.SEND_SMS, SMS),
    (model.SET_VARIABLE, {"setVariable": "i", "value": "1"}),
    (model.SWITCH, {"switch": "v", "case": {}}),
    (model.WHILE_DO, {"while": "${i < 3}", "do": []}),
    (model.ANSWERING_MACHINE_DETECTION, {"answeringMachineDetection": True}),
    (model.PLAY_FROM_UPLOAD, {"playFromUpload": "file-id"}),
    (model.PLAY_TTY, {"playTty": "HELLO"}),
]


def test_kind_examples_cover_all_26_kinds() -> None:
    assert len(model.ALL_KINDS) == 26
    assert sorted(kind for kind, _ in KIND_EXAMPLES) == sorted(model.ALL_KINDS)


@pytest.mark.parametrize(("kind", "element"), KIND_EXAMPLES, ids=[k for k, _ in KIND_EXAMPLES])
def test_action_kind_recognises_every_kind(kind: str, element: Any) -> None:
    assert action_kind(element) == kind


@pytest.mark.parametrize(
    ("element", "kind"),
    [
        # Shared-key families: the companion key decides.
        ({"repeat": [], "until": "x"}, model.REPEAT_UNTIL),
        ({"until": "x", "repeat": []}, model.REPEAT_UNTIL),
        ({"repeat": [], "while": "x"}, model.REPEAT_WHILE),
        ({"while": "x", "repeat": []}, model.REPEAT_WHILE),
        ({"while": "x", "do": []}, model.WHILE_DO),
        ({"do": [], "while": "x"}, model.WHILE_DO),
        ({"for-each": "c", "in": "a", "do": []}, model.FOR_EACH),
        ({"do": [], "in": "a", "for-each": "c"}, model.FOR_EACH),
        # Incomplete families are not actions.
        ({"while": "x"}, model.UNKNOWN),
        ({"do": []}, model.UNKNOWN),
        ({"until": "x"}, model.UNKNOWN),
        # String actions are exact strings; anything else is unknown.
        ("hangup", model.HANGUP),
        ("machineDetection", model.MACHINE_DETECTION),
        ("Hangup", model.UNKNOWN),
        ("say", model.UNKNOWN),
        ({"hangup": True}, model.UNKNOWN),
        ({"machineDetection": True}, model.UNKNOWN),
        # SDK names are not wire keys.
        ({"forEach": "c", "in": "a", "do": []}, model.UNKNOWN),
        ({"actionId": 1}, model.UNKNOWN),
        ({}, model.UNKNOWN),
        (None, model.UNKNOWN),
        (3, model.UNKNOWN),
        (["hangup"], model.UNKNOWN),
    ],
)
def test_action_kind_edge_cases(element: Any, kind: str) -> None:
    assert action_kind(element) == kind


def test_answering_machine_detection_is_an_object_key_not_machine_detection() -> None:
    amd = {"answeringMachineDetection": True, "onMachineDetected": ["hangup"]}
    assert action_kind(amd) == model.ANSWERING_MACHINE_DETECTION
    assert model.nested_fields(model.ANSWERING_MACHINE_DETECTION) == (
        "onDetecting",
        "onMachineDetected",
        "onTimeout",
        "onHumanDetected",
    )


def test_walk_yields_document_order_with_paths_and_depths() -> None:
    script = [
        {"say": "a"},
        {
            "if": "${x}",
            "then": [{"say": "b"}, "hangup"],
            "else": [{"switch": "v", "case": {"1": [{"say": "c"}], "__default": ["hangup"]}}],
        },
        {"while": "${i < 2}", "do": [{"pause": 1}]},
        "hangup",
    ]
    found = [(f.path, f.kind, f.depth) for f in walk(script)]
    assert found == [
        ("script[0]", model.SAY, 0),
        ("script[1]", model.IF_THEN_ELSE, 0),
        ("script[1].if.then[0]", model.SAY, 1),
        ("script[1].if.then[1]", model.HANGUP, 1),
        ("script[1].if.else[0]", model.SWITCH, 1),
        ('script[1].if.else[0].switch.case["1"][0]', model.SAY, 2),
        ('script[1].if.else[0].switch.case["__default"][0]', model.HANGUP, 2),
        ("script[2]", model.WHILE_DO, 0),
        ("script[2].while.do[0]", model.PAUSE, 1),
        ("script[3]", model.HANGUP, 0),
    ]


def test_walk_gives_the_container_so_string_actions_can_be_replaced() -> None:
    script: list[Any] = [{"if": "${x}", "then": ["hangup"]}]
    nested = next(f for f in walk(script) if f.kind == model.HANGUP)
    assert nested.container[nested.index] is nested.action
    nested.container[nested.index] = {"say": "bye"}
    assert script[0]["then"] == [{"say": "bye"}]


def test_walk_skips_nested_fields_that_are_not_arrays() -> None:
    script = [{"if": "${x}", "then": "hangup", "else": None}, {"switch": "v", "case": []}]
    assert [f.path for f in walk(script)] == ["script[0]", "script[1]"]
    assert list(walk("not a script")) == []


def _nest(inner: Any) -> dict[str, Any]:
    """sendSms inside if inside for-each inside a switch case: the issue's deep case."""
    return {
        "switch": "lang",
        "case": {
            "1": [
                {"say": "x"},
                {"for-each": "c", "in": "a,b", "do": [{"if": "${c == 'a'}", "then": [inner]}]},
            ]
        },
    }


def test_walk_finds_deeply_nested_actions_at_their_exact_paths() -> None:
    script = [
        _nest(SMS),
        {"repeat": [{"while": "${j < 2}", "do": [SMS]}], "while": "${i < 2}"},
        {"repeat": [SMS], "until": "${i == 2}"},
        {"switch": "v", "case": {"__default": [{"if": "${a}", "else": [SMS]}]}},
        {
            "answeringMachineDetection": True,
            "onDetecting": [{"say": "hello"}],
            "onMachineDetected": [{"playFromUpload": "f"}, SMS, "hangup"],
            "onHumanDetected": [{"for-each": "x", "in": "1", "do": [SMS]}],
        },
    ]
    paths = [f.path for f in walk(script) if f.kind == model.SEND_SMS]
    assert paths == [
        'script[0].switch.case["1"][1].for-each.do[0].if.then[0]',
        "script[1].repeat[0].while.do[0]",
        "script[2].repeat[0]",
        'script[3].switch.case["__default"][0].if.else[0]',
        "script[4].answeringMachineDetection.onMachineDetected[1]",
        "script[4].answeringMachineDetection.onHumanDetected[0].for-each.do[0]",
    ]
    deepest = next(f for f in walk(script) if f.path.endswith(".if.then[0]"))
    assert deepest.depth == 3


def test_walk_handles_2000_levels_without_recursion() -> None:
    script: list[Any] = [SMS]
    for _ in range(2000):
        script = [{"if": "${x}", "then": script}]
    found = list(walk(script))
    assert len(found) == 2001
    assert found[-1].kind == model.SEND_SMS
    assert found[-1].depth == 2000
    assert found[-1].path == "script[0]" + ".if.then[0]" * 2000


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("sendSms", "from"), "script[2].sendSms.from"),
        (("options", "voice", "name"), "script[2].options.voice.name"),
        (("dialToMany", 1, "number"), "script[2].dialToMany[1].number"),
        (("for-each",), "script[2].for-each"),
        (("options", "headers", "Content-Type"), "script[2].options.headers.Content-Type"),
        (("options", "headers", "X Api Key"), 'script[2].options.headers["X Api Key"]'),
        (("options", "mappedValues", "1"), 'script[2].options.mappedValues["1"]'),
        (("body", 'say "hi"'), 'script[2].body["say \\"hi\\""]'),
        (("body", "čaj"), 'script[2].body["čaj"]'),
        (("body", ""), 'script[2].body[""]'),
    ],
)
def test_field_path_quotes_keys_that_are_not_identifiers(
    keys: tuple[str | int, ...], expected: str
) -> None:
    assert field_path("script[2]", *keys) == expected


def test_count_kinds_counts_nested_actions() -> None:
    script = [{"if": "${x}", "then": [SMS, SMS], "else": ["hangup"]}, "hangup"]
    assert count_kinds(script) == {model.IF_THEN_ELSE: 1, model.SEND_SMS: 2, model.HANGUP: 2}
