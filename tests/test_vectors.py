"""Conformance with published payloads: ../shared/vectors (Infobip's OpenAPI spec and SDK tests).

The vectors are read where they are, never copied into the project; the tests skip without them.
The expectations are explicit below and cross-checked against the flags in the folder's INDEX.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from transforms.validate import check_scenario, validate_scenario

VECTORS = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"

_E164 = ("script[0].dial", "'dial' is not an E.164 number")
_FOR_EACH = ("script[0].forEach", "'forEach' is not an action key: use 'for-each'")
_NO_ACTION = ("script[0]", "no action key")
_BAD_STRING = ("script[0]", "unknown string action 'repeated list of actions")

#: Request bodies the validator refuses: file → (path, fragment of the message naming the fix).
#: Every other request vector must validate with no error at all.
REFUSED_REQUESTS: dict[str, tuple[str, str]] = {
    "java-v5-req-create-actionid-only.json": _NO_ACTION,  # NO-ACTION
    "go-d80e884-req-create-script-as-string.json": (  # SCRIPT-STR
        "script",
        "script must be an array of actions, not a JSON-encoded string",
    ),
    "php-v62-req-update-foreach-camelcase.json": _FOR_EACH,  # FOREACH-CAMEL
    "csharp-req-update-foreach-camelcase.json": _FOR_EACH,  # FOREACH-CAMEL
    # Flagged "ok" in INDEX.md (they pass the JSON schema, where dial is any string), but
    # {"dial": "dial"} asks the platform to call the word "dial": it is neither an E.164 number
    # nor a ${variable}, so a real server could not place the call. These are SDK tests against
    # a mock server. Decision: refuse, with the E.164 message (see test_dial_literal_decision).
    "java-v6-req-create-dial.json": _E164,
    "go-req-create-dial.json": _E164,
}

#: Response vectors with deliberately odd script content: file → the one error each item gets.
#: The scenario fields (id, name, timestamps) of every response validate; only the script item
#: is flagged. Every other response vector validates with no error at all.
FLAGGED_RESPONSES: dict[str, tuple[str, str]] = {
    "java-v5-resp-create-actionid-only.json": _NO_ACTION,  # NO-ACTION
    "java-v5-resp-get.json": _BAD_STRING,  # BAD-STR-ACTION (an SDK placeholder string)
    "java-v5-resp-search.json": _BAD_STRING,
    "java-v5-resp-update.json": _BAD_STRING,
    "php-v62-resp-update-foreach-camelcase.json": _FOR_EACH,  # FOREACH-CAMEL
    "csharp-resp-update-foreach-camelcase.json": _FOR_EACH,
    # The same {"dial": "dial"} mock script as the refused requests above (DUP-D5 and Go's).
    "java-v6-resp-get.json": _E164,
    "java-v6-resp-search.json": _E164,
    "python-resp-search.json": _E164,
    "go-resp-create-capture.json": _E164,
    "go-resp-create-dial.json": _E164,
}

#: INDEX.md flags whose request vectors a real server takes, and those it refuses.
ACCEPTED_FLAGS = ("BODY-OBJ", "BODY-MISSING", "GOTOLIMIT", "NESTED-STR")
REFUSED_FLAGS = ("NO-ACTION", "SCRIPT-STR", "FOREACH-CAMEL")


@pytest.fixture(scope="module")
def index() -> dict[str, str]:
    """INDEX.md's file table: file name → flags column."""
    if not (VECTORS / "INDEX.md").is_file():
        pytest.skip(f"published payload vectors not found at {VECTORS}")
    rows: dict[str, str] = {}
    for line in (VECTORS / "INDEX.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells[-1]
    return rows


def _files(kind: str) -> list[str]:
    return sorted(p.name for p in VECTORS.glob(f"*-{kind}-*.json")) if VECTORS.is_dir() else []


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def _need_vectors() -> None:
    if not VECTORS.is_dir():
        pytest.skip(f"published payload vectors not found at {VECTORS}")


def test_index_lists_every_vector_and_the_expectations_name_real_files(
    index: dict[str, str],
) -> None:
    on_disk = {p.name for p in VECTORS.glob("*.json")}
    assert len(on_disk) == 81
    assert set(index) == on_disk
    assert set(REFUSED_REQUESTS) <= set(_files("req"))
    assert set(FLAGGED_RESPONSES) <= set(_files("resp"))


def test_expectations_agree_with_index_flags(index: dict[str, str]) -> None:
    for name in _files("req"):
        flags = index[name]
        if any(flag in flags for flag in REFUSED_FLAGS):
            assert name in REFUSED_REQUESTS, f"{name} is flagged {flags}"
    accepted_by_flag = [n for n in _files("req") if any(f in index[n] for f in ACCEPTED_FLAGS)]
    # Every flag the server tolerates is exercised by at least one accepted vector.
    for flag in ACCEPTED_FLAGS:
        assert any(flag in index[n] for n in accepted_by_flag), flag
    assert not set(accepted_by_flag) & set(REFUSED_REQUESTS)


@pytest.mark.parametrize("name", _files("req"))
def test_request_vector(name: str) -> None:
    _need_vectors()
    errors = validate_scenario(_load(name), request=True)
    if name in REFUSED_REQUESTS:
        path, fragment = REFUSED_REQUESTS[name]
        assert [e.path for e in errors] == [path], errors
        assert fragment in errors[0].message
    else:
        assert errors == []


@pytest.mark.parametrize("name", _files("resp"))
def test_response_vector_parses_as_a_scenario(name: str) -> None:
    _need_vectors()
    payload = _load(name)
    items = payload if isinstance(payload, list) else [payload]  # search answers a bare array
    assert items
    for item in items:
        assert isinstance(item["id"], str) and isinstance(item["name"], str)
        errors = validate_scenario(item, request=False)
        if name in FLAGGED_RESPONSES:
            path, fragment = FLAGGED_RESPONSES[name]
            assert [e.path for e in errors] == [path], errors
            assert fragment in errors[0].message
        else:
            assert errors == []


def test_response_vectors_without_script_are_not_valid_requests() -> None:
    _need_vectors()
    response = _load("go-resp-get-no-script.json")  # NO-SCRIPT
    assert validate_scenario(response, request=False) == []
    assert [e.path for e in validate_scenario(response)] == ["script"]


def test_dial_literal_decision() -> None:
    """{"dial": "dial"} is refused only for its literal: a number or a variable there passes."""
    _need_vectors()
    scenario = _load("java-v6-req-create-dial.json")
    (error,) = validate_scenario(scenario)
    assert (error.path, error.message.split(":")[0]) == (
        "script[0].dial",
        "'dial' is not an E.164 number",
    )
    for target in ("41793026731", "${numberToDial}"):
        scenario["script"][0]["dial"] = target
        assert validate_scenario(scenario) == []


def test_foreach_camel_case_fix_is_named() -> None:
    _need_vectors()
    (error,) = validate_scenario(_load("php-v62-req-update-foreach-camelcase.json"))
    assert "forEach" in error.message and "for-each" in error.message


@pytest.mark.parametrize("name", _files("req") + _files("resp"))
def test_no_vector_carries_an_unknown_key(name: str) -> None:
    """Unknown keys are warnings (issue 11.1); no published payload has one, and no refusal above
    is for an extra key: each names an object that is no action at all (NO-ACTION, forEach with
    no other action key), a script sent as text, or a dial to the word "dial"."""
    _need_vectors()
    payload = _load(name)
    for item in payload if isinstance(payload, list) else [payload]:
        assert check_scenario(item, request="-req-" in name).warnings == []


def test_foreach_beside_a_recognised_action_would_be_a_warning_not_an_error() -> None:
    _need_vectors()
    scenario = _load("php-v62-req-update-foreach-camelcase.json")
    loop = scenario["script"][0]
    scenario["script"][0] = {"for-each": loop["forEach"], **loop}  # the wire key, then the SDK's
    found = check_scenario(scenario)
    assert found.errors == []
    assert [w.path for w in found.warnings] == ["script[0].forEach"]
