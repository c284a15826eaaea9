"""The sandbox's IVR scenario endpoints over real loopback HTTP: CRUD, search, auth, bad input."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from migrate.sandbox import Account, RunningSandbox, SandboxConfig, serve_sandbox, start_sandbox
from migrate.sandbox.seeding import bundled_seed_dir

ROOT = "/voice/ivr/1/scenarios"
TIME_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
SEED = {
    path.name: json.loads(path.read_text(encoding="utf-8"))
    for path in sorted(bundled_seed_dir().glob("*.json"))
}
WELCOME = SEED["01-multilingual-welcome-menu.json"]
MISSING_ID = "0" * 32
HTTP = requests.Session()


def api(
    sandbox: RunningSandbox, method: str, path: str = "", *, auth: str | None = None, **kwargs: Any
) -> requests.Response:
    headers = dict(kwargs.pop("headers", {}))
    headers.setdefault("Authorization", auth or f"App {sandbox.api_key}")
    return HTTP.request(
        method, sandbox.base_url + ROOT + path, headers=headers, timeout=10, **kwargs
    )


def service_exception(response: requests.Response) -> dict[str, Any]:
    body = response.json()
    exception: dict[str, Any] = body["requestError"]["serviceException"]
    return exception


def new_body(**changes: Any) -> dict[str, Any]:
    body = {"name": "Created in a test", "description": "d", "script": ["hangup"]}
    body.update(changes)
    return body


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox(SandboxConfig(write_rate=None)) as running:
        yield running


@pytest.fixture(params=["memory", "sqlite"])
def stored(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningSandbox]:
    """A sandbox per storage backend, for the behaviour both must share."""
    db = tmp_path / "sandbox.sqlite" if request.param == "sqlite" else None
    with start_sandbox(SandboxConfig(write_rate=None, db_path=db)) as running:
        yield running


# -- search -------------------------------------------------------------------------------


def test_search_returns_the_seeded_examples_as_a_bare_array(stored: RunningSandbox) -> None:
    response = api(stored, "GET")

    assert response.status_code == 200, response.text
    found = response.json()
    assert isinstance(found, list)
    assert {s["id"] for s in found} == {s["id"] for s in SEED.values()}
    assert [s["createTime"] for s in found] == sorted(s["createTime"] for s in SEED.values())
    welcome = next(s for s in found if s["id"] == WELCOME["id"])
    assert welcome == WELCOME


def test_search_pages_through_everything_in_a_stable_order(stored: RunningSandbox) -> None:
    everything = api(stored, "GET").json()

    pages = [api(stored, "GET", params={"page": p, "pageSize": 3}).json() for p in (1, 2, 3, 4)]

    assert [len(page) for page in pages] == [3, 3, 1, 0]
    assert [s["id"] for page in pages for s in page] == [s["id"] for s in everything]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "one"}, "page"),
        ({"pageSize": "51"}, "pageSize"),
        ({"pageSize": "0"}, "pageSize"),
        ({"lastUsageDateSince": "2026-13-01"}, "lastUsageDateSince"),
        ({"lastUsageDateUntil": "16.02.2026"}, "lastUsageDateUntil"),
    ],
)
def test_bad_search_parameters_get_400_naming_the_parameter(
    sandbox: RunningSandbox, params: dict[str, str], field: str
) -> None:
    response = api(sandbox, "GET", params=params)

    assert response.status_code == 400
    assert service_exception(response)["messageId"] == "BAD_REQUEST"
    assert list(service_exception(response)["validationErrors"]) == [field]


def test_name_filter_is_a_case_insensitive_substring(stored: RunningSandbox) -> None:
    names = [s["name"] for s in api(stored, "GET", params={"name": "WEATHER"}).json()]
    assert names == ["City weather broadcast"]
    assert api(stored, "GET", params={"name": "no such scenario"}).json() == []


def test_last_usage_filters_fall_back_to_create_time_when_never_used(
    stored: RunningSandbox,
) -> None:
    unused = stored.add_scenario(
        new_body(name="Never used", createTime="2026-03-01T10:00:00.000+0000", lastUsageDate=None)
    )

    def names(**params: str) -> set[str]:
        return {s["name"] for s in api(stored, "GET", params=params).json()}

    since = names(lastUsageDateSince="2026-02-16")
    assert since == {"Telephone banking PIN check", "City weather broadcast", "Never used"}
    until = names(lastUsageDateUntil="2026-01-31")
    assert until == {"Multilingual welcome menu", "After-hours voicemail"}
    both = names(lastUsageDateSince="2026-02-15", lastUsageDateUntil="2026-02-15")
    assert both == {"Sales hunt group"}
    assert unused["lastUsageDate"] is None


# -- CRUD ---------------------------------------------------------------------------------


def test_create_get_update_delete_round_trip(stored: RunningSandbox) -> None:
    created = api(stored, "POST", json=new_body()).json()
    scenario_id = created["id"]
    assert re.fullmatch(r"[0-9A-F]{32}", scenario_id)
    assert TIME_FORMAT.match(created["createTime"])
    assert created["updateTime"] is None
    assert created["script"] == ["hangup"]
    assert api(stored, "GET", f"/{scenario_id}").json() == created

    update = new_body(name="Renamed", script=[{"say": "Goodbye"}, "hangup"])
    updated = api(stored, "PUT", f"/{scenario_id}", json=update).json()

    assert updated["name"] == "Renamed"
    assert updated["script"] == update["script"]
    assert updated["createTime"] == created["createTime"]
    assert TIME_FORMAT.match(updated["updateTime"])
    assert api(stored, "GET", f"/{scenario_id}").json() == updated
    assert stored.scenario(scenario_id) == updated

    deleted = api(stored, "DELETE", f"/{scenario_id}")
    assert deleted.status_code == 200
    gone = api(stored, "GET", f"/{scenario_id}")
    assert gone.status_code == 404
    assert service_exception(gone)["messageId"] == "NOT_FOUND"
    assert stored.scenario(scenario_id) is None


def test_put_is_a_full_replace_and_ignores_read_only_fields(stored: RunningSandbox) -> None:
    body = {
        "id": MISSING_ID,
        "createTime": "2000-01-01T00:00:00.000+0000",
        "updateTime": "2000-01-01T00:00:00.000+0000",
        "lastUsageDate": "2000-01-01",
        "name": "Replaced",
        "script": ["hangup"],
        "notifyUrl": "https://hooks.example.org/ivr",
        "record": True,
    }

    updated = api(stored, "PUT", f"/{WELCOME['id']}", json=body).json()

    assert updated["id"] == WELCOME["id"]
    assert updated["createTime"] == WELCOME["createTime"]
    assert updated["lastUsageDate"] == WELCOME["lastUsageDate"]
    assert updated["updateTime"] != body["updateTime"]
    assert "description" not in updated
    assert updated["notifyUrl"] == "https://hooks.example.org/ivr"
    assert updated["record"] is True
    assert stored.scenario(MISSING_ID) is None


def test_put_keeps_keys_the_model_does_not_know(stored: RunningSandbox) -> None:
    # Keys inside actions that the model does not know are stored and returned as sent: the
    # validator only warns about them (issue 11.1).
    script = [{"say": "Hi", "voice": "Joanna", "options": {"language": "en", "style": "calm"}}]

    response = api(stored, "PUT", f"/{WELCOME['id']}", json=new_body(script=script))

    assert response.status_code == 200, response.text
    assert api(stored, "GET", f"/{WELCOME['id']}").json()["script"] == script


def test_update_time_strictly_increases_on_every_put(stored: RunningSandbox) -> None:
    times = [
        api(stored, "PUT", f"/{WELCOME['id']}", json=new_body(name=f"v{i}")).json()["updateTime"]
        for i in range(5)
    ]

    parsed = [datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f%z") for t in times]
    assert parsed == sorted(set(parsed))
    assert parsed[0] > datetime.strptime(WELCOME["updateTime"], "%Y-%m-%dT%H:%M:%S.%f%z")


def test_invalid_put_gets_400_with_validation_errors_keyed_by_path(
    sandbox: RunningSandbox,
) -> None:
    body = new_body(
        script=[
            {"say": "Hi"},
            {"if": "${x == 1}", "then": [{"sendSms": {"to": "not a number", "text": "hi"}}]},
        ]
    )

    response = api(sandbox, "PUT", f"/{WELCOME['id']}", json=body)

    assert response.status_code == 400
    exception = service_exception(response)
    assert exception["messageId"] == "BAD_REQUEST"
    assert "script[1].if.then[0].sendSms.to" in exception["validationErrors"]
    assert all(isinstance(m, list) and m for m in exception["validationErrors"].values())
    assert sandbox.scenario(WELCOME["id"]) == WELCOME
    assert sandbox.put_counts() == {}


def test_create_without_name_or_script_is_refused(sandbox: RunningSandbox) -> None:
    response = api(sandbox, "POST", json={"description": "nothing else"})

    assert response.status_code == 400
    assert {"name", "script"} <= set(service_exception(response)["validationErrors"])


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_scenario_is_404(sandbox: RunningSandbox, method: str) -> None:
    body = new_body() if method == "PUT" else None

    response = api(sandbox, method, f"/{MISSING_ID}", json=body)

    assert response.status_code == 404
    assert service_exception(response)["messageId"] == "NOT_FOUND"


# -- authentication -----------------------------------------------------------------------

ACCOUNT = Account(
    "acme",
    api_keys=("acme-key",),
    basic=(("acme-user", "acme-password"),),
    tokens=("acme-token",),
)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def acme() -> Iterator[RunningSandbox]:
    with start_sandbox(SandboxConfig(accounts=(ACCOUNT,), write_rate=None)) as running:
        yield running


@pytest.mark.parametrize(
    "header",
    [
        "App acme-key",
        basic("acme-user", "acme-password"),
        "IBSSO acme-token",
        "Bearer acme-token",
    ],
)
def test_every_scheme_accepts_its_credentials(acme: RunningSandbox, header: str) -> None:
    response = api(acme, "GET", auth=header)

    assert response.status_code == 200, response.text
    assert acme.request_log()[-1].account == "acme"


@pytest.mark.parametrize(
    "header",
    [
        "App wrong-key",
        basic("acme-user", "wrong-password"),
        basic("someone", "acme-password"),
        "Basic not-base64!",
        "IBSSO wrong-token",
        "Bearer wrong-token",
        "Bearer acme-key",
        "Token acme-key",
        "App",
        "",
    ],
)
def test_bad_credentials_get_401_without_echoing_them(acme: RunningSandbox, header: str) -> None:
    response = requests.get(
        acme.base_url + ROOT, headers={"Authorization": header} if header else {}, timeout=10
    )

    assert response.status_code == 401
    assert service_exception(response)["messageId"] == "UNAUTHORIZED"
    assert "acme-" not in response.text and "wrong" not in response.text
    entry = acme.request_log()[-1]
    assert (entry.status, entry.account) == (401, None)


def test_a_read_only_account_gets_403_on_writes() -> None:
    reader = Account("reader", api_keys=("reader-key",), read_only=True)
    with start_sandbox(SandboxConfig(accounts=(reader,))) as running:
        assert api(running, "GET", f"/{WELCOME['id']}").status_code == 200
        response = api(running, "PUT", f"/{WELCOME['id']}", json=new_body())

        assert response.status_code == 403
        assert service_exception(response)["messageId"] == "FORBIDDEN"


def test_a_default_demo_account_has_a_random_key() -> None:
    first, second = SandboxConfig(), SandboxConfig()

    assert [a.name for a in first.accounts] == ["demo"]
    assert first.accounts[0].api_keys != second.accounts[0].api_keys
    assert "api_keys" not in repr(first.accounts[0])


# -- bad input ----------------------------------------------------------------------------

SCENARIO = f"/{WELCOME['id']}"
JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("PUT", SCENARIO, {"data": b'{"name": "x", ', "headers": JSON}, 400),
        ("PUT", SCENARIO, {"data": b"\xff\xfe{}", "headers": JSON}, 400),
        ("PUT", SCENARIO, {"data": b'{"name": NaN}', "headers": JSON}, 400),
        ("PUT", SCENARIO, {"data": b"", "headers": JSON}, 400),
        ("PUT", SCENARIO, {"data": b"[" * 100_000 + b"]" * 100_000, "headers": JSON}, 400),
        ("PUT", SCENARIO, {"json": [WELCOME]}, 400),
        ("PUT", SCENARIO, {"json": "a string"}, 400),
        ("PUT", SCENARIO, {"data": json.dumps(WELCOME), "headers": TEXT}, 415),
        ("PUT", SCENARIO, {"data": json.dumps(WELCOME).encode()}, 415),
        ("POST", "", {"data": "name=x", "headers": FORM}, 415),
        ("PUT", SCENARIO, {"data": b'{"name": "' + b"x" * 3_000_000 + b'"}', "headers": JSON}, 413),
        ("GET", "/not-an-id", {}, 400),
        ("GET", "/" + WELCOME["id"].lower(), {}, 400),
        ("DELETE", "/%3Cscript%3E", {}, 400),
        ("PUT", "/" + "Z" * 32, {"json": WELCOME}, 400),
        ("GET", "/../../etc/passwd", {}, 404),
        ("PATCH", SCENARIO, {"json": WELCOME}, 405),
        ("POST", SCENARIO, {"json": WELCOME}, 405),
    ],
)  # fmt: skip
def test_bad_input_gets_the_right_4xx_with_an_infobip_body(
    sandbox: RunningSandbox, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = api(sandbox, method, path, **kwargs)

    assert response.status_code == status, response.text
    exception = service_exception(response)
    assert exception["messageId"] and exception["text"]
    assert "Traceback" not in response.text
    assert sandbox.scenario(WELCOME["id"]) == WELCOME
    assert api(sandbox, "GET", SCENARIO).status_code == 200


def test_a_list_body_is_reported_on_the_body_path(sandbox: RunningSandbox) -> None:
    response = api(sandbox, "PUT", SCENARIO, json=[WELCOME])

    assert list(service_exception(response)["validationErrors"]) == ["body"]


# -- request log and admin endpoints ------------------------------------------------------


def test_the_request_log_records_every_request_without_secrets(acme: RunningSandbox) -> None:
    api(acme, "GET", auth="App acme-key")
    api(acme, "PUT", SCENARIO, auth="App acme-key", json=new_body())
    api(acme, "PUT", f"/{MISSING_ID}", auth="App acme-key", json=new_body())
    api(acme, "GET", auth="App nope")

    log = acme.request_log()
    assert [(e.method, e.scenario_id, e.account, e.status, e.outcome, e.stored) for e in log] == [
        ("GET", None, "acme", 200, "answered", False),
        ("PUT", WELCOME["id"], "acme", 200, "stored", True),
        ("PUT", MISSING_ID, "acme", 404, "answered", False),
        ("GET", None, None, 401, "answered", False),
    ]
    assert [e.seq for e in log] == [1, 2, 3, 4]
    assert log[1].path == ROOT + SCENARIO
    assert acme.put_counts() == {WELCOME["id"]: 1}
    assert "acme-key" not in repr(log) and "nope" not in repr(log)


def test_admin_endpoints_serve_the_log_counts_and_faults(acme: RunningSandbox) -> None:
    auth = {"Authorization": "Bearer acme-token"}
    admin = acme.base_url + "/_sandbox"
    api(acme, "PUT", SCENARIO, auth="App acme-key", json=new_body())

    log = requests.get(admin + "/log", headers=auth, timeout=10).json()
    counts = requests.get(admin + "/put-counts", headers=auth, timeout=10).json()
    assert [(e["method"], e["outcome"], e["scenario_id"]) for e in log] == [
        ("PUT", "stored", WELCOME["id"])
    ]
    assert counts == {WELCOME["id"]: 1}

    faults = {"sequence": [503], "methods": ["GET"]}
    put = requests.put(admin + "/faults", headers=auth, json=faults, timeout=10)
    assert put.status_code == 200, put.text
    assert requests.get(admin + "/faults", headers=auth, timeout=10).json()["sequence"] == [503]
    assert api(acme, "GET", auth="App acme-key").status_code == 503
    assert api(acme, "GET", auth="App acme-key").status_code == 200

    bad = requests.put(admin + "/faults", headers=auth, json={"hang_rate": 2}, timeout=10)
    assert bad.status_code == 400
    assert service_exception(bad)["messageId"] == "BAD_REQUEST"

    assert requests.post(admin + "/reset-log", headers=auth, timeout=10).status_code == 200
    assert acme.request_log() == [] and acme.put_counts() == {}
    assert requests.get(admin + "/log", timeout=10).status_code == 401
    assert acme.request_log() == []


def test_serve_sandbox_runs_inside_an_event_loop() -> None:
    async def scenario() -> tuple[int, str, dict[str, int]]:
        async with serve_sandbox(SandboxConfig()) as running:
            headers = {"Authorization": f"App {running.api_key}"}
            async with aiohttp.ClientSession(running.base_url, headers=headers) as session:
                async with session.get(ROOT + SCENARIO) as response:
                    status = response.status
                    body = await response.json()
                update = {**body, "name": "Renamed in a loop"}
                async with session.put(ROOT + SCENARIO, json=update) as response:
                    renamed = (await response.json())["name"]
            return status, renamed, running.put_counts()

    assert asyncio.run(scenario()) == (200, "Renamed in a loop", {WELCOME["id"]: 1})
