"""Keys the sandbox does not model survive, and how a PUT treats the keys a body leaves out.

The 2026 schema forbids no extra property, so the sandbox stores every key of a body (but the
read-only ones) at the top level and inside actions, and serves them back in GET and search.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from migrate.sandbox import RunningSandbox, SandboxConfig, start_sandbox

ROOT = "/voice/ivr/1/scenarios"
UNMODELLED_DIR = Path(__file__).resolve().parent / "data" / "scenarios" / "unmodelled"
LOYALTY = json.loads(
    (UNMODELLED_DIR / "26-loyalty-hotline-unmodelled-fields.json").read_text(encoding="utf-8")
)
LOYALTY_URL = f"{ROOT}/{LOYALTY['id']}"
READ_ONLY = ("id", "createTime", "updateTime", "lastUsageDate")
HTTP = requests.Session()


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def writable(scenario: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of the scenario without its read-only fields."""
    return {key: copy.deepcopy(v) for key, v in scenario.items() if key not in READ_ONLY}


def api(sandbox: RunningSandbox, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"App {sandbox.api_key}"}
    return HTTP.request(method, sandbox.base_url + path, headers=headers, timeout=10, **kwargs)


def start(tmp_path: Path, backend: str, **options: Any) -> RunningSandbox:
    db = tmp_path / "sandbox.sqlite" if backend == "sqlite" else None
    config = SandboxConfig(write_rate=None, seed_dir=UNMODELLED_DIR, db_path=db, **options)
    return start_sandbox(config)


@pytest.fixture(params=["memory", "sqlite"])
def stored(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningSandbox]:
    with start(tmp_path, request.param) as running:
        yield running


def test_a_seed_file_with_unmodelled_keys_is_served_as_written(stored: RunningSandbox) -> None:
    response = api(stored, "GET", LOYALTY_URL)

    assert response.status_code == 200, response.text
    served = response.json()
    assert served == LOYALTY
    assert compact(served["script"]) == compact(LOYALTY["script"])  # key order too
    assert compact(LOYALTY["script"]) in response.text  # the script's bytes as stored
    assert api(stored, "GET", ROOT).json() == [LOYALTY]


def test_a_put_stores_unmodelled_keys_at_the_top_and_inside_actions(
    stored: RunningSandbox,
) -> None:
    body = writable(LOYALTY) | {"label": "loyalty-2026", "x-new": {"a": [1, 2.5, None]}}
    body["script"][0]["options"]["x-note"] = "changed in a test"
    body["script"].insert(0, {"pause": 1, "x-why": "let the line settle", "actionId": 9})

    response = api(stored, "PUT", LOYALTY_URL, json=body)

    assert response.status_code == 200, response.text
    again = api(stored, "GET", LOYALTY_URL)
    assert writable(again.json()) == body
    extras = [key for key in body if key not in ("name", "description", "script")]
    assert [key for key in again.json() if key in extras] == extras  # in the body's order
    assert compact(body["script"]) in again.text
    assert stored.put_counts() == {LOYALTY["id"]: 1}


def test_a_create_stores_unmodelled_keys(stored: RunningSandbox) -> None:
    body = {"name": "New", "script": [{"say": "Hi", "x-note": "n"}, "hangup"], "folder": "A/B"}

    created = api(stored, "POST", ROOT, json=body).json()

    assert writable(created) == body
    assert api(stored, "GET", f"{ROOT}/{created['id']}").json() == created


@pytest.mark.parametrize(
    ("action", "path"),
    [
        ({"x-note": "an object with no action key"}, "script[0]"),
        ({"say": "Hi", "sendSms": {"to": "${to}", "text": "x"}}, "script[0].say"),
        ({"say": "Hi", "options": {"speechRate": 9}, "x": 1}, "script[0].options.speechRate"),
    ],
)  # fmt: skip
def test_real_errors_beside_unmodelled_keys_are_still_refused(
    stored: RunningSandbox, action: dict[str, Any], path: str
) -> None:
    body = {"name": "Broken", "label": "kept apart", "script": [action]}

    response = api(stored, "PUT", LOYALTY_URL, json=body)

    assert response.status_code == 400, response.text
    errors = response.json()["requestError"]["serviceException"]["validationErrors"]
    assert path in errors
    assert "script[0].x-note" not in errors and "label" not in errors
    assert stored.scenario(LOYALTY["id"]) == LOYALTY


def test_by_default_a_put_replaces_the_whole_scenario(stored: RunningSandbox) -> None:
    body = {"name": LOYALTY["name"], "script": LOYALTY["script"], "label": "kept"}

    updated = api(stored, "PUT", LOYALTY_URL, json=body).json()

    assert writable(updated) == body
    for gone in ("description", "folder", "x-owner", "notifyUrl"):
        assert gone not in updated
        assert gone not in api(stored, "GET", LOYALTY_URL).json()


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_without_put_replaces_a_put_merges_into_the_stored_scenario(
    tmp_path: Path, backend: str
) -> None:
    with start(tmp_path, backend, put_replaces=False) as sandbox:
        body = {"name": "Renamed", "script": ["hangup"], "label": "new", "x-added": 1}

        updated = api(sandbox, "PUT", LOYALTY_URL, json=body).json()

        assert updated == api(sandbox, "GET", LOYALTY_URL).json()
        assert writable(updated) == writable(LOYALTY) | body
        assert updated["folder"] == LOYALTY["folder"]
        assert updated["description"] == LOYALTY["description"]


def test_a_portal_edit_may_change_an_unmodelled_key(stored: RunningSandbox) -> None:
    edited = stored.edit_scenario(LOYALTY["id"], {"folder": "Archive"})

    assert edited["folder"] == "Archive"
    assert api(stored, "GET", LOYALTY_URL).json()["folder"] == "Archive"
    with pytest.raises(ValueError, match="createTime"):
        stored.edit_scenario(LOYALTY["id"], {"createTime": "2020-01-01T00:00:00.000+0000"})
