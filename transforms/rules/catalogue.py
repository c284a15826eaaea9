"""The built-in rule catalogue (DESIGN §5). Each rule's docstring is its documentation.

Bodies edit their private copy of the scenario in place and return the changes they made; they
reach their targets at any depth through :func:`transforms.model.walk`.
"""

from __future__ import annotations

from transforms.rules.base import Change, Param, Params, Scenario, rule

_REGEX = Param("regex", "bool", False, "treat find as a Python regular expression", "")


@rule(
    "sms-sender",
    [
        Param("new", "sender", True, "the new SMS sender id", "NewBrand"),
        Param("old", "text", False, "change only senders equal to this (default: all)", "OldBrand"),
    ],
)
def sms_sender(scenario: Scenario, params: Params) -> list[Change]:
    """Set the sender id (sendSms.from) of Send SMS actions.

    Every sendSms at any depth gets ``new`` as its ``from``; with ``old`` only those whose sender
    is exactly ``old``. Senders built from variables are changed only when ``old`` matches them.
    """
    raise NotImplementedError


@rule(
    "sms-text",
    [
        Param("find", "text", True, "text to find in sendSms.text", "Old Brand"),
        Param("replace", "text", True, "replacement text", "New Brand"),
        _REGEX,
    ],
)
def sms_text(scenario: Scenario, params: Params) -> list[Change]:
    """Find and replace in the text of Send SMS actions (sendSms.text)."""
    raise NotImplementedError


@rule(
    "say-text",
    [
        Param("find", "text", True, "text to find in Say text", "Old Brand"),
        Param("replace", "text", True, "replacement text", "New Brand"),
        _REGEX,
    ],
)
def say_text(scenario: Scenario, params: Params) -> list[Change]:
    """Find and replace in the spoken text of Say actions (say)."""
    raise NotImplementedError


@rule(
    "voice",
    [
        Param("language", "text", False, "TTS language code for options.language", "en-gb"),
        Param("voice", "text", False, "voice name for options.voice.name", "Joanna"),
        Param(
            "gender",
            "text",
            False,
            "voice gender for options.voice.gender",
            "female",
            choices=("female", "male", "FEMALE", "MALE"),
        ),
        Param(
            "speech-rate",
            "number",
            False,
            "options.speechRate, 0.5 to 2.0",
            "1.0",
            minimum=0.5,
            maximum=2.0,
        ),
        Param(
            "only-language",
            "text",
            False,
            "change only Say actions whose options.language is this",
            "en",
        ),
    ],
    at_least_one_of=("language", "voice", "gender", "speech-rate"),
)
def voice(scenario: Scenario, params: Params) -> list[Change]:
    """Change the TTS options of Say actions: language, voice name, gender, speech rate."""
    raise NotImplementedError


@rule(
    "url",
    [
        Param("find", "text", True, "text to find in URLs", "https://old-crm.example.com"),
        Param("replace", "text", True, "replacement", "https://crm.example.com"),
        _REGEX,
    ],
)
def url(scenario: Scenario, params: Params) -> list[Change]:
    """Find and replace in URLs: Call API request, playFromUrl, ringback fileUrl, notifyUrl."""
    raise NotImplementedError


@rule(
    "number",
    [
        Param("old", "e164", True, "the number to replace", "41793026727"),
        Param("new", "e164", True, "the new number", "41793026728"),
    ],
)
def number(scenario: Scenario, params: Params) -> list[Change]:
    """Replace a phone number: dial, dialToMany numbers, options.senderId, literal sendSms.to."""
    raise NotImplementedError


@rule(
    "header",
    [
        Param("name", "text", True, "HTTP header name", "X-Api-Version"),
        Param("value", "text", False, "new value; leave empty to remove the header", "2"),
        Param("url", "text", False, "only Call API actions whose URL contains this", "crm.example"),
    ],
)
def header(scenario: Scenario, params: Params) -> list[Change]:
    """Set or remove an HTTP header of Call API actions (options.headers)."""
    raise NotImplementedError


@rule(
    "variable",
    [
        Param("old", "variable", True, "current variable name", "lang"),
        Param("new", "variable", True, "new variable name", "language"),
    ],
)
def variable(scenario: Scenario, params: Params) -> list[Change]:
    """Rename a variable where it is set and wherever ${…} reads it."""
    raise NotImplementedError


@rule(
    "rename",
    [
        Param(
            "name", "text", False, "new name template; {name} is the current name", "{name} (2026)"
        ),
        Param(
            "description",
            "text",
            False,
            "new description template; {description} is the current one",
            "{description}",
        ),
    ],
    at_least_one_of=("name", "description"),
)
def rename(scenario: Scenario, params: Params) -> list[Change]:
    """Rename a scenario or rewrite its description from templates."""
    raise NotImplementedError


@rule(
    "set",
    [
        Param("action", "text", True, "wire key of the actions to change", "say"),
        Param(
            "path", "text", True, "dotted path of the field inside the action", "options.language"
        ),
        Param("value", "json", True, "the new value, as JSON", '"en-gb"'),
        Param(
            "where", "text", False, "only actions where PATH=JSON holds", 'options.language="en"'
        ),
    ],
)
def set_field(scenario: Scenario, params: Params) -> list[Change]:
    """Set any field of every action of one kind (optionally only where a field has a value)."""
    raise NotImplementedError
