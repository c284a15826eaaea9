"""The built-in rule catalogue (DESIGN §5). Each rule's docstring is its documentation.

The rules are listed explicitly in :data:`BUILTIN_RULES`; :func:`builtin_catalogue` is that list
as a :class:`~transforms.rules.base.Catalogue`. Importing this module registers nothing.

Bodies edit their private copy of the scenario in place and return the changes they made, in
document order; they reach their targets at any depth through :func:`transforms.model.walk`,
once per rule. Every rule is idempotent: applying it to its own output changes nothing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

from transforms import model
from transforms.formats import check_url
from transforms.model import has_variable, walk
from transforms.rules.base import (
    Catalogue,
    Change,
    Param,
    ParamError,
    Params,
    Rule,
    RuleBody,
    RuleError,
    Scenario,
    copy_tree,
    rule,
)
from transforms.rules.fields import (
    MISSING,
    Keys,
    delete_field,
    get_field,
    json_equal,
    parse_path,
    parse_where,
    path_text,
    set_field,
)
from transforms.rules.templates import parse_template
from transforms.rules.text import find_replace_problems, replacer
from transforms.rules.variables import RESERVED_NAMES, Renamer, name_map

_REGEX = Param("regex", "bool", False, "treat find as a Python regular expression", "")

_LANGUAGE_CODE: Final = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_HEADER_NAME: Final = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

Problems = list[tuple[str, str]]


# --- shared helpers ---------------------------------------------------------------------------


def _position(obj: Any, keys: Keys) -> tuple[int, ...]:
    """Where a field sits in document order: the index of each key along the way."""
    out = []
    for key in keys:
        out.append(key if isinstance(key, int) else list(obj).index(key))
        obj = obj[key]
    return tuple(out)


def _edit_strings(
    action: dict[str, Any],
    targets: Iterable[Keys],
    edit: Callable[[str], str],
    action_path: str,
    rule_name: str,
) -> list[Change]:
    """Apply ``edit`` to every string field of ``action`` at ``targets``, in document order."""
    found = [(keys, value) for keys in targets if isinstance(value := get_field(action, keys), str)]
    if len(found) > 1:
        found.sort(key=lambda item: _position(action, item[0]))
    changes = []
    for keys, value in found:
        new = edit(value)
        if new != value:
            set_field(action, keys, new)
            changes.append(Change(action_path, path_text(keys), value, new, rule_name))
    return changes


def _scenario_field_first(scenario: Scenario, key: str) -> bool:
    """True when scenario field ``key`` comes before ``script`` (so its change is listed first)."""
    keys = list(scenario)
    return "script" not in scenario or keys.index(key) < keys.index("script")


def _absent_or_object(value: Any) -> bool:
    """True for an object, or for None (absent or null): a rule may write into either."""
    return value is None or isinstance(value, dict)


def _find_replace_check(params: Params) -> Problems:
    return find_replace_problems(params["find"], params["replace"], params.get("regex", False))


def _language_check(params: Params, names: Iterable[str]) -> Problems:
    return [
        (name, f"{params[name]!r} is not a language code: write e.g. en, en-gb or pt-br")
        for name in names
        if name in params and not _LANGUAGE_CODE.match(params[name])
    ]


# --- Send SMS ---------------------------------------------------------------------------------


def _same_sender(current: str, old: str) -> bool:
    if current == old:
        return True
    # Numeric senders are compared without a leading "+".
    bare, bare_old = current.removeprefix("+"), old.removeprefix("+")
    return bare.isdigit() and bare == bare_old


def _sms_sender_check(params: Params) -> Problems:
    if params.get("old") == params["new"]:
        return [("new", "old and new are the same sender: nothing would change")]
    return []


@rule(
    "sms-sender",
    [
        Param("new", "sender", True, "the new SMS sender id", "NewBrand"),
        Param("old", "text", False, "change only senders equal to this (default: all)", "OldBrand"),
    ],
    check=_sms_sender_check,
)
def sms_sender(scenario: Scenario, params: Params) -> list[Change]:
    """Set the sender id (sendSms.from) of Send SMS actions.

    Every sendSms at any depth gets ``new`` as its ``from``; with ``old`` only those whose sender
    is exactly ``old`` (case-sensitive; numeric senders match with or without a leading ``+``).
    Senders built from variables (``${brand}``) are changed only when ``old`` names them exactly.
    Without ``old``, a sendSms that has no ``from`` gets one (the 2026 API requires it); with
    ``old`` it is left alone. ``new`` is written exactly as given.
    """
    new, old = params["new"], params.get("old")
    changes = []
    for found in walk(scenario.get("script")):
        if found.kind != model.SEND_SMS or not isinstance(sms := found.action["sendSms"], dict):
            continue
        current = sms.get("from")
        if old is None:
            if isinstance(current, str) and has_variable(current):
                continue
        elif not isinstance(current, str) or not _same_sender(current, old):
            continue
        if current != new:
            sms["from"] = new
            changes.append(Change(found.path, "sendSms.from", current, new, "sms-sender"))
    return changes


def _replace_text(
    scenario: Scenario, params: Params, kind: str, keys: Keys, rule_name: str
) -> list[Change]:
    edit = replacer(params["find"], params["replace"], params.get("regex", False)).apply
    changes: list[Change] = []
    for found in walk(scenario.get("script")):
        if found.kind == kind:
            changes += _edit_strings(found.action, (keys,), edit, found.path, rule_name)
    return changes


def _doc_appended(text: str) -> Callable[[RuleBody], RuleBody]:
    """Append a shared paragraph to a rule's docstring (before ``@rule`` reads it)."""

    def append(body: RuleBody) -> RuleBody:
        body.__doc__ = (body.__doc__ or "").rstrip() + "\n" + text
        return body

    return append


_FIND_REPLACE_DOC: Final = """
    Plain ``find`` is case-sensitive text, replaced everywhere it occurs; with ``regex`` it is a
    Python regular expression and ``replace`` may use ``\\1`` or ``\\g<name>``. Running the rule
    again changes nothing: an occurrence already inside its replacement is kept (``Bank`` →
    ``Bank AG`` does not make ``Bank AG AG``), and replacing repeats until the text is stable.
    Variable references are protected: an occurrence that cuts into a ``${…}`` is kept
    (``order`` in ``${orderNumber}``); one that spans whole references is replaced.
"""


@rule(
    "sms-text",
    [
        Param("find", "text", True, "text to find in sendSms.text", "Old Brand"),
        Param("replace", "text", True, "replacement text", "New Brand"),
        _REGEX,
    ],
    check=_find_replace_check,
)
@_doc_appended(_FIND_REPLACE_DOC)
def sms_text(scenario: Scenario, params: Params) -> list[Change]:
    """Find and replace in the text of Send SMS actions (sendSms.text)."""
    return _replace_text(scenario, params, model.SEND_SMS, ("sendSms", "text"), "sms-text")


@rule(
    "say-text",
    [
        Param("find", "text", True, "text to find in Say text", "Old Brand"),
        Param("replace", "text", True, "replacement text", "New Brand"),
        _REGEX,
    ],
    check=_find_replace_check,
)
@_doc_appended(_FIND_REPLACE_DOC)
def say_text(scenario: Scenario, params: Params) -> list[Change]:
    """Find and replace in the spoken text of Say actions (say).

    SSML tags are text like any other. A result longer than 1400 characters is reported invalid
    by validation.
    """
    return _replace_text(scenario, params, model.SAY, ("say",), "say-text")


# --- Say options ------------------------------------------------------------------------------

#: ``voice`` parameter → keys of the Say option it sets, in the order new keys are appended.
_VOICE_OPTIONS: Final[tuple[tuple[str, Keys], ...]] = (
    ("language", ("language",)),
    ("voice", ("voice", "name")),
    ("gender", ("voice", "gender")),
    ("speech-rate", ("speechRate",)),
)


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
    check=lambda params: _language_check(params, ("language", "only-language")),
)
def voice(scenario: Scenario, params: Params) -> list[Change]:
    """Change the TTS options of Say actions: language, voice name, gender, speech rate.

    Only the given options are written: ``language`` → ``options.language``, ``voice`` →
    ``options.voice.name``, ``gender`` → ``options.voice.gender``, ``speech-rate`` →
    ``options.speechRate``. Missing ``options``/``voice`` objects are created (a ``null`` one is
    treated as missing and replaced in place), new keys go last and existing keys keep their
    order. Nothing else is adjusted: when the new voice has another gender than the old one,
    give ``gender`` too. ``only-language`` limits the rule to Say
    actions whose ``options.language`` equals it (ignoring case); Says without a language are
    then left alone. A Say whose ``options`` or ``voice`` is neither an object nor null is left for
    validation to report.
    """
    wanted = [(keys, params[name]) for name, keys in _VOICE_OPTIONS if name in params]
    only = params.get("only-language")
    changes: list[Change] = []
    for found in walk(scenario.get("script")):
        if found.kind != model.SAY:
            continue
        action = found.action
        options = action.get("options", MISSING)
        if only is not None:
            language = options.get("language") if isinstance(options, dict) else None
            if not isinstance(language, str) or language.lower() != only.lower():
                continue
        if options is MISSING or options is None:  # null counts as absent
            options = {}
        if not isinstance(options, dict) or not _absent_or_object(options.get("voice")):
            continue
        edits = []
        for keys, value in wanted:
            before = get_field(options, keys)
            if before is MISSING or not json_equal(before, value):
                edits.append((keys, None if before is MISSING else before, value))
        if not edits:
            continue
        if action.get("options") is None:
            action["options"] = options
        for keys, _, value in edits:
            set_field(options, keys, value)
        edits.sort(key=lambda edit: _position(options, edit[0]))
        changes += [
            Change(found.path, path_text(("options", *keys)), before, after, "voice")
            for keys, before, after in edits
        ]
    return changes


# --- URLs -------------------------------------------------------------------------------------

_RINGBACK_URLS: Final = (
    ("options", "customRingback", "ringingAudio", "fileUrl"),
    ("options", "customRingback", "failedAudio", "fileUrl"),
)
_URL_FIELDS: Final[dict[str, tuple[Keys, ...]]] = {
    model.CALL_API: (("request",),),
    model.PLAY: (("playFromUrl",),),
    model.DIAL: _RINGBACK_URLS,
}


_SCHEMES: Final = ("http://", "https://")


def _url_check(params: Params) -> Problems:
    problems = _find_replace_check(params)
    find, replace = params["find"], params["replace"]
    if params.get("regex", False) or not find.lower().startswith(_SCHEMES):
        return problems  # the validator still checks every resulting URL before any PUT
    if find.lower() in _SCHEMES:
        # The host that followed the scheme stays after the replacement ("x" stands for it).
        if check_url(replace + "x") is None:
            return problems
        example = "https://eu-" if find.lower() == "https://" else "https://"
        problem = (
            f"find {find!r} is a URL scheme, so replace must be one too, followed by the start "
            f"of a literal host if any (e.g. {example}), not {replace!r}"
        )
    else:
        found = check_url(replace)
        if found is None:
            return problems
        problem = f"find {find!r} is a URL, so replace must be one too: {found}"
    return [*problems, ("replace", problem)]


@rule(
    "url",
    [
        Param("find", "text", True, "text to find in URLs", "https://old-crm.example.com"),
        Param("replace", "text", True, "replacement", "https://crm.example.com"),
        _REGEX,
    ],
    check=_url_check,
)
@_doc_appended(_FIND_REPLACE_DOC)
def url(scenario: Scenario, params: Params) -> list[Change]:
    """Find and replace in URLs: Call API request, playFromUrl, ringback fileUrl, notifyUrl.

    Targets: the Call API ``request``, ``playFromUrl``, the Dial ringback
    ``options.customRingback.ringingAudio.fileUrl`` and ``.failedAudio.fileUrl``, and the
    scenario's ``notifyUrl``. Headers and bodies are not touched. When ``find`` starts with
    ``https://`` or ``http://`` (a whole base URL, or the scheme alone) ``replace`` must be a URL
    (or start one) too; the sheet is refused otherwise. Any other result that is no longer a valid
    URL is reported invalid by validation, not sent.
    """
    edit = replacer(params["find"], params["replace"], params.get("regex", False)).apply
    changes: list[Change] = []
    for found in walk(scenario.get("script")):
        targets = _URL_FIELDS.get(found.kind)
        if targets is not None:
            changes += _edit_strings(found.action, targets, edit, found.path, "url")
    notify = _edit_strings(scenario, (("notifyUrl",),), edit, "", "url")
    if notify and _scenario_field_first(scenario, "notifyUrl"):
        return notify + changes
    return changes + notify


# --- phone numbers ----------------------------------------------------------------------------


def _number_check(params: Params) -> Problems:
    if params["old"].removeprefix("+") == params["new"].removeprefix("+"):
        return [("new", "old and new are the same number: nothing would change")]
    return []


def _number_targets(kind: str, action: dict[str, Any]) -> list[Keys]:
    if kind == model.DIAL:
        return [("dial",), ("options", "senderId")]
    if kind == model.SEND_SMS:
        return [("sendSms", "to")]
    targets: list[Keys] = []
    entries = action["dialToMany"]
    if isinstance(entries, list):
        for index, entry in enumerate(entries):
            if isinstance(entry, dict):
                targets += [("dialToMany", index, "number"), ("dialToMany", index, "numbers")]
    return [*targets, ("options", "senderId")]


@rule(
    "number",
    [
        Param("old", "e164", True, "the number to replace", "41793026727"),
        Param("new", "e164", True, "the new number", "41793026728"),
    ],
    check=_number_check,
)
def number(scenario: Scenario, params: Params) -> list[Change]:
    """Replace a phone number: dial, dialToMany numbers, options.senderId, literal sendSms.to.

    Targets: Dial ``dial`` and ``options.senderId``; Dial To Many ``dialToMany[].number``, each
    item of the classic comma-separated ``dialToMany[].numbers`` and ``options.senderId``; Send
    SMS ``to``. Numbers are compared without a leading ``+``, and the new number takes the
    style of the one it replaces (``+41793026727`` → ``+41793026728``, ``41793026727`` →
    ``41793026728``). Only whole values are replaced: a number inside a longer text, or built
    from variables (``${to}``), is left alone. SMS sender ids are changed by ``sms-sender``.
    """
    old = params["old"].removeprefix("+")
    new = params["new"].removeprefix("+")

    def replace_number(value: str) -> str:
        bare = value.strip()
        if bare.removeprefix("+") != old:
            return value
        return value.replace(bare, ("+" if bare.startswith("+") else "") + new)

    def replace_in(value: str) -> str:
        # Classic dialToMany "numbers" is a comma-separated list; a single number is a list of one.
        return ",".join(replace_number(item) for item in value.split(","))

    changes: list[Change] = []
    for found in walk(scenario.get("script")):
        if found.kind in (model.DIAL, model.DIAL_TO_MANY, model.SEND_SMS):
            targets = _number_targets(found.kind, found.action)
            changes += _edit_strings(found.action, targets, replace_in, found.path, "number")
    return changes


# --- HTTP headers -----------------------------------------------------------------------------


def _header_check(params: Params) -> Problems:
    problems = []
    if not _HEADER_NAME.match(params["name"]):
        problems.append(
            (
                "name",
                f"{params['name']!r} is not an HTTP header name: use letters, digits and - "
                "(no spaces or colon), e.g. X-Api-Version",
            )
        )
    value = params.get("value")
    if value is not None and ("\r" in value or "\n" in value):
        problems.append(("value", "a header value must be one line: remove the line breaks"))
    return problems


@rule(
    "header",
    [
        Param("name", "text", True, "HTTP header name", "X-Api-Version"),
        Param("value", "text", False, "new value; leave empty to remove the header", "2"),
        Param("url", "text", False, "only Call API actions whose URL contains this", "crm.example"),
    ],
    check=_header_check,
)
def header(scenario: Scenario, params: Params) -> list[Change]:
    """Set or remove an HTTP header of Call API actions (options.headers).

    Header names compare without regard to case, as in HTTP: an existing ``x-api-version`` is
    updated under its own spelling; every spelling present gets the value (or is removed). A new
    header is added last, creating ``options.headers`` when missing or null. An empty ``value``
    removes the header (an emptied ``headers`` object stays). ``url`` limits the rule to Call API
    actions whose ``request`` contains it (case-sensitive substring). An action without an
    ``options`` object (or with ``options: null``) is already invalid and is left for validation
    to report.
    """
    name, value, url_filter = params["name"], params.get("value"), params.get("url")
    lowered = name.lower()
    changes: list[Change] = []
    for found in walk(scenario.get("script")):
        if found.kind != model.CALL_API or not isinstance(
            options := found.action.get("options"), dict
        ):
            continue
        if url_filter is not None and not (
            isinstance(request := found.action["request"], str) and url_filter in request
        ):
            continue
        headers = options.get("headers")
        if headers is None and value is not None:  # absent or null: a new headers object
            headers = options["headers"] = {}
        if not isinstance(headers, dict):
            continue
        present = [key for key in headers if key.lower() == lowered]
        edits: list[tuple[str, Any, Any]]
        if value is None:
            edits = [(key, headers.pop(key), None) for key in present]
        elif present:
            edits = [(key, headers[key], value) for key in present if headers[key] != value]
            for key, _, _ in edits:
                headers[key] = value
        else:
            headers[name] = value
            edits = [(name, None, value)]
        changes += [
            Change(found.path, path_text(("options", "headers", key)), before, after, "header")
            for key, before, after in edits
        ]
    return changes


# --- variables --------------------------------------------------------------------------------


def _variable_check(params: Params) -> Problems:
    old, new = params["old"], params["new"]
    problems = [
        (
            param,
            f"{params[param]!r} is set by the platform or the expression language and cannot "
            "be renamed: choose another variable",
        )
        for param in ("old", "new")
        if params[param] in RESERVED_NAMES
    ]
    if old == new:
        problems.append(("new", "old and new are the same name: nothing would change"))
    elif set(name_map(old, old).values()) & set(name_map(new, new).values()):
        problems.append(
            (
                "new",
                f"{new!r} and {old!r} overlap through the derived names _Meaning/_Full: "
                "choose a name that is not one of them plus a suffix",
            )
        )
    return problems


@rule(
    "variable",
    [
        Param("old", "variable", True, "current variable name", "lang"),
        Param("new", "variable", True, "new variable name", "language"),
    ],
    check=_variable_check,
)
def variable(scenario: Scenario, params: Params) -> list[Change]:
    """Rename a variable where it is set and wherever ${…} reads it.

    Set: ``collectInto``, ``capture``, ``setVariable``, ``for-each``, ``switch`` and the Go To
    ``options.countVariable``. Read: every ``${…}`` in any string of any action (Say text, SMS,
    URLs, headers, bodies, if/while/until conditions, setVariable values, for-each ``in``,
    record identifiers, …). The derived names follow: ``lang_Meaning`` → ``language_Meaning``,
    ``lang_Full`` → ``language_Full``. Expressions are tokenised: ``${language}``, ``${x.lang}``,
    quoted literals (``'lang'``) and text outside ``${…}`` are untouched, and so are object keys
    and switch case values. Variables the scenario only reads (launch parameters, Call API
    response fields) are renamed too: make sure their source changes with them. The rule
    refuses (the row fails, nothing is sent) a scenario that already uses the new name next to
    the old one, since the rename would merge two variables.
    """
    renamer = Renamer(params["old"], params["new"])
    changes: list[Change] = []
    for found in walk(scenario.get("script")):
        if isinstance(found.action, dict):
            changes += [
                Change(found.path, path_text(keys), before, after, "variable")
                for keys, before, after in renamer.rename_action(found.kind, found.action)
            ]
    clash = renamer.collides()
    if clash:
        raise RuleError(
            f"the scenario already uses {', '.join(map(repr, clash))}: renaming "
            f"{params['old']!r} to {params['new']!r} would merge two variables; choose another name"
        )
    return changes


# --- scenario name and description ------------------------------------------------------------


def _rename_check(params: Params) -> Problems:
    problems: Problems = []
    uses: dict[str, set[str]] = {}
    for field in ("name", "description"):
        if field in params:
            try:
                uses[field] = parse_template(params[field]).fields()
            except ParamError as exc:
                problems.append((field, str(exc)))
    if len(uses) == 2 and "description" in uses["name"] and "name" in uses["description"]:
        problems.append(
            (
                "description",
                "the name and description templates refer to each other: put them in two rows",
            )
        )
    return problems


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
    check=_rename_check,
)
def rename(scenario: Scenario, params: Params) -> list[Change]:
    """Rename a scenario or rewrite its description from templates.

    Templates take ``{name}`` and ``{description}`` (the current values; an absent description
    is empty) and ``{{``/``}}`` for literal braces; nothing else is evaluated. A value the
    template could already have produced is kept, so running the rule again changes nothing:
    with ``{name} (2026)`` the name ``Sales (2026)`` stays as it is (also when someone added the
    suffix by hand). When one template uses the other field, that field is rewritten first.
    """
    templates = {
        field: parse_template(params[field]) for field in ("name", "description") if field in params
    }
    order = list(templates)
    if "name" in templates and "description" in templates["name"].fields():
        order.reverse()  # the name is built from the new description
    values = {
        field: value if isinstance(value := scenario.get(field), str) else ""
        for field in ("name", "description")
    }
    changes = []
    for field in order:
        template = templates[field]
        current = scenario.get(field)
        others = {key: value for key, value in values.items() if key != field}
        if field in template.fields() and template.produced(values[field], field, others):
            continue
        new = template.render(values)
        if new != current:
            scenario[field] = values[field] = new
            changes.append(Change("", field, current, new, "rename"))
    keys = list(scenario)
    return sorted(changes, key=lambda change: keys.index(change.field))


# --- any field --------------------------------------------------------------------------------

#: Kinds ``set`` accepts: every object kind (bare-string actions have no fields).
SETTABLE_KINDS: Final = tuple(kind for kind in model.ALL_KINDS if kind not in model.STRING_ACTIONS)
_AMBIGUOUS_KEYS: Final = {
    "repeat": ("repeatWhile", "repeatUntil"),
    "while": ("whileDo", "repeatWhile"),
}


def _kind_problem(action: str) -> str | None:
    if action in SETTABLE_KINDS:
        return None
    if action in model.STRING_ACTIONS:
        return f"{action!r} is a bare string action and has no fields to set"
    if action in _AMBIGUOUS_KEYS:
        return f"{action!r} is shared by two actions: write {' or '.join(_AMBIGUOUS_KEYS[action])}"
    hint = model.MISSPELLED_KEYS.get(action)
    if hint not in SETTABLE_KINDS:
        close = difflib.get_close_matches(action, SETTABLE_KINDS, n=1, cutoff=0.6)
        hint = close[0] if close else None
    suffix = f": did you mean {hint!r}?" if hint else f": use one of {', '.join(SETTABLE_KINDS)}"
    return f"unknown action {action!r}{suffix}"


#: Keys that make an action what it is; ``set`` may not add another kind's (a say would turn
#: into a sendSms).
_IDENTIFYING_KEYS: Final = frozenset(model.PATH_KEY.values()) | {"do", "until"}
_OWN_KEYS: Final = {
    model.WHILE_DO: {"while", "do"},
    model.REPEAT_WHILE: {"repeat", "while"},
    model.REPEAT_UNTIL: {"repeat", "until"},
    model.FOR_EACH: {"for-each", "do"},
}


def _path_problems(kind: str, keys: Keys, value: Any) -> Problems:
    first = str(keys[0])
    if first in model.nested_fields(kind):
        return [
            (
                "path",
                f"{first!r} holds the nested actions of {kind}: set fields of those actions "
                "instead (set reaches every depth)",
            )
        ]
    if first in _IDENTIFYING_KEYS and first not in _OWN_KEYS.get(kind, {kind}):
        return [
            (
                "path",
                f"{first!r} is the key of another kind of action: setting it on {kind} would "
                "change what the action is; use a path inside the action",
            )
        ]
    if value is None and len(keys) == 1 and first in _OWN_KEYS.get(kind, {kind}):
        # Removing it would turn the action into another kind (a while loop into a bare
        # ``{"do": …}``, a repeat-until into a repeat-while) or into no action at all.
        return [
            (
                "value",
                f"null would remove {first!r}, the key that makes the action a {kind}: "
                "give a value instead (the action cannot be deleted by set)",
            )
        ]
    return []


def _set_check(params: Params) -> Problems:
    problems = []
    kind_problem = _kind_problem(params["action"])
    if kind_problem:
        problems.append(("action", kind_problem))
    try:
        keys, _ = parse_path(params["path"])
    except ParamError as exc:
        problems.append(("path", str(exc)))
    else:
        if not kind_problem:
            problems += _path_problems(params["action"], keys, params["value"])
    if "where" in params:
        try:
            parse_where(params["where"])
        except ParamError as exc:
            problems.append(("where", str(exc)))
    return problems


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
    check=_set_check,
)
def set_field_rule(scenario: Scenario, params: Params) -> list[Change]:
    """Set any field of every action of one kind (optionally only where a field has a value).

    ``action`` is the wire key (``say``, ``sendSms``, ``request``, ``dial``, ``for-each``, …;
    ``whileDo``, ``repeatWhile``, ``repeatUntil`` for the loops). ``path`` is the field inside
    the action in change-list notation: ``options.language``, ``dialToMany[0].number``,
    ``options.headers["X-Api-Version"]``. Missing or null objects on the way are created (new
    keys go last, a null is replaced in place); a list item that does not exist, or a value that
    is not an object where one is needed, leaves that action unchanged. ``where`` is
    ``PATH=JSON`` and keeps only actions whose field equals the value (JSON equality: ``1``
    equals ``1.0``, ``true`` is not ``1``; ``null`` also matches an absent field). Nested action
    arrays (``then``, ``do``, ``case``, …) and the keys that identify other kinds of action
    cannot be set. ``null`` removes the field (an object key; list items are never removed),
    except the key that makes the action what it is (``while`` of a whileDo, ``say`` of a say).
    Values are written as given: one the API refuses (``options.speechRate`` = 9) makes the
    scenario invalid, and validation reports it before anything is sent.
    """
    kind, value = params["action"], params["value"]
    keys, _ = parse_path(params["path"])
    where = parse_where(params["where"]) if "where" in params else None
    changes: list[Change] = []
    for found in walk(scenario.get("script")):
        if found.kind != kind:
            continue
        action = found.action
        if where is not None and not _where_holds(get_field(action, where[0]), where[1]):
            continue
        before = get_field(action, keys)
        if value is None:
            # null removes the field: a change list cannot tell null from absent.
            if before is not MISSING and before is not None and delete_field(action, keys):
                changes.append(Change(found.path, path_text(keys), before, None, "set"))
            continue
        if before is not MISSING and json_equal(before, value):
            continue
        if set_field(action, keys, copy_tree(value)):
            after = copy_tree(value)  # the change list must not share objects with the scenario
            changes.append(
                Change(
                    found.path, path_text(keys), None if before is MISSING else before, after, "set"
                )
            )
    return changes


def _where_holds(actual: Any, expected: Any) -> bool:
    if actual is MISSING:
        return expected is None
    return json_equal(actual, expected)


# --- the catalogue ----------------------------------------------------------------------------

#: Every built-in rule, in the order of DESIGN §5.
BUILTIN_RULES: Final[tuple[Rule, ...]] = (
    sms_sender,
    sms_text,
    say_text,
    voice,
    url,
    number,
    header,
    variable,
    rename,
    set_field_rule,
)
_BUILTIN: Final = Catalogue(BUILTIN_RULES)


def builtin_catalogue() -> Catalogue:
    """The built-in rules, without plugins (``migrate.plugins.rule_catalogue`` adds those)."""
    return _BUILTIN
