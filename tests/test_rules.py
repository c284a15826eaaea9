"""Before/after cases of the built-in rules, on the bundled examples and small inline scenarios."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from transforms.rules.base import Catalogue, Params, RuleError, apply_rule
from transforms.rules.catalogue import builtin_catalogue

RULES = builtin_catalogue()

SEED = Path(__file__).resolve().parents[1] / "migrate" / "seed"


def seed(stem: str) -> dict[str, Any]:
    (path,) = SEED.glob(f"{stem}-*.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def scenario(*script: Any, **fields: Any) -> dict[str, Any]:
    return {"name": "Test", "description": "Inline", "script": list(script), **fields}


def changes_of(body: dict[str, Any], rule: str, params: Params) -> list[tuple[str, Any, Any]]:
    """``(full path, before, after)`` of every change; also checks the rule name and idempotence."""
    result = apply_rule(body, RULES[rule], params)
    assert all(change.rule == rule for change in result.changes)
    again = apply_rule(result.scenario, RULES[rule], params)
    assert again.changes == [], f"{rule} is not idempotent: {again.changes}"
    return [(change.path, change.before, change.after) for change in result.changes]


def problems_of(rule: str, params: Params) -> list[tuple[str, str]]:
    return RULES[rule].problems(params)


# --- sms-sender -------------------------------------------------------------------------------

SMS_09_THEN = "script[4].if.then[1].sendSms.from"
SMS_09_ELSE = "script[4].if.else[1].sendSms.from"


@pytest.mark.parametrize(
    ("stem", "params", "expected"),
    [
        (
            "09",
            {"new": "Aurora"},
            [(SMS_09_THEN, "AuroraBank", "Aurora"), (SMS_09_ELSE, "4930123456", "Aurora")],
        ),
        (
            "09",
            {"new": "AuroraPay", "old": "4930123456"},
            [(SMS_09_ELSE, "4930123456", "AuroraPay")],
        ),
        (
            "09",
            {"new": "AuroraPay", "old": "+4930123456"},
            [(SMS_09_ELSE, "4930123456", "AuroraPay")],
        ),
        (
            "09",
            {"new": "AuroraPay", "old": "AuroraBank"},
            [(SMS_09_THEN, "AuroraBank", "AuroraPay")],
        ),
        ("09", {"new": "AuroraPay", "old": "aurorabank"}, []),
        (
            "03",
            {"new": "NordlichtOD", "old": "Nordlicht"},
            [("script[3].if.then[2].sendSms.from", "Nordlicht", "NordlichtOD")],
        ),
        (
            "11",
            {"new": "SakuraWthr"},
            [("script[3].sendSms.from", "SakuraWx", "SakuraWthr")],
        ),
        ("06", {"new": "HeliosSolar"}, []),
    ],
)
def test_sms_sender_on_examples(stem: str, params: Params, expected: list[Any]) -> None:
    assert changes_of(seed(stem), "sms-sender", params) == expected


def test_sms_sender_adds_a_missing_from_only_without_old() -> None:
    body = scenario({"sendSms": {"to": "${from}", "text": "Hi"}, "actionId": 1})
    result = apply_rule(body, RULES["sms-sender"], {"new": "NewBrand"})
    assert result.scenario["script"][0] == {
        "sendSms": {"to": "${from}", "text": "Hi", "from": "NewBrand"},
        "actionId": 1,
    }
    assert [str(c) for c in result.changes] == ["script[0].sendSms.from: null → NewBrand"]
    assert (
        apply_rule(body, RULES["sms-sender"], {"new": "NewBrand", "old": "OldBrand"}).changes == []
    )


def test_sms_sender_can_drop_the_plus_of_a_numeric_sender() -> None:
    body = scenario(sms("+4930123456"), sms("4930123456"))
    params = {"old": "+4930123456", "new": "4930123456"}
    assert problems_of("sms-sender", params) == []
    assert changes_of(body, "sms-sender", params) == [
        ("script[0].sendSms.from", "+4930123456", "4930123456")
    ]
    assert problems_of("sms-sender", {"old": "Brand", "new": "Brand"}) == [
        ("new", "old and new are the same sender: nothing would change")
    ]


def test_sms_sender_leaves_variable_senders_unless_old_names_them() -> None:
    body = scenario({"sendSms": {"from": "${brand}", "to": "${from}", "text": "Hi"}})
    assert changes_of(body, "sms-sender", {"new": "NewBrand"}) == []
    assert changes_of(body, "sms-sender", {"new": "NewBrand", "old": "${brand}"}) == [
        ("script[0].sendSms.from", "${brand}", "NewBrand")
    ]


# --- sms-text / say-text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "rule", "params", "expected"),
    [
        (
            "09",
            "sms-text",
            {"find": "Aurora Bank", "replace": "Aurora Bank AG"},
            [
                (
                    "script[4].if.then[1].sendSms.text",
                    "Aurora Bank: telephone banking login at ${answerTime}. Not you? "
                    "Call +49 30 1234 5678.",
                    "Aurora Bank AG: telephone banking login at ${answerTime}. Not you? "
                    "Call +49 30 1234 5678.",
                ),
                (
                    "script[4].if.else[1].sendSms.text",
                    "Aurora Bank: 3 wrong PIN attempts on telephone banking. "
                    "Access is locked for 1 hour.",
                    "Aurora Bank AG: 3 wrong PIN attempts on telephone banking. "
                    "Access is locked for 1 hour.",
                ),
            ],
        ),
        (
            "09",
            "sms-text",
            {"find": r"(\d) wrong PIN", "replace": r"\1 incorrect PIN", "regex": True},
            [
                (
                    "script[4].if.else[1].sendSms.text",
                    "Aurora Bank: 3 wrong PIN attempts on telephone banking. "
                    "Access is locked for 1 hour.",
                    "Aurora Bank: 3 incorrect PIN attempts on telephone banking. "
                    "Access is locked for 1 hour.",
                ),
            ],
        ),
        # "order" only occurs inside ${orderNumber}: variable references are protected.
        ("03", "sms-text", {"find": "order", "replace": "purchase"}, []),
        (
            "03",
            "sms-text",
            {"find": "Order ${orderNumber}", "replace": "Your order ${orderNumber}"},
            [
                (
                    "script[3].if.then[2].sendSms.text",
                    "Order ${orderNumber}: track your parcel at ${trackingUrl}",
                    "Your order ${orderNumber}: track your parcel at ${trackingUrl}",
                )
            ],
        ),
        (
            "11",
            "sms-text",
            {"find": "https://sakura-weather.example/", "replace": "https://wx.sakura.example/"},
            [
                (
                    "script[3].sendSms.text",
                    "本日の天気予報: https://sakura-weather.example/today 🌤",
                    "本日の天気予報: https://wx.sakura.example/today 🌤",
                )
            ],
        ),
        (
            "01",
            "say-text",
            {"find": "Zagrebu", "replace": "Splitu"},
            [
                (
                    'script[2].switch.case["1"][0].say',
                    "Hvala. Spajamo vas s našim timom u Zagrebu.",
                    "Hvala. Spajamo vas s našim timom u Splitu.",
                )
            ],
        ),
        (
            "03",
            "say-text",
            {"find": "Nordlicht Outdoor", "replace": "Nordlicht"},
            [
                (
                    "script[0].say",
                    "Welcome to Nordlicht Outdoor. Please enter your eight digit order number.",
                    "Welcome to Nordlicht. Please enter your eight digit order number.",
                )
            ],
        ),
        # say-text does not touch SMS text and vice versa.
        ("09", "say-text", {"find": "Aurora Bank:", "replace": "Aurora:"}, []),
    ],
)
def test_text_rules_on_examples(stem: str, rule: str, params: Params, expected: list[Any]) -> None:
    assert changes_of(seed(stem), rule, params) == expected


@pytest.mark.parametrize(
    ("text", "params", "after"),
    [
        ("Bank and Bank", {"find": "Bank", "replace": "Bank AG"}, "Bank AG and Bank AG"),
        ("Bank AG and Bank", {"find": "Bank", "replace": "Bank AG"}, "Bank AG and Bank AG"),
        ("The Bank AG", {"find": "Bank", "replace": "The Bank"}, "The Bank AG"),
        ("a  b   c", {"find": "  ", "replace": " "}, "a b c"),
        ("aaaa", {"find": "aa", "replace": "a"}, "a"),
        ("Call ${city} now", {"find": "city", "replace": "town"}, "Call ${city} now"),
        ("Call ${city} now", {"find": "${city}", "replace": "${town}"}, "Call ${town} now"),
        (
            "price 12 and 345",
            {"find": r"\d+", "replace": r"<\g<0>>", "regex": True},
            "price <12> and <345>",
        ),
        ("Dear Ana", {"find": "^Dear", "replace": "Dear Ms", "regex": True}, "Dear Ms Ana"),
        ("x", {"find": "y", "replace": "z"}, "x"),
    ],
)
def test_say_text_replacement(text: str, params: Params, after: str) -> None:
    body = scenario({"say": text})
    expected = [] if after == text else [("script[0].say", text, after)]
    assert changes_of(body, "say-text", params) == expected


@pytest.mark.parametrize(
    ("params", "column", "fragment"),
    [
        ({"find": "(unclosed", "replace": "x", "regex": True}, "find", "not a valid regular"),
        ({"find": "a*", "replace": "x", "regex": True}, "find", "matches empty text"),
        ({"find": "(a)", "replace": r"\2", "regex": True}, "replace", "refers to a group"),
        ({"find": "(a)", "replace": r"\g<nope>", "regex": True}, "replace", "refers to a group"),
        ({"find": "same", "replace": "same"}, "replace", "the same text"),
    ],
)
def test_find_replace_checks(params: Params, column: str, fragment: str) -> None:
    for rule in ("sms-text", "say-text", "url"):
        ((param, message),) = problems_of(rule, params)
        assert param == column
        assert fragment in message
    assert problems_of("say-text", {"find": "(a)", "replace": r"\1!", "regex": True}) == []


def test_a_replacement_that_never_settles_is_refused() -> None:
    # ab → ba moves every "a" right until none is left before a "b": stable, however long.
    text = "a" * 30 + "b"
    result = apply_rule(scenario({"say": text}), RULES["say-text"], {"find": "ab", "replace": "ba"})
    assert result.scenario["script"][0]["say"] == "b" + "a" * 30
    # A pattern/template pair that keeps growing never settles: the row fails, nothing is sent.
    params: Params = {"find": r"(a+)b", "replace": r"\1\1bb", "regex": True}
    with pytest.raises(RuleError, match="never settles"):
        apply_rule(scenario({"say": "ab"}), RULES["say-text"], params)


# --- voice ------------------------------------------------------------------------------------


def test_voice_only_language_on_example() -> None:
    params = {"voice": "Marlene", "gender": "female", "only-language": "de"}
    assert changes_of(seed("01"), "voice", params) == [
        ('script[2].switch.case["2"][0].options.voice.name', "Hans", "Marlene"),
        ('script[2].switch.case["2"][0].options.voice.gender', "male", "female"),
    ]


def test_voice_creates_options_and_keeps_key_order() -> None:
    body = scenario(
        {"say": "Hi", "actionId": 1},
        {"say": "Hi", "options": {"speechRate": 1, "language": "en"}},
        {"say": "Hi", "options": {"voice": {"gender": "male"}}},
    )
    params = {"language": "en-gb", "voice": "Amy", "speech-rate": 1.0}
    result = apply_rule(body, RULES["voice"], params)
    assert result.scenario["script"] == [
        {
            "say": "Hi",
            "actionId": 1,
            "options": {"language": "en-gb", "voice": {"name": "Amy"}, "speechRate": 1.0},
        },
        {"say": "Hi", "options": {"speechRate": 1, "language": "en-gb", "voice": {"name": "Amy"}}},
        {
            "say": "Hi",
            "options": {
                "voice": {"gender": "male", "name": "Amy"},
                "language": "en-gb",
                "speechRate": 1.0,
            },
        },
    ]
    assert [str(c) for c in result.changes] == [
        "script[0].options.language: null → en-gb",
        "script[0].options.voice.name: null → Amy",
        "script[0].options.speechRate: null → 1.0",
        # speechRate 1 already equals 1.0: untouched, and listed in document order.
        "script[1].options.language: en → en-gb",
        "script[1].options.voice.name: null → Amy",
        "script[2].options.voice.name: null → Amy",
        "script[2].options.language: null → en-gb",
        "script[2].options.speechRate: null → 1.0",
    ]


def test_voice_only_language_ignores_case_and_says_without_language() -> None:
    body = scenario({"say": "a", "options": {"language": "en-GB"}}, {"say": "b"})
    assert changes_of(body, "voice", {"voice": "Amy", "only-language": "en-gb"}) == [
        ("script[0].options.voice.name", None, "Amy")
    ]


def test_voice_checks() -> None:
    assert problems_of("voice", {"language": "english"}) == [
        ("language", "'english' is not a language code: write e.g. en, en-gb or pt-br")
    ]
    assert problems_of("voice", {"voice": "Amy", "only-language": "en-gb"}) == []
    assert problems_of("voice", {"only-language": "en"})[0][1].startswith("rule voice needs")


# --- url --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "params", "expected"),
    [
        (
            "01",
            {"find": "routing.example-telecom.hr", "replace": "routing.example-telecom.eu"},
            [
                (
                    "script[3].request",
                    "https://routing.example-telecom.hr/api/v2/queues/${queue}/enqueue",
                    "https://routing.example-telecom.eu/api/v2/queues/${queue}/enqueue",
                )
            ],
        ),
        (
            "03",
            {
                "find": "https://orders.nordlicht-outdoor.example/api/",
                "replace": "https://api.nordlicht.example/v2/",
            },
            [
                (
                    "script[2].request",
                    "https://orders.nordlicht-outdoor.example/api/orders/${orderNumber}/status",
                    "https://api.nordlicht.example/v2/orders/${orderNumber}/status",
                )
            ],
        ),
        (
            "11",
            {
                "find": r"https://media\.([a-z-]+)\.example/",
                "replace": r"https://cdn.\1.example/",
                "regex": True,
            },
            [
                (
                    "script[1].for-each.do[1].playFromUrl",
                    "https://media.sakura-weather.example/forecast/${forecastDate}/${city}.mp3",
                    "https://cdn.sakura-weather.example/forecast/${forecastDate}/${city}.mp3",
                )
            ],
        ),
        # The SMS text holds a URL too, but it is not a URL field.
        ("11", {"find": "sakura-weather.example/today", "replace": "x.example/today"}, []),
    ],
)
def test_url_on_examples(stem: str, params: Params, expected: list[Any]) -> None:
    assert changes_of(seed(stem), "url", params) == expected


def test_url_reaches_ringback_and_notify_url() -> None:
    ringback = {
        "ringingAudio": {"type": "URL", "fileUrl": "https://old.example/ring.mp3"},
        "failedAudio": {"type": "URL", "fileUrl": "https://old.example/failed.mp3"},
    }
    body = {
        "name": "T",
        "notifyUrl": "https://old.example/notify",
        "script": [{"dial": "41793026727", "options": {"customRingback": ringback}}],
    }
    assert changes_of(body, "url", {"find": "old.example", "replace": "new.example"}) == [
        ("notifyUrl", "https://old.example/notify", "https://new.example/notify"),
        (
            "script[0].options.customRingback.ringingAudio.fileUrl",
            "https://old.example/ring.mp3",
            "https://new.example/ring.mp3",
        ),
        (
            "script[0].options.customRingback.failedAudio.fileUrl",
            "https://old.example/failed.mp3",
            "https://new.example/failed.mp3",
        ),
    ]
    body["notifyUrl"] = body.pop("notifyUrl")  # after script now: listed last
    paths = [p for p, _, _ in changes_of(body, "url", {"find": "old.", "replace": "new."})]
    assert paths[-1] == "notifyUrl"


def test_url_result_that_is_not_a_url_is_reported_by_validation() -> None:
    validate = pytest.importorskip("transforms.validate").validate_scenario
    result = apply_rule(seed("06"), RULES["url"], {"find": "https://cdn.", "replace": "cdn."})
    assert [e.path for e in validate(result.scenario)] == ["script[1].playFromUrl"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (
            {"find": "https://", "replace": "not a url"},
            "find 'https://' is a URL scheme, so replace must be one too, followed by the start "
            "of a literal host if any (e.g. https://eu-), not 'not a url'",
        ),
        ({"find": "http://", "replace": "https:// x"}, "(e.g. https://), not 'https:// x'"),
        ({"find": "https://", "replace": "https://${env}."}, "not 'https://${env}.'"),
        (
            {"find": "https://old-crm.example.com", "replace": "crm.example.com"},
            "find 'https://old-crm.example.com' is a URL, so replace must be one too: "
            "'crm.example.com' is not an http(s) URL: start it with https://",
        ),
        (
            {"find": "HTTPS://old.example", "replace": "https://${host}"},
            "builds its host from a variable",
        ),
    ],
)
def test_url_refuses_a_replacement_that_is_not_a_url_where_find_is_one(
    params: Params, fragment: str
) -> None:
    ((column, message),) = problems_of("url", params)
    assert column == "replace" and fragment in message


@pytest.mark.parametrize(
    "params",
    [
        {"find": "https://", "replace": "https://eu-"},
        {"find": "https://", "replace": "http://"},
        {"find": "https://old.example", "replace": "https://new.example/${path}"},
        {"find": "https://old.example", "replace": "${url}"},
        {"find": "old.example", "replace": "new.example"},
        # Regular expressions are not judged from their text; validation checks each result.
        {"find": r"https://(\w+)\.", "replace": r"\1.", "regex": True},
    ],
)
def test_url_accepts_url_shaped_replacements(params: Params) -> None:
    assert problems_of("url", params) == []


# --- number -----------------------------------------------------------------------------------


def test_number_on_example() -> None:
    assert changes_of(seed("06"), "number", {"old": "61290000000", "new": "+61290009999"}) == [
        ("script[2].options.senderId", "61290000000", "61290009999")
    ]
    assert changes_of(seed("06"), "number", {"old": "+61412345678", "new": "61412000000"}) == [
        ("script[2].dialToMany[3].number", "61412345678", "61412000000")
    ]


def test_number_everywhere_keeps_the_targets_style() -> None:
    body = scenario(
        {"sendSms": {"from": "41793026727", "to": "+41793026727", "text": "41793026727"}},
        {"sendSms": {"from": "Brand", "to": "${to}", "text": "x"}},
        {
            "dialToMany": [
                {"numbers": "41793026727, +41793026727,41700000000"},
                {"number": "+41793026727"},
            ],
            "options": {"senderId": "41793026727"},
        },
        {"dial": "+41793026727", "options": {"senderId": "417930267270"}},
    )
    assert changes_of(body, "number", {"old": "41793026727", "new": "41793026728"}) == [
        ("script[0].sendSms.to", "+41793026727", "+41793026728"),
        (
            "script[2].dialToMany[0].numbers",
            "41793026727, +41793026727,41700000000",
            "41793026728, +41793026728,41700000000",
        ),
        ("script[2].dialToMany[1].number", "+41793026727", "+41793026728"),
        ("script[2].options.senderId", "41793026727", "41793026728"),
        ("script[3].dial", "+41793026727", "+41793026728"),
    ]


def test_number_checks() -> None:
    assert problems_of("number", {"old": "+41793026727", "new": "41793026727"}) == [
        ("new", "old and new are the same number: nothing would change")
    ]


# --- header -----------------------------------------------------------------------------------


def call_api(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"method": "GET"}
    if headers is not None:
        options["headers"] = headers
    return {"request": url, "options": options}


def test_header_set_update_and_remove() -> None:
    body = scenario(
        call_api("https://crm.example/a", {"Accept": "application/json", "x-api-version": "1"}),
        call_api("https://crm.example/b"),
        call_api("https://other.example/c", {"X-API-VERSION": "1"}),
    )
    assert changes_of(body, "header", {"name": "X-Api-Version", "value": "2", "url": "crm."}) == [
        ("script[0].options.headers.x-api-version", "1", "2"),
        ("script[1].options.headers.X-Api-Version", None, "2"),
    ]
    result = apply_rule(body, RULES["header"], {"name": "X-Api-Version", "value": "2"})
    assert result.scenario["script"][1]["options"] == {
        "method": "GET",
        "headers": {"X-Api-Version": "2"},
    }
    assert changes_of(body, "header", {"name": "x-api-version"}) == [
        ("script[0].options.headers.x-api-version", "1", None),
        ("script[2].options.headers.X-API-VERSION", "1", None),
    ]
    removed = apply_rule(body, RULES["header"], {"name": "ACCEPT"}).scenario["script"][0]
    assert removed["options"]["headers"] == {"x-api-version": "1"}


def test_header_on_examples() -> None:
    assert changes_of(seed("03"), "header", {"name": "x-source", "value": "ivr-2026"}) == [
        ("script[2].options.headers.X-Source", "infobip-ivr", "ivr-2026")
    ]
    params = {"name": "Authorization", "value": "Bearer ${token}", "url": "voicemail."}
    assert [p for p, _, _ in changes_of(seed("04"), "header", params)] == [
        "script[6].if.then[0].options.headers.Authorization",
        "script[6].if.else[0].options.headers.Authorization",
    ]


@pytest.mark.parametrize(
    ("params", "column"),
    [
        ({"name": "X Api"}, "name"),
        ({"name": "X-Api:"}, "name"),
        ({"name": "X-Api", "value": "1\r\nEvil: yes"}, "value"),
    ],
)
def test_header_checks(params: Params, column: str) -> None:
    assert [param for param, _ in problems_of("header", params)] == [column]


# --- rename -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "params", "expected"),
    [
        ({"name": "Sales"}, {"name": "{name} (2026)"}, [("name", "Sales", "Sales (2026)")]),
        ({"name": "Sales (2026)"}, {"name": "{name} (2026)"}, []),
        (
            {"name": "Sales"},
            {"name": "2026 / {name} / {name}"},
            [("name", "Sales", "2026 / Sales / Sales")],
        ),
        ({"name": "Sales"}, {"name": "{{legacy}} {name}"}, [("name", "Sales", "{legacy} Sales")]),
        ({"name": "Sales"}, {"name": "Hotline"}, [("name", "Sales", "Hotline")]),
        ({"name": "Sales"}, {"description": "Was: {name}"}, [("description", None, "Was: Sales")]),
        (
            {"name": "Sales", "description": "EU line"},
            {"name": "{name} – {description}", "description": "{description} (migrated)"},
            [
                ("name", "Sales", "Sales – EU line (migrated)"),
                ("description", "EU line", "EU line (migrated)"),
            ],
        ),
    ],
)
def test_rename(fields: dict[str, Any], params: Params, expected: list[Any]) -> None:
    body = {**fields, "script": ["hangup"]}
    assert changes_of(body, "rename", params) == expected


def test_rename_on_example() -> None:
    assert changes_of(seed("06"), "rename", {"name": "{name} (2026)"}) == [
        ("name", "Sales hunt group", "Sales hunt group (2026)")
    ]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"name": "{title}"}, "unknown placeholder {title}"),
        ({"name": "{name.upper}"}, "unknown placeholder {name.upper}"),
        ({"name": "{name!r}"}, "unknown placeholder {name!r}"),
        ({"name": "{name:>20}"}, "unknown placeholder {name:>20}"),
        ({"name": "{}"}, "unknown placeholder {}"),
        ({"name": "{name"}, "not a valid template"),
        ({"name": "{description}", "description": "{name}"}, "refer to each other"),
    ],
)
def test_rename_checks(params: Params, fragment: str) -> None:
    ((_, message),) = problems_of("rename", params)
    assert fragment in message


# --- set --------------------------------------------------------------------------------------


def test_set_with_where_on_example() -> None:
    params = {
        "action": "say",
        "path": "options.language",
        "value": "hr-HR",
        "where": 'options.language="hr"',
    }
    assert changes_of(seed("01"), "set", params) == [
        ("script[0].options.language", "hr", "hr-HR"),
        ('script[2].switch.case["1"][0].options.language', "hr", "hr-HR"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"action": "for-each", "path": "delimiter", "value": ";"},
            [("script[0].delimiter", None, ";")],
        ),
        (
            {"action": "dialToMany", "path": "dialToMany[1].number", "value": "41700000002"},
            [("script[0].for-each.do[0].dialToMany[1].number", "41700000001", "41700000002")],
        ),
        ({"action": "dialToMany", "path": "dialToMany[5].number", "value": "41700000002"}, []),
        (
            {"action": "request", "path": 'options.headers["X Weird"]', "value": "1"},
            [('script[0].for-each.do[1].options.headers["X Weird"]', None, "1")],
        ),
        ({"action": "request", "path": "options.method.deep", "value": "1"}, []),
        (
            {
                "action": "say",
                "path": "options",
                "value": {"language": "en"},
                "where": "options=null",
            },
            [("script[0].for-each.do[2].options", None, {"language": "en"})],
        ),
        ({"action": "pause", "path": "pause", "value": 1, "where": "pause=1.0"}, []),
        ({"action": "pause", "path": "pause", "value": 2, "where": "pause=true"}, []),
        (
            {"action": "pause", "path": "pause", "value": 2, "where": "pause = 1"},
            [("script[0].for-each.do[3].pause", 1, 2)],
        ),
    ],
)
def test_set(params: Params, expected: list[Any]) -> None:
    body = scenario(
        {
            "for-each": "city",
            "in": "a,b",
            "do": [
                {"dialToMany": [{"number": "41700000000"}, {"number": "41700000001"}]},
                call_api("https://x.example"),
                {"say": "Hi"},
                {"pause": 1},
            ],
        }
    )
    assert changes_of(body, "set", params) == expected


def test_set_values_are_not_shared() -> None:
    body = scenario({"say": "a"}, {"say": "b"})
    params = {"action": "say", "path": "options.voice", "value": {"name": "Amy"}}
    result = apply_rule(body, RULES["set"], params)
    first, second = (action["options"]["voice"] for action in result.scenario["script"])
    assert first == second and first is not second
    assert result.changes[0].after is not first


def test_set_bad_value_is_reported_by_validation() -> None:
    validate = pytest.importorskip("transforms.validate").validate_scenario
    params = {"action": "say", "path": "options.speechRate", "value": 9}
    result = apply_rule(seed("11"), RULES["set"], params)
    assert len(result.changes) == 3
    assert [e.path for e in validate(result.scenario)] == [
        "script[0].options.speechRate",
        "script[1].for-each.do[0].options.speechRate",
        "script[2].options.speechRate",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action": "forEach"}, ("action", "unknown action 'forEach': did you mean 'for-each'?")),
        ({"action": "sya"}, ("action", "unknown action 'sya': did you mean 'say'?")),
        (
            {"action": "hangup"},
            ("action", "'hangup' is a bare string action and has no fields to set"),
        ),
        (
            {"action": "while"},
            ("action", "'while' is shared by two actions: write whileDo or repeatWhile"),
        ),
        (
            {"action": "if", "path": "then"},
            (
                "path",
                "'then' holds the nested actions of if: set fields of those actions instead "
                "(set reaches every depth)",
            ),
        ),
        (
            {"action": "say", "path": "sendSms.from"},
            (
                "path",
                "'sendSms' is the key of another kind of action: setting it on say would change "
                "what the action is; use a path inside the action",
            ),
        ),
        (
            {"path": "options..language"},
            (
                "path",
                "'options..language' is not a field path at "
                "character 9: write keys separated by dots, e.g. "
                "options.voice.name or dialToMany[0].number",
            ),
        ),
        (
            {"where": "options.language=en"},
            (
                "where",
                "the value 'en' after = is not JSON: quote strings, e.g. "
                'options.language="en", and write numbers and true/false/null bare',
            ),
        ),
        (
            {"where": "options.language"},
            ("where", "'options.language' is not PATH=JSON: write e.g. options.language=\"en\""),
        ),
    ],
)
def test_set_checks(params: Params, expected: tuple[str, str]) -> None:
    full = {"action": "say", "path": "options.language", "value": "en", **params}
    assert problems_of("set", full) == [expected]


@pytest.mark.parametrize(
    ("action", "key"),
    [
        ("whileDo", "while"),
        ("repeatWhile", "while"),
        ("repeatUntil", "until"),
        ("say", "say"),
        ("for-each", "for-each"),
        ("sendSms", "sendSms"),
        ("if", "if"),
        ("switch", "switch"),
    ],
)
def test_set_null_may_not_remove_the_key_that_makes_the_action(action: str, key: str) -> None:
    # Removing it turned a while loop into {"do": [...]}, which is no action at all.
    ((column, message),) = problems_of("set", {"action": action, "path": key, "value": None})
    assert column == "value"
    assert message == (
        f"null would remove {key!r}, the key that makes the action a {action}: "
        "give a value instead (the action cannot be deleted by set)"
    )
    assert problems_of("set", {"action": action, "path": key, "value": "${x}"}) == []


# --- null containers --------------------------------------------------------------------------

SAY_NULL_OPTIONS = {"say": "Hi", "options": None, "actionId": 1}
SAY_NULL_VOICE = {"say": "Hi", "options": {"voice": None, "language": "de"}}
API_NULL_HEADERS = {"request": "https://x.example", "options": {"method": "GET", "headers": None}}


@pytest.mark.parametrize(
    ("action", "rule", "params", "after"),
    [
        (
            SAY_NULL_OPTIONS,
            "voice",
            {"language": "en-gb", "voice": "Amy"},
            {
                "say": "Hi",
                "options": {"language": "en-gb", "voice": {"name": "Amy"}},
                "actionId": 1,
            },
        ),
        (
            SAY_NULL_VOICE,
            "voice",
            {"voice": "Hans", "gender": "male"},
            {
                "say": "Hi",
                "options": {"voice": {"name": "Hans", "gender": "male"}, "language": "de"},
            },
        ),
        (
            API_NULL_HEADERS,
            "header",
            {"name": "X-Api-Version", "value": "2"},
            {
                "request": "https://x.example",
                "options": {"method": "GET", "headers": {"X-Api-Version": "2"}},
            },
        ),
        (
            SAY_NULL_OPTIONS,
            "set",
            {"action": "say", "path": "options.speechRate", "value": 1.2},
            {"say": "Hi", "options": {"speechRate": 1.2}, "actionId": 1},
        ),
        (
            SAY_NULL_VOICE,
            "set",
            {"action": "say", "path": "options.voice.name", "value": "Amy"},
            {"say": "Hi", "options": {"voice": {"name": "Amy"}, "language": "de"}},
        ),
        (
            API_NULL_HEADERS,
            "set",
            {"action": "request", "path": 'options.headers["X Weird"]', "value": "1"},
            {
                "request": "https://x.example",
                "options": {"method": "GET", "headers": {"X Weird": "1"}},
            },
        ),
    ],
)
def test_a_null_container_is_treated_as_absent(
    action: dict[str, Any], rule: str, params: Params, after: dict[str, Any]
) -> None:
    validate = pytest.importorskip("transforms.validate").validate_scenario
    body = scenario(action)
    assert validate(body) == []  # the validator accepts the null container
    absent = scenario({k: v for k, v in action.items() if v is not None})
    expected = changes_of(absent, rule, params)
    assert expected != []
    # The same changes as on an absent container, written where the null was.
    assert changes_of(body, rule, params) == expected
    result = apply_rule(body, RULES[rule], params).scenario
    assert json.dumps(result["script"][0]) == json.dumps(after)
    assert validate(result) == []


@pytest.mark.parametrize(
    ("action", "rule", "params"),
    [
        (API_NULL_HEADERS, "header", {"name": "X-Api-Version"}),  # nothing to remove
        (SAY_NULL_OPTIONS, "set", {"action": "say", "path": "options.x[0]", "value": 1}),
        (SAY_NULL_OPTIONS, "voice", {"language": "en", "only-language": "de"}),
        ({"say": "Hi", "options": {"voice": ""}}, "voice", {"voice": "Amy"}),  # not an object
    ],
)
def test_null_containers_stay_when_there_is_nothing_to_write(
    action: dict[str, Any], rule: str, params: Params
) -> None:
    body = scenario(action)
    result = apply_rule(body, RULES[rule], params)
    assert result.changes == [] and result.scenario == body


# --- reach, composition, the catalogue ---------------------------------------------------------


def sms(sender: str = "Old") -> dict[str, Any]:
    return {"sendSms": {"from": sender, "to": "${to}", "text": "Hi"}}


REACH = scenario(
    {
        "switch": "menu",
        "case": {
            "1": [
                {
                    "for-each": "city",
                    "in": "${cities}",
                    "do": [
                        {"if": "${city == 'Split'}", "then": [sms()], "else": [{"say": "x"}, sms()]}
                    ],
                }
            ],
            "__default": [{"say": "?"}, sms()],
        },
    },
    {"repeat": [{"say": "x"}, sms()], "while": "${i < 3}"},
    {"repeat": [sms()], "until": "${i == 3}"},
    {"while": "${i < 3}", "do": [{"while": "${j < 3}", "do": [sms()]}]},
    {
        "answeringMachineDetection": True,
        "onDetecting": [sms()],
        "onMachineDetected": [sms(), "hangup"],
        "onTimeout": ["hangup", sms()],
        "onHumanDetected": [sms()],
    },
    sms("${brand}"),
    sms("Other"),
)


def test_sms_sender_reaches_every_depth_and_names_the_exact_path() -> None:
    assert [p for p, _, _ in changes_of(REACH, "sms-sender", {"new": "New", "old": "Old"})] == [
        'script[0].switch.case["1"][0].for-each.do[0].if.then[0].sendSms.from',
        'script[0].switch.case["1"][0].for-each.do[0].if.else[1].sendSms.from',
        'script[0].switch.case["__default"][1].sendSms.from',
        "script[1].repeat[1].sendSms.from",
        "script[2].repeat[0].sendSms.from",
        "script[3].while.do[0].while.do[0].sendSms.from",
        "script[4].answeringMachineDetection.onDetecting[0].sendSms.from",
        "script[4].answeringMachineDetection.onMachineDetected[0].sendSms.from",
        "script[4].answeringMachineDetection.onTimeout[1].sendSms.from",
        "script[4].answeringMachineDetection.onHumanDetected[0].sendSms.from",
    ]
    # Without old, every literal sender is set, the variable one is not.
    paths = [p for p, _, _ in changes_of(REACH, "sms-sender", {"new": "New"})]
    assert len(paths) == 11 and paths[-1] == "script[6].sendSms.from"


def test_steps_compose_in_order_into_one_body_and_one_change_list() -> None:
    body = seed("09")
    steps: list[tuple[str, Params]] = [
        ("set", {"action": "sendSms", "path": "sendSms.from", "value": "AuroraBank"}),
        ("sms-sender", {"old": "AuroraBank", "new": "Aurora"}),
        ("rename", {"name": "{name} (2026)"}),
    ]
    result = RULES.apply(body, steps)
    assert [(c.rule, c.path, c.before, c.after) for c in result.changes] == [
        ("set", SMS_09_ELSE, "4930123456", "AuroraBank"),
        ("sms-sender", SMS_09_THEN, "AuroraBank", "Aurora"),
        ("sms-sender", SMS_09_ELSE, "AuroraBank", "Aurora"),
        ("rename", "name", "Telephone banking PIN check", "Telephone banking PIN check (2026)"),
    ]
    one_by_one = body
    for name, params in steps:
        one_by_one = apply_rule(one_by_one, RULES[name], params).scenario
    assert json.dumps(result.scenario) == json.dumps(one_by_one)
    assert body == seed("09")


def test_a_rule_that_refuses_leaves_nothing_half_changed() -> None:
    body = seed("01")
    before = copy.deepcopy(body)
    with pytest.raises(RuleError, match="already uses 'position'"):
        RULES.apply(
            body, [("sms-sender", {"new": "X"}), ("variable", {"old": "queue", "new": "position"})]
        )
    assert body == before


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_is_documented_and_its_example_row_is_valid(name: str) -> None:
    rule = RULES[name]
    assert rule.summary.endswith(")") or rule.summary.endswith(".")
    assert len(rule.doc.strip().splitlines()) >= 3, "say what the rule decides, not only its name"
    row = rule.example_row()
    params = {p.name: p.convert(row[p.name]) for p in rule.params if p.name in row}
    assert rule.problems(params) == []


@pytest.mark.parametrize("name", sorted(RULES))
def test_example_rows_keep_the_examples_valid(name: str) -> None:
    validate = pytest.importorskip("transforms.validate").validate_scenario
    rule = RULES[name]
    row = rule.example_row()
    params = {p.name: p.convert(row[p.name]) for p in rule.params if p.name in row}
    for path in sorted(SEED.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        assert validate(apply_rule(body, RULES[name], params).scenario) == [], path.name


def test_shared_sub_objects_are_changed_and_reported_in_each_place() -> None:
    shared = {"sendSms": {"from": "Old", "to": "${to}", "text": "Hi"}}
    body = scenario(shared, {"if": "${x}", "then": [shared]})
    result = apply_rule(body, RULES["sms-sender"], {"new": "New"})
    assert [c.path for c in result.changes] == [
        "script[0].sendSms.from",
        "script[1].if.then[0].sendSms.from",
    ]
    assert shared["sendSms"]["from"] == "Old"


def test_the_working_copy_is_exact() -> None:
    from transforms.rules.base import copy_tree

    odd: dict[str, Any] = {"t": (1, [2]), "f": 1.5, "n": None, "nested": [{"x": [1, {"y": "z"}]}]}
    copied = copy_tree(odd)
    assert copied == odd and json.dumps(copied) == json.dumps(odd)
    assert copied["nested"][0]["x"][1] is not odd["nested"][0]["x"][1]
    assert copied["t"] == (1, [2]) and copied["t"][1] is not odd["t"][1]


@pytest.mark.parametrize(
    "keys",
    [("say", "sendSms"), ("sendSms", "say"), ("dial", "dialToMany"), ("dialToMany", "dial")],
)
def test_an_action_with_two_identifying_keys_has_one_kind_whatever_the_key_order(
    keys: tuple[str, str],
) -> None:
    # Rules select actions by kind; the kind must not depend on the order of the keys.
    from transforms.model import action_kind

    action = {key: "x" for key in keys}
    assert action_kind(action) == ("sendSms" if "sendSms" in keys else "dialToMany")


# --- the catalogue is a value -----------------------------------------------------------------


def test_the_built_in_catalogue_is_the_explicit_list_of_design_rules() -> None:
    from transforms.rules.catalogue import BUILTIN_RULES

    design = ["sms-sender", "sms-text", "say-text", "voice", "url", "number", "header"]
    assert [r.name for r in BUILTIN_RULES] == [*design, "variable", "rename", "set"]
    assert list(RULES) == sorted(r.name for r in BUILTIN_RULES)
    assert all(RULES[r.name] is r for r in BUILTIN_RULES)


def test_declaring_a_rule_registers_nothing() -> None:
    from migrate.plugins import rule_catalogue
    from transforms.rules.base import rule

    @rule("shadow", [])
    def shadow(scenario: dict[str, Any], params: Params) -> list[Any]:
        """A rule that no catalogue lists."""
        return []

    assert shadow.name == "shadow" and shadow.summary == "A rule that no catalogue lists."
    assert "shadow" not in RULES and "shadow" not in rule_catalogue()
    assert Catalogue([shadow])["shadow"] is shadow


def test_a_catalogue_refuses_two_rules_of_one_name_and_explains_unknown_names() -> None:
    other = dataclasses.replace(RULES["url"], doc="Another url rule.")
    with pytest.raises(ValueError, match="two different rules are named 'url'"):
        RULES.extended([other])
    assert RULES.extended([RULES["url"]]) == RULES  # the same rule twice counts once
    with pytest.raises(KeyError, match="unknown rule 'sms-sendr': did you mean 'sms-sender'"):
        RULES.apply(scenario("hangup"), [("sms-sendr", {"new": "X"})])


def test_the_rule_machinery_does_not_load_the_catalogue_or_read_entry_points() -> None:
    code = (
        "import sys, transforms.rules.base, transforms.rules; "
        "assert 'transforms.rules.catalogue' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    sources = Path(__file__).resolve().parents[1] / "transforms"
    for path in sources.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "entry_points" not in text and "importlib" not in text, path
