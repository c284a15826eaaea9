"""Properties every rule must have (issue 3): idempotence, locality, validity; third-party rules.

Scenarios are generated from every action kind, nested in every container kind, with a few
malformed actions among them (rules must leave what they do not understand alone). Texts are
built from fragments that make the interesting cases likely: a replacement that contains what it
replaces, variable references with look-alike names, numbers with and without ``+``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from transforms.model import SWITCH, action_kind, nested_fields, walk
from transforms.rules.base import Change, Params, RuleError, RuleResult, Scenario, apply_rule
from transforms.rules.catalogue import SETTABLE_KINDS, builtin_catalogue
from transforms.rules.fields import MISSING, Keys, get_field, parse_path, path_text

SEED = Path(__file__).resolve().parents[1] / "migrate" / "seed"
CATALOGUE = builtin_catalogue()
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- generated scenarios ----------------------------------------------------------------------

BITS = [
    "Bank", "Bank AG", " ", "  ", "a", "aa", "ab", "b", ".", "lang", "order", "Nordlicht",
    "${lang}", "${lang_Meaning}", "${language}", "${lang == 'lang'}", "${x.lang}",
    "${orderNumber}", "${to}", "https://old.example", "/p/", "🌤", "{", "}", "$",
]  # fmt: skip
FIND_BITS = ["Bank", "Bank AG", "a", "aa", "ab", " ", "lang", "order", "${lang}", "{", "$"]
# Half the fragments come from what the text rules look for, so that they often find it.
texts = st.lists(st.one_of(st.sampled_from(FIND_BITS), st.sampled_from(BITS)), max_size=5).map(
    "".join
)
names = st.sampled_from(["lang", "language", "lang_Meaning", "city", "orderNumber", "x"])
senders = st.sampled_from(["Nordlicht", "AuroraBank", "4930123456", "+4930123456", "${brand}"])
numbers = st.sampled_from(["41793026727", "+41793026727", "61290001111", "${to}", "123"])
urls = st.sampled_from(
    [
        "https://old.example/a",
        "https://old.example/${lang}",
        "https://routing.example-telecom.hr/q?l=${lang_Meaning}",
        "https://orders.nordlicht-outdoor.example/api/${orderNumber}",
        "${baseUrl}/x",
    ]
)
header_names = st.sampled_from(["Accept", "accept", "X-Api-Version", "x-api-version", "X-Lang"])
languages = st.sampled_from(["en", "en-gb", "EN-GB", "hr", "de"])
ids = st.integers(1, 99)


def obj(required: dict[str, Any], **optional: Any) -> st.SearchStrategy[dict[str, Any]]:
    """An object: the required keys, then any of the optional ones."""
    return st.fixed_dictionaries(required, optional=optional)


def reordered(item: tuple[dict[str, Any], int]) -> dict[str, Any]:
    d, turn = item
    keys = list(d)
    keys = keys[turn // 2 % len(keys) :] + keys[: turn // 2 % len(keys)] if keys else keys
    return {key: d[key] for key in (reversed(keys) if turn % 2 else keys)}


def shuffled(strategy: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """The same objects with their keys rotated and maybe reversed (rules must keep any order)."""
    return st.tuples(strategy, st.integers(0, 9)).map(reordered)


say = obj(
    {"say": texts},
    options=obj(
        {},
        language=languages,
        voice=obj({}, name=st.sampled_from(["Hans", "Joanna"]), gender=st.just("male")),
        speechRate=st.sampled_from([1, 1.0, 1.1]),
    ),
    actionId=ids,
)
send_sms = obj({"sendSms": obj({"to": numbers, "text": texts}, **{"from": senders})}, actionId=ids)
call_api = obj(
    {
        "request": urls,
        "options": obj(
            {"method": st.sampled_from(["GET", "POST"])},
            headers=st.dictionaries(header_names, texts, max_size=3),
            body=st.one_of(texts, st.dictionaries(names, texts, max_size=2)),
            collectResponse=st.booleans(),
        ),
    }
)
audio = obj({"type": st.just("URL"), "fileUrl": urls})
dial = obj(
    {"dial": numbers},
    options=obj(
        {},
        senderId=numbers,
        customRingback=obj({"ringingAudio": audio}, failedAudio=audio),
        maxCallDuration=ids,
    ),
)
dial_to_many = obj(
    {
        "dialToMany": st.lists(
            st.one_of(
                obj({"number": numbers}),
                obj({"numbers": st.lists(numbers, min_size=1, max_size=3).map(", ".join)}),
            ),
            min_size=1,
            max_size=3,
        )
    },
    options=obj({}, senderId=numbers, parallel=st.booleans()),
)
play = obj({"playFromUrl": urls}, actionId=ids)
LEAVES = st.one_of(
    shuffled(say),
    send_sms,
    shuffled(call_api),
    shuffled(dial),
    dial_to_many,
    play,
    obj({"collectInto": names}, options=obj({}, mappedValues=st.just({"1": "lang"}))),
    obj({"capture": names, "timeout": st.just(5)}),
    obj({"setVariable": names, "value": texts}),
    obj({"goTo": ids}, options=obj({}, countVariable=names, goToLimit=st.just(3))),
    obj({"record": ids}, options=obj({}, identifier=texts)),
    obj({"playFromRecording": texts}),
    obj({"pause": st.sampled_from([1, 1.5])}),
    st.sampled_from(["hangup", "machineDetection"]),
    st.sampled_from(
        [
            {"sendSms": "not an object"},
            {"say": "x", "options": ["not", "an", "object"]},
            {"say": "x", "options": {"voice": "Hans"}},
            {"request": 1, "options": {"headers": ["x"]}},
            {"request": "https://old.example", "options": {"headers": None}},
            {"say": "x", "options": None},  # null containers count as absent (issue 11.3)
            {"say": "x", "options": {"voice": None, "language": "en"}},
            {"dialToMany": "41793026727"},
            {"dial": None},
            {"unknownAction": {"say": "${lang}"}},
            17,
        ]
    ),
)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    branch = st.lists(children, max_size=3)
    return st.one_of(
        shuffled(obj({"if": texts, "then": branch}, **{"else": branch})),
        obj(
            {
                "switch": names,
                "case": st.dictionaries(st.sampled_from(["1", "x", "__default"]), branch),
            }
        ),
        obj({"for-each": names, "in": texts, "do": branch}, delimiter=st.just(";")),
        obj({"while": texts, "do": branch}),
        obj({"repeat": branch, "while": texts}),
        obj({"repeat": branch, "until": texts}),
        obj(
            {"answeringMachineDetection": st.just(True), "onMachineDetected": branch},
            onDetecting=branch,
            onTimeout=branch,
            onHumanDetected=branch,
        ),
    )


#: What each rule targets: every generated scenario for a rule holds some, at any depth.
TARGETS: dict[str, st.SearchStrategy[Any]] = {
    "sms-sender": send_sms,
    "sms-text": send_sms,
    "say-text": say,
    "voice": say,
    "url": st.one_of(call_api, play, dial),
    "number": st.one_of(dial, dial_to_many, send_sms),
    "header": call_api,
    "variable": LEAVES,
    "rename": LEAVES,
    "set": LEAVES,
}


@functools.cache
def scenarios_for(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Scenarios where about half the actions, at any depth, are targets of rule ``name``."""
    # Drawing the strategy rather than one_of: one_of would flatten LEAVES, making targets rare.
    leaf = st.sampled_from([TARGETS[name], LEAVES]).flatmap(lambda strategy: strategy)
    actions = st.recursive(leaf, containers, max_leaves=8)
    return obj(
        {"name": texts, "script": st.lists(actions, min_size=1, max_size=4)},
        description=texts,
        notifyUrl=urls,
        id=st.just("ABC"),
    )


# --- generated parameters, per rule -----------------------------------------------------------

find_texts = st.one_of(
    st.sampled_from(FIND_BITS),
    st.lists(st.sampled_from(BITS), min_size=1, max_size=3).map("".join),
)
URL_BITS = ["old.example", "https://", "example", "${lang}", "/a", "routing.", "?l=", "x"]
url_texts = st.lists(st.sampled_from(URL_BITS), min_size=1, max_size=2).map("".join)
PATTERNS = [r"Bank", r"a+", r"\$\{lang\}", r"[ab]", r"^Bank", r"\w+", r"(a)(b)?", r"B(an)k"]
TEMPLATES = ["X", r"<\g<0>>", "Bank AG", "${lang}", "a", r"\1", r"\1\1"]
find_replace = st.one_of(
    st.fixed_dictionaries({"find": find_texts, "replace": find_texts}),
    st.sampled_from(
        [
            {"find": find, "replace": template, "regex": True}
            for find in PATTERNS
            for template in TEMPLATES
            if "(" in find or "\\1" not in template
        ]
    ),
)
SET_TARGETS = [
    ("say", "options.language"),
    ("say", "options.voice.name"),
    ("say", "x.y"),
    ("sendSms", "sendSms.from"),
    ("request", 'options.headers["X Y"]'),
    ("request", "options"),
    ("dial", "options.senderId"),
    ("dialToMany", "dialToMany[0].number"),
    ("for-each", "in"),
    ("if", "actionId"),
    ("pause", "pause"),
    ("setVariable", "value"),
    ("whileDo", "while"),
    ("repeatWhile", "while"),
    ("switch", "actionId"),
    ("playFromUrl", "options.loopCount"),
]
SET_PATHS = [path for _, path in SET_TARGETS]
WHERES = ['options.language="en"', "actionId=1", "options=null", "x=null", "pause=1"]


def set_params(target: tuple[str, str], value: Any, where: str | None) -> Params:
    params = {"action": target[0], "path": target[1], "value": value}
    return params if where is None else {**params, "where": where}


JSON_VALUES = [1, 1.0, "x", "en-gb", None, True, {"a": 1}, [1, "x"]]
PARAMS: dict[str, st.SearchStrategy[Params]] = {
    "sms-sender": st.fixed_dictionaries(
        {"new": st.sampled_from(["Nordlicht", "AuroraPay", "4930123456", "+4930123456"])},
        optional={"old": senders},
    ),
    "sms-text": find_replace,
    "say-text": find_replace,
    "url": st.one_of(
        st.fixed_dictionaries({"find": url_texts, "replace": url_texts}),
        st.sampled_from(
            [
                {"find": r"https://([a-z]+)\.example", "replace": r"https://\1.example.org"},
                {"find": r"old\.(example)", "replace": r"new.\1", "regex": True},
            ]
        ),
    ),
    "voice": st.fixed_dictionaries(
        {},
        optional={
            "language": languages,
            "voice": st.sampled_from(["Hans", "Amy"]),
            "gender": st.sampled_from(["male", "FEMALE"]),
            "speech-rate": st.sampled_from([1.0, 0.9]),
            "only-language": languages,
        },
    ),
    "number": st.fixed_dictionaries(
        {
            "old": st.sampled_from(["41793026727", "+41793026727", "61290001111"]),
            "new": st.sampled_from(["41793026728", "+61290001111"]),
        }
    ),
    "header": st.fixed_dictionaries(
        {"name": header_names},
        optional={
            "value": st.sampled_from(["1", "2", "${lang}"]),
            "url": st.sampled_from(["old.", "q?"]),
        },
    ),
    "variable": st.fixed_dictionaries(
        {
            "old": st.sampled_from(["lang", "city", "orderNumber"]),
            "new": st.sampled_from(["language", "town", "lang2", "orderNumber"]),
        }
    ),
    "rename": st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(
                ["{name} (2026)", "{name}", "New {name}", "Fixed", "{description}", "{{x}} {name}"]
            ),
            "description": st.sampled_from(
                ["{description} (migrated)", "{name}: {description}", "Plain", "{description}"]
            ),
        },
    ),
    "set": st.builds(
        set_params,
        st.one_of(
            st.sampled_from(SET_TARGETS),
            st.tuples(st.sampled_from(SETTABLE_KINDS), st.sampled_from(SET_PATHS)),
        ),
        st.sampled_from(JSON_VALUES),
        st.none() | st.sampled_from(WHERES),
    ),
}  # fmt: skip


def test_every_rule_has_a_parameter_strategy() -> None:
    assert set(PARAMS) == set(CATALOGUE)


@functools.cache
def rule_and_params(name: str) -> st.SearchStrategy[Params]:
    rule = CATALOGUE[name]
    return PARAMS[name].filter(lambda params: rule.problems(params) == [])


# --- checks -----------------------------------------------------------------------------------


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def value_at(action: Any, field: str) -> Any:
    found = get_field(action, parse_path(field)[0]) if field else action
    return None if found is MISSING else found


def own_field_diffs(before: Any, after: Any, keys: Keys = ()) -> list[str]:
    """Paths of the fields that differ between two versions of one action (not its children).

    Also asserts that the keys both versions have are in the same order.
    """
    if isinstance(before, dict) and isinstance(after, dict):
        common = [key for key in before if key in after]
        assert common == [key for key in after if key in before], f"key order changed at {keys}"
        out = [path_text((*keys, key)) for key in before.keys() ^ after.keys()]
        for key in common:
            out += own_field_diffs(before[key], after[key], (*keys, key))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            d
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for d in own_field_diffs(b, a, (*keys, i))
        ]
    return [] if dumps(before) == dumps(after) else [path_text(keys)]


def without_children(action: Any) -> Any:
    """The action without its nested action arrays (they are compared as actions of their own)."""
    if not isinstance(action, dict):
        return action
    kind = action_kind(action)
    own = {key: value for key, value in action.items() if key not in nested_fields(kind)}
    if kind == SWITCH and isinstance(action.get("case"), dict):
        own["case"] = list(action["case"])  # the case values, not their branches
    return own


def covers(field: str, diff: str, before: Any) -> bool:
    """True when a change of ``field`` explains a difference at ``diff``.

    The field itself or anything inside it; or an object created on the way to it.
    """
    if diff == field or diff.startswith((field + ".", field + "[")):
        return True
    return field.startswith((diff + ".", diff + "[")) and value_at(before, diff) is None


def assert_local(before: Scenario, result: RuleResult) -> None:
    """Everything the changes do not name is unchanged, byte for byte; every change is real."""
    after = result.scenario
    by_action: dict[str, list[Change]] = {}
    for change in result.changes:
        by_action.setdefault(change.action_path, []).append(change)
        assert dumps(change.before) != dumps(change.after), change

    # Scenario fields.
    top = [c.field for c in by_action.pop("", [])]
    outside = {k: v for k, v in before.items() if k != "script"}
    outside_after = {k: v for k, v in after.items() if k != "script"}
    assert sorted(own_field_diffs(outside, outside_after)) == sorted(top)
    for change in result.changes:
        if not change.action_path:
            assert value_at(before, change.field) == change.before
            assert value_at(after, change.field) == change.after

    # Actions: the same tree, and each action differs exactly in the fields its changes name.
    old = {loc.path: loc.action for loc in walk(before.get("script"))}
    new = {loc.path: loc.action for loc in walk(after.get("script"))}
    assert list(old) == list(new)
    assert set(by_action) <= set(old)
    for path, action in old.items():
        changes = by_action.get(path, [])
        if not any(p == path or p.startswith(path + ".") for p in by_action):
            assert dumps(action) == dumps(new[path]), f"untouched action {path} changed"
        diffs = own_field_diffs(without_children(action), without_children(new[path]))
        fields = [c.field for c in changes]
        for diff in diffs:
            assert any(covers(f, diff, action) for f in fields), (path, diff)
        for change in changes:
            assert dumps(value_at(action, change.field)) == dumps(change.before), change
            assert dumps(value_at(new[path], change.field)) == dumps(change.after), change
    if not result.changes:
        assert dumps(after) == dumps(before)


def applied(body: Scenario, name: str, params: Params) -> RuleResult | None:
    """The rule's result, or None when it refused this scenario (input left as it was)."""
    snapshot = dumps(body)
    try:
        return apply_rule(body, CATALOGUE[name], params)
    except RuleError:
        return None
    finally:
        assert dumps(body) == snapshot, "the input was mutated"


RULES = sorted(PARAMS)


@pytest.mark.parametrize("name", RULES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_idempotent_local_and_pure(name: str, data: st.DataObject) -> None:
    """Applied to its own output the rule changes nothing; what it does not name is untouched."""
    body = data.draw(scenarios_for(name), label="scenario")
    params = data.draw(rule_and_params(name), label="params")
    first = applied(body, name, params)
    event("refused" if first is None else "changed" if first.changes else "unchanged")
    if first is None:
        return  # refused (RuleError): nothing changed, nothing to repeat
    assert all(change.rule == name for change in first.changes)
    assert_local(body, first)
    second = applied(first.scenario, name, params)
    assert second is not None
    assert second.changes == []
    assert dumps(second.scenario) == dumps(first.scenario)


def test_regression_set_null_on_the_loop_condition() -> None:
    """A CI draw that failed: ``null`` removed ``while`` and the loop stopped being an action."""
    body = {"name": "", "script": [{"while": "", "do": ["hangup"]}]}
    assert CATALOGUE["set"].problems(set_params(("whileDo", "while"), None, None)) != []
    params = set_params(("whileDo", "while"), "${i < 3}", None)
    first = applied(body, "set", params)
    assert first is not None
    assert [str(change) for change in first.changes] == ["script[0].while:  → ${i < 3}"]
    assert_local(body, first)
    assert apply_rule(first.scenario, CATALOGUE["set"], params).changes == []


def test_property_draws_are_derandomized_exactly_in_ci() -> None:
    # tests/conftest.py picks the profile; the settings above inherit it.
    ci = bool(os.environ.get("CI"))
    default = settings.default
    assert default is not None
    assert PROPERTY_SETTINGS.derandomize is ci
    assert default.derandomize is ci


# --- validity ---------------------------------------------------------------------------------

validate = pytest.importorskip("transforms.validate").validate_scenario

EXAMPLES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SEED.glob("*.json"))]
# The kinds the examples lack: Dial with ringback, Dial To Many with classic numbers, repeat loops,
# machine detection (both), Play From Upload/TTY, Dial To Conversations.
EXAMPLES.append(
    {
        "name": "Callback desk",
        "description": "Composed for the rule tests",
        "notifyUrl": "https://hooks.old.example/ivr",
        "script": [
            {"setVariable": "i", "value": "0"},
            {
                "answeringMachineDetection": True,
                "onMachineDetected": [
                    {"say": "Bank closed", "options": {"language": "en"}},
                    "hangup",
                ],
                "onHumanDetected": [{"say": "Hello from Bank", "actionId": 1}],
            },
            {
                "repeat": [
                    {"setVariable": "i", "value": "${i + 1}"},
                    {"playTty": "Call ${lang}", "options": {"loopCount": 1}},
                ],
                "while": "${i < 2}",
            },
            {"repeat": [{"playFromUpload": "5b1f0c7e"}], "until": "${i == 3}"},
            {"sendSms": {"from": "Nordlicht", "to": "41793026727", "text": "Bank: ${i}"}},
            {"request": "https://crm.old.example/v1/${i}", "options": {"method": "GET"}},
            {
                "dialToMany": [{"numbers": "41793026727,41793026728"}, {"number": "+41793026729"}],
                "options": {"senderId": "41793026727"},
            },
        ],
    }
)
EXAMPLES.append(
    {
        "name": "Transfer",
        "script": [
            {"say": "Connecting", "options": {"language": "en-gb"}},
            {
                "dial": "41793026727",
                "options": {
                    "senderId": "+41793026728",
                    "customRingback": {
                        "ringingAudio": {"type": "URL", "fileUrl": "https://old.example/r.mp3"},
                        "failedAudio": {"type": "URL", "fileUrl": "https://old.example/f.mp3"},
                    },
                },
            },
        ],
    }
)

#: Parameters that keep a valid scenario valid: new values the API accepts.
VALID_PARAMS: dict[str, st.SearchStrategy[Params]] = {
    **{name: PARAMS[name] for name in ("sms-sender", "voice", "header", "variable")},
    # "{description}" alone would make a blank name where there is no description (next test).
    "rename": PARAMS["rename"].filter(lambda params: params.get("name") != "{description}"),
    "sms-text": find_replace,
    "say-text": find_replace,
    "url": st.sampled_from(
        [
            {"find": "old.example", "replace": "new.example"},
            {"find": "routing.example-telecom.hr", "replace": "routing.example-telecom.eu"},
            {"find": "orders.nordlicht-outdoor.example", "replace": "api.nordlicht.example"},
            {"find": "/api/", "replace": "/api/v2/"},
            {"find": r"https://(\w+)\.", "replace": r"https://\1-eu.", "regex": True},
        ]
    ),
    "number": st.fixed_dictionaries(
        {
            "old": st.sampled_from(["41793026727", "+41793026728", "61290000000", "61412345678"]),
            "new": st.sampled_from(["41793026799", "+61290009999"]),
        }
    ),
    "set": st.sampled_from(
        [
            {"action": "say", "path": "options.language", "value": "de"},
            {"action": "say", "path": "options.speechRate", "value": 1.2, "where": "options=null"},
            {"action": "sendSms", "path": "sendSms.from", "value": "NewBrand"},
            {"action": "request", "path": "options.headers.X-Api-Version", "value": "2"},
            {"action": "pause", "path": "pause", "value": 2},
            {"action": "dialToMany", "path": "options.parallel", "value": False},
            {"action": "collectInto", "path": "options.timeout", "value": 8},
        ]
    ),
}  # fmt: skip


def test_the_validity_examples_are_valid() -> None:
    for body in EXAMPLES:
        assert validate(body) == [], body["name"]


@pytest.mark.parametrize("name", RULES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_valid_stays_valid(name: str, data: st.DataObject) -> None:
    body = data.draw(st.sampled_from(EXAMPLES), label="scenario")
    params = data.draw(VALID_PARAMS[name].filter(lambda p: CATALOGUE[name].problems(p) == []))
    result = applied(body, name, params)
    if result is not None:
        event("changed" if result.changes else "unchanged")
        assert validate(result.scenario) == []


def test_a_blank_name_from_a_template_is_reported_invalid() -> None:
    result = apply_rule(
        {"name": "Sales", "script": ["hangup"]}, CATALOGUE["rename"], {"name": "{description}"}
    )
    assert [str(c) for c in result.changes] == ["name: Sales → "]
    assert [e.path for e in validate(result.scenario)] == ["name"]


@pytest.mark.parametrize(
    ("params", "message_part"),
    [
        ({"action": "say", "path": "options.speechRate", "value": 9}, "speechRate"),
        ({"action": "pause", "path": "pause", "value": 0}, "pause"),
        ({"action": "sendSms", "path": "sendSms.from", "value": "x"}, "sendSms.from"),
        ({"action": "dialToMany", "path": "dialToMany[0].number", "value": "0"}, "number"),
        ({"action": "request", "path": "options.method", "value": "FETCH"}, "method"),
    ],
)
def test_a_bad_value_is_reported_invalid_at_the_changed_path(
    params: Params, message_part: str
) -> None:
    for body in EXAMPLES:
        result = apply_rule(body, CATALOGUE["set"], params)
        errors = {error.path for error in validate(result.scenario)}
        assert errors == {change.path for change in result.changes}, body["name"]
        assert all(message_part in path for path in errors)


# --- third-party rules ------------------------------------------------------------------------

PLUGIN = '''
from transforms.rules.base import Change, Param, Rule, rule


def _shout(scenario, params):
    """Upper-case the scenario name."""
    before = scenario.get("name")
    if not isinstance(before, str) or before == before.upper():
        return []
    scenario["name"] = before.upper()
    return [Change("", "name", before, scenario["name"], "shout")]


SHOUT = Rule("shout", _shout, (), _shout.__doc__)


@rule("whisper", [Param("suffix", "text", False, "appended", "...")])
def whisper(scenario, params):
    """Lower-case the scenario name."""
    return []
'''


def test_a_third_party_rule_joins_the_catalogue_through_the_entry_point_group(
    rule_plugin: Callable[[str, str, dict[str, str]], None],
) -> None:
    from migrate.plugins import rule_catalogue

    rule_plugin(
        "ivr_migrate_shout",
        PLUGIN,
        {"shout": "ivr_migrate_shout:SHOUT", "whisper": "ivr_migrate_shout"},
    )
    catalogue = rule_catalogue()
    assert {"shout", "whisper", "sms-sender"} <= set(catalogue)
    assert catalogue["shout"].summary == "Upper-case the scenario name."
    assert catalogue["whisper"].param("suffix") is not None
    result = catalogue.apply({"name": "Sales", "script": []}, [("shout", {})])
    assert result.scenario["name"] == "SALES"
    assert [str(c) for c in result.changes] == ["name: Sales → SALES"]
    assert rule_catalogue() is catalogue  # entry points are read once
    assert "shout" not in builtin_catalogue()  # the built-in catalogue is not a registry


def test_a_plugin_that_names_no_rule_is_refused_naming_the_entry_point(
    rule_plugin: Callable[[str, str, dict[str, str]], None],
) -> None:
    from migrate.errors import ConfigError
    from migrate.plugins import rule_catalogue

    rule_plugin("ivr_migrate_odd", "NOT_A_RULE = 42\n", {"odd": "ivr_migrate_odd:NOT_A_RULE"})
    with pytest.raises(ConfigError) as raised:
        rule_catalogue()
    assert str(raised.value) == (
        "plugin 'odd' (ivr_migrate_odd:NOT_A_RULE) names int, not a rule, a list of rules or a "
        "module defining rules: fix its ivr_migrate.rules entry point"
    )


def test_a_plugin_rule_may_not_take_a_built_in_name(
    rule_plugin: Callable[[str, str, dict[str, str]], None],
) -> None:
    from migrate.errors import ConfigError
    from migrate.plugins import rule_catalogue

    source = PLUGIN.replace('Rule("shout"', 'Rule("url"')
    rule_plugin("ivr_migrate_clash", source, {"clash": "ivr_migrate_clash:SHOUT"})
    with pytest.raises(ConfigError, match="two different rules are named 'url'"):
        rule_catalogue()
