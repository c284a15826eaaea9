"""The ``variable`` rule: renamed where it is set and where ``${…}`` reads it, nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from transforms.rules.base import RuleError, apply_rule
from transforms.rules.catalogue import builtin_catalogue

RULES = builtin_catalogue()

SEED = Path(__file__).resolve().parents[1] / "migrate" / "seed"
RENAME = {"old": "lang", "new": "language"}


def renamed(action: Any, params: dict[str, str] = RENAME) -> Any:
    """The action after the rename; also checks idempotence and the change list."""
    body = {"name": "T", "script": [action]}
    result = apply_rule(body, RULES["variable"], params)
    assert apply_rule(result.scenario, RULES["variable"], params).changes == []
    (after,) = result.scenario["script"]
    for change in result.changes:
        assert change.action_path == "script[0]" and change.before != change.after
    assert bool(result.changes) == (after != action)
    return after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # where it is set
        ({"collectInto": "lang"}, {"collectInto": "language"}),
        ({"capture": "lang", "timeout": 5}, {"capture": "language", "timeout": 5}),
        ({"setVariable": "lang", "value": "hr"}, {"setVariable": "language", "value": "hr"}),
        (
            {"for-each": "lang", "in": "hr,de", "do": []},
            {"for-each": "language", "in": "hr,de", "do": []},
        ),
        ({"switch": "lang", "case": {"lang": []}}, {"switch": "language", "case": {"lang": []}}),
        ({"switch": "lang_Meaning", "case": {}}, {"switch": "language_Meaning", "case": {}}),
        (
            {"goTo": 1, "options": {"goToLimit": 3, "countVariable": "lang"}},
            {"goTo": 1, "options": {"goToLimit": 3, "countVariable": "language"}},
        ),
        # where it is read
        ({"say": "Hi ${lang}!"}, {"say": "Hi ${language}!"}),
        ({"say": "${lang}${lang}"}, {"say": "${language}${language}"}),
        ({"if": "${lang == 'x'}", "then": []}, {"if": "${language == 'x'}", "then": []}),
        ({"if": "${lang=='x'||lang=='y'}"}, {"if": "${language=='x'||language=='y'}"}),
        ({"if": "${ lang }"}, {"if": "${ language }"}),
        ({"if": "${lang} != 1"}, {"if": "${language} != 1"}),
        (
            {"say": "${lang_Meaning} / ${lang_Full}"},
            {"say": "${language_Meaning} / ${language_Full}"},
        ),
        (
            {"setVariable": "n", "value": "${lang + 1}"},
            {"setVariable": "n", "value": "${language + 1}"},
        ),
        ({"while": "${lang < 3}", "do": []}, {"while": "${language < 3}", "do": []}),
        ({"repeat": [], "until": "${lang == 3}"}, {"repeat": [], "until": "${language == 3}"}),
        (
            {"for-each": "c", "in": "${lang}", "do": []},
            {"for-each": "c", "in": "${language}", "do": []},
        ),
        (
            {"record": 5, "options": {"identifier": "vm-${lang}"}},
            {"record": 5, "options": {"identifier": "vm-${language}"}},
        ),
        ({"playFromRecording": "vm-${lang}"}, {"playFromRecording": "vm-${language}"}),
        (
            {"sendSms": {"from": "B", "to": "${to}", "text": "${lang}"}},
            {"sendSms": {"from": "B", "to": "${to}", "text": "${language}"}},
        ),
        (
            {
                "request": "https://x.example/${lang}",
                "options": {
                    "method": "POST",
                    "headers": {"X-Lang": "${lang}"},
                    "body": {"lang": "${lang}", "list": ["${lang}", 1], "raw": '{"l": "${lang}"}'},
                },
            },
            {
                "request": "https://x.example/${language}",
                "options": {
                    "method": "POST",
                    "headers": {"X-Lang": "${language}"},
                    "body": {
                        "lang": "${language}",
                        "list": ["${language}", 1],
                        "raw": '{"l": "${language}"}',
                    },
                },
            },
        ),
        (
            {"dial": "${lang}", "options": {"senderId": "${lang}"}},
            {"dial": "${language}", "options": {"senderId": "${language}"}},
        ),
        # nothing that merely contains the same letters
        ({"say": "${language}"}, {"say": "${language}"}),
        (
            {"say": "${langs} ${xlang} ${lang2} ${lang_meaning}"},
            {"say": "${langs} ${xlang} ${lang2} ${lang_meaning}"},
        ),
        ({"say": "lang ${ 'lang' } \"lang\""}, {"say": "lang ${ 'lang' } \"lang\""}),
        (
            {"if": "${x == 'lang' || lang == \"lang\"}"},
            {"if": "${x == 'lang' || language == \"lang\"}"},
        ),
        ({"if": "${x == 'it\\'s lang' && lang}"}, {"if": "${x == 'it\\'s lang' && language}"}),
        ({"if": "${obj.lang == lang}"}, {"if": "${obj.lang == language}"}),
        ({"if": "${obj . lang}"}, {"if": "${obj . lang}"}),
        ({"say": "$lang {lang} $ {lang}"}, {"say": "$lang {lang} $ {lang}"}),
        (
            {"setVariable": "language", "value": "lang"},
            {"setVariable": "language", "value": "lang"},
        ),
        (
            {"collectInto": "x", "options": {"mappedValues": {"1": "lang"}}},
            {"collectInto": "x", "options": {"mappedValues": {"1": "lang"}}},
        ),
        ({"say": "${'unterminated lang}"}, {"say": "${'unterminated lang}"}),
    ],
)
def test_variable_rename(before: Any, after: Any) -> None:
    assert renamed(before) == after


def test_variable_rename_on_example_lists_every_field_in_document_order() -> None:
    body = json.loads((SEED / "01-multilingual-welcome-menu.json").read_text(encoding="utf-8"))
    result = apply_rule(body, RULES["variable"], RENAME)
    assert [str(c) for c in result.changes] == [
        "script[1].collectInto: lang → language",
        "script[2].switch: lang → language",
        "script[3].options.body.language: ${lang_Meaning} → ${language_Meaning}",
    ]


def test_nested_actions_are_renamed_once_under_their_own_path() -> None:
    body = {
        "name": "T",
        "script": [{"if": "${lang}", "then": [{"say": "${lang}"}], "else": [{"say": "x"}]}],
    }
    result = apply_rule(body, RULES["variable"], RENAME)
    assert [c.path for c in result.changes] == ["script[0].if", "script[0].if.then[0].say"]


@pytest.mark.parametrize(
    "used",
    [
        {"setVariable": "language", "value": "x"},
        {"say": "${language}"},
        {"say": "${language_Meaning}"},
        {"goTo": 1, "options": {"countVariable": "language_Full"}},
    ],
)
def test_renaming_onto_a_name_in_use_is_refused(used: Any) -> None:
    body = {"name": "T", "script": [{"collectInto": "lang"}, used]}
    with pytest.raises(RuleError, match="would merge two variables"):
        apply_rule(body, RULES["variable"], RENAME)
    # Without the old variable there is nothing to merge: nothing happens.
    assert apply_rule({"name": "T", "script": [used]}, RULES["variable"], RENAME).changes == []


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"old": "to", "new": "callee"}, "'to' is set by the platform"),
        ({"old": "x", "new": "machineAnswered"}, "'machineAnswered' is set by the platform"),
        ({"old": "lang", "new": "lang"}, "the same name"),
        ({"old": "lang", "new": "lang_Meaning"}, "overlap through the derived names"),
        ({"old": "lang_Full", "new": "lang"}, "overlap through the derived names"),
    ],
)
def test_variable_checks(params: dict[str, str], fragment: str) -> None:
    ((_, message),) = RULES["variable"].problems(params)
    assert fragment in message
