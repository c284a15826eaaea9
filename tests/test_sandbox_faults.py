"""Fault injection as a client sees it over loopback HTTP, and as the request log counts it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest
import requests

from migrate.errors import ConfigError
from migrate.sandbox import Faults, RunningSandbox, SandboxConfig, serve_sandbox, start_sandbox
from migrate.sandbox.faults import DEFAULT_HUGE_BODY_BYTES, FaultInjector

ROOT = "/voice/ivr/1/scenarios"
WELCOME_ID = "0B0458310896E39079FC9CFC65BF4138"
URL = f"{ROOT}/{WELCOME_ID}"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox(SandboxConfig(write_rate=None)) as running:
        yield running


def send(
    sandbox: RunningSandbox, method: str = "GET", *, name: str | None = None, timeout: float = 10
) -> requests.Response:
    """One request on a fresh connection (requests does not resend a failed one)."""
    body = None
    if name is not None:
        body = {**(sandbox.scenario(WELCOME_ID) or {}), "name": name}
    headers = {"Authorization": f"App {sandbox.api_key}"}
    return requests.request(
        method, sandbox.base_url + URL, json=body, headers=headers, timeout=timeout
    )


def statuses(sandbox: RunningSandbox, count: int) -> list[int]:
    return [send(sandbox).status_code for _ in range(count)]


def test_an_error_rate_answers_that_status_with_an_infobip_body(sandbox: RunningSandbox) -> None:
    sandbox.set_faults(error_rates={503: 1.0})

    response = send(sandbox)

    assert response.status_code == 503
    exception = response.json()["requestError"]["serviceException"]
    assert exception["messageId"] == "SERVICE_UNAVAILABLE"
    assert sandbox.request_log()[-1].outcome == "injected"


def test_error_rates_are_reproducible_from_the_seed(sandbox: RunningSandbox) -> None:
    faults = Faults(error_rates={500: 0.3, 429: 0.2}, seed=7)

    sandbox.set_faults(faults)
    first = statuses(sandbox, 40)
    sandbox.set_faults(faults)
    second = statuses(sandbox, 40)

    assert first == second
    assert {200, 500, 429} == set(first)
    injected = [e for e in sandbox.request_log() if e.outcome == "injected"]
    assert len(injected) == 2 * sum(status != 200 for status in first)


def test_a_sequence_scripts_the_next_outcomes_exactly(sandbox: RunningSandbox) -> None:
    sandbox.set_faults(sequence=(500, "ok", 429))

    assert statuses(sandbox, 4) == [500, 200, 429, 200]


def test_faults_can_be_limited_to_one_method(sandbox: RunningSandbox) -> None:
    sandbox.set_faults(error_rates={500: 1.0}, methods=frozenset({"PUT"}))

    assert send(sandbox).status_code == 200
    assert send(sandbox, "PUT", name="x").status_code == 500
    assert sandbox.put_counts() == {}


def test_added_latency_makes_a_short_client_timeout_expire(sandbox: RunningSandbox) -> None:
    sandbox.set_faults(latency_ms=1000)

    with pytest.raises(requests.Timeout):
        send(sandbox, timeout=0.1)

    sandbox.set_faults(Faults())
    assert send(sandbox).status_code == 200


def test_a_hung_request_is_never_answered_until_the_client_gives_up(
    sandbox: RunningSandbox,
) -> None:
    sandbox.set_faults(sequence=("hang",))

    with pytest.raises(requests.ReadTimeout):
        send(sandbox, "PUT", name="Never stored", timeout=0.3)

    assert send(sandbox).status_code == 200
    hung = sandbox.request_log()[0]
    assert (hung.method, hung.status, hung.outcome, hung.stored) == ("PUT", None, "hung", False)
    assert sandbox.scenario(WELCOME_ID)["name"] != "Never stored"  # type: ignore[index]


def test_stopping_releases_hung_requests() -> None:
    with start_sandbox(SandboxConfig(faults=Faults(hang_rate=1.0))) as sandbox:
        with pytest.raises(requests.RequestException):
            send(sandbox, timeout=0.2)
        assert [e.outcome for e in sandbox.request_log()] == ["hung"]
    # reaching here means stop() returned although a handler was still hanging


def test_a_drop_before_the_write_leaves_the_scenario_unchanged(sandbox: RunningSandbox) -> None:
    before = sandbox.scenario(WELCOME_ID)
    sandbox.set_faults(drop_before_rate=1.0, methods=frozenset({"PUT"}))

    with pytest.raises(requests.ConnectionError):
        send(sandbox, "PUT", name="Dropped before")

    assert sandbox.scenario(WELCOME_ID) == before
    assert sandbox.put_counts() == {}
    entry = sandbox.request_log()[-1]
    assert (entry.status, entry.outcome, entry.stored) == (None, "dropped_before", False)


def test_a_drop_after_the_write_stores_it_though_the_client_saw_an_error(
    sandbox: RunningSandbox,
) -> None:
    sandbox.set_faults(drop_after_rate=1.0, methods=frozenset({"PUT"}))

    with pytest.raises(requests.ConnectionError):
        send(sandbox, "PUT", name="Dropped after")

    assert sandbox.scenario(WELCOME_ID)["name"] == "Dropped after"  # type: ignore[index]
    assert sandbox.put_counts() == {WELCOME_ID: 1}
    entry = sandbox.request_log()[-1]
    assert (entry.status, entry.outcome, entry.stored) == (None, "dropped_after", True)


def test_an_aiohttp_client_sees_a_dropped_connection_as_a_disconnect() -> None:
    async def scenario() -> type[BaseException]:
        config = SandboxConfig(faults=Faults(sequence=("drop_before",)))
        async with serve_sandbox(config) as running:
            headers = {"Authorization": f"App {running.api_key}"}
            # force_close: a fresh connection per request, so aiohttp does not resend it
            connector = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
                session._retry_connection = False  # aiohttp resends idempotent requests once
                try:
                    async with session.get(running.base_url + URL):
                        pass
                except aiohttp.ClientError as exc:
                    return type(exc)
        raise AssertionError("the request was answered")

    assert issubclass(asyncio.run(scenario()), aiohttp.ServerDisconnectedError)


def test_faults_given_at_start_apply_from_the_first_request() -> None:
    config = SandboxConfig(faults=Faults(sequence=(502,)))
    with start_sandbox(config) as sandbox:
        assert statuses(sandbox, 2) == [502, 200]


def test_the_log_tallies_every_kind_of_outcome(sandbox: RunningSandbox) -> None:
    sandbox.set_faults(sequence=("drop_before", "drop_after", 500, "ok"))
    for name in ("a", "b", "c", "d"):
        with contextlib.suppress(requests.ConnectionError):
            send(sandbox, "PUT", name=name)

    outcomes = [(e.outcome, e.stored) for e in sandbox.request_log()]
    assert outcomes == [
        ("dropped_before", False),
        ("dropped_after", True),
        ("injected", False),
        ("stored", True),
    ]
    assert sandbox.put_counts() == {WELCOME_ID: 2}


@pytest.mark.parametrize(
    "faults",
    [
        {"hang_rate": 1.5},
        {"error_rates": {200: 0.1}},
        {"error_rates": {500: 0.6}, "drop_after_rate": 0.6},
        {"sequence": ["explode"]},
        {"latency_ms": -1},
    ],
)
def test_impossible_faults_are_refused(faults: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        Faults.from_json(faults)


# -- held requests, and bodies a careless client chokes on --------------------------------

#: How long a test waits for a held request to show up in the log before it gives up.
POLL_LIMIT = 20.0


def wait_for_entry(sandbox: RunningSandbox, outcome: str) -> dict[str, Any]:
    """Poll ``GET /_sandbox/log`` (as a test in another process would) for an outcome."""
    headers = {"Authorization": f"App {sandbox.api_key}"}
    deadline = time.monotonic() + POLL_LIMIT
    while time.monotonic() < deadline:
        log = requests.get(sandbox.base_url + "/_sandbox/log", headers=headers, timeout=10)
        found = [entry for entry in log.json() if entry["outcome"] == outcome]
        if found:
            return found[-1]
        time.sleep(0.02)
    raise AssertionError(f"no {outcome!r} entry in the log after {POLL_LIMIT} s")


def put_in_background(sandbox: RunningSandbox, name: str) -> Future[requests.Response]:
    """A PUT that waits for its answer (30 s) in a thread, while the test looks at the log."""
    body = {**(sandbox.scenario(WELCOME_ID) or {}), "name": name}
    headers = {"Authorization": f"App {sandbox.api_key}"}
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(
            requests.put, sandbox.base_url + URL, json=body, headers=headers, timeout=30
        )
    finally:
        pool.shutdown(wait=False)


@pytest.mark.parametrize(("action", "outcome"), [("hang", "hung"), ("hold_before", "held_before")])
def test_a_request_held_before_the_handler_is_logged_while_the_client_waits(
    action: str, outcome: str
) -> None:
    with start_sandbox(SandboxConfig(write_rate=None)) as sandbox:
        sandbox.set_faults(sequence=(action,))
        pending = put_in_background(sandbox, "Held before")

        entry = wait_for_entry(sandbox, outcome)

        assert not pending.done()  # the client is still waiting for its answer
        assert (entry["method"], entry["status"]) == ("PUT", None)
        assert (entry["held"], entry["stored"]) == (True, False)
        assert sandbox.scenario(WELCOME_ID)["name"] != "Held before"  # type: ignore[index]
        assert sandbox.put_counts() == {}
    # stopping the sandbox ends the hold: the client sees the connection closed
    assert isinstance(pending.exception(timeout=30), requests.ConnectionError)


def test_a_put_held_after_the_handler_is_stored_and_logged_before_the_client_is_killed() -> None:
    with start_sandbox(SandboxConfig(write_rate=None)) as sandbox:
        headers = {"Authorization": f"App {sandbox.api_key}"}
        faults = {"sequence": ["hold_after"], "methods": ["PUT"]}
        set_ = requests.put(
            sandbox.base_url + "/_sandbox/faults", json=faults, headers=headers, timeout=10
        )
        assert set_.status_code == 200, set_.text
        body = {**(sandbox.scenario(WELCOME_ID) or {}), "name": "Held after"}
        client = subprocess.Popen(
            [sys.executable, "-c", CLIENT, sandbox.base_url + URL, sandbox.api_key, "PUT"],
            stdin=subprocess.PIPE,
            text=True,
        )
        try:
            assert client.stdin is not None
            client.stdin.write(json.dumps(body))
            client.stdin.close()

            entry = wait_for_entry(sandbox, "held_after")
            assert client.poll() is None  # still waiting for an answer when it is killed
        finally:
            client.kill()
            client.wait()

        assert (entry["method"], entry["status"], entry["held"], entry["stored"]) == (
            "PUT",
            None,
            True,
            True,
        )
        assert sandbox.scenario(WELCOME_ID)["name"] == "Held after"  # type: ignore[index]
        assert sandbox.put_counts() == {WELCOME_ID: 1}
        assert send(sandbox).status_code == 200  # the sandbox serves on after the kill


#: A client in its own process: sends stdin as the body, waits up to 60 s for the answer.
CLIENT = """
import sys, requests
url, key, method = sys.argv[1:4]
requests.request(method, url, data=sys.stdin.read(), timeout=60,
                 headers={"Authorization": "App " + key, "Content-Type": "application/json"})
"""


def test_a_nested_answer_is_valid_json_that_pythons_decoder_cannot_read(
    sandbox: RunningSandbox,
) -> None:
    sandbox.set_faults(nested_rate=1.0, methods=frozenset({"GET"}))

    response = send(sandbox)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.content == b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(RecursionError):
        json.loads(response.content)
    entry = sandbox.request_log()[-1]
    assert (entry.status, entry.outcome, entry.stored, entry.held) == (200, "nested", False, False)


def test_the_nesting_depth_is_configurable_and_a_put_under_it_is_stored(
    sandbox: RunningSandbox,
) -> None:
    sandbox.set_faults(sequence=("nested",), nested_depth=3)

    response = send(sandbox, "PUT", name="Stored under a nested answer")

    assert json.loads(response.content) == [[[]]]
    assert sandbox.scenario(WELCOME_ID)["name"] == "Stored under a nested answer"  # type: ignore[index]
    entry = sandbox.request_log()[-1]
    assert (entry.outcome, entry.stored) == ("nested", True)


def test_a_huge_answer_is_streamed_past_the_default_20_mib() -> None:
    async def scenario() -> tuple[int, str | None, int, bytes]:
        config = SandboxConfig(faults=Faults(sequence=("huge",)))
        async with serve_sandbox(config) as running:
            headers = {"Authorization": f"App {running.api_key}"}
            async with (
                aiohttp.ClientSession(headers=headers) as session,
                session.get(running.base_url + URL) as response,
            ):
                size, head = 0, b""
                async for chunk in response.content.iter_chunked(1 << 16):
                    head = head or chunk[:12]
                    size += len(chunk)
                return response.status, response.headers.get("Content-Length"), size, head

    status, length, size, head = asyncio.run(scenario())

    assert (status, length, head) == (200, None, b'{"padding":"')
    assert size == DEFAULT_HUGE_BODY_BYTES + 1


def test_a_huge_answer_is_json_of_the_configured_size_and_survives_a_client_leaving(
    sandbox: RunningSandbox,
) -> None:
    sandbox.set_faults(sequence=("huge", "huge"), huge_body_bytes=300_000)

    whole = send(sandbox)
    headers = {"Authorization": f"App {sandbox.api_key}"}
    with requests.get(sandbox.base_url + URL, headers=headers, stream=True, timeout=10) as left:
        next(left.iter_content(1024))  # read a little, then hang up

    assert whole.status_code == 200 and "Content-Length" not in whole.headers
    assert len(whole.content) == 300_001
    assert set(whole.json()) == {"padding"}
    assert send(sandbox).status_code == 200
    assert [e.outcome for e in sandbox.request_log()] == ["huge", "huge", "answered"]


@pytest.mark.parametrize(
    "faults",
    [
        {"huge_body_bytes": 0},
        {"nested_depth": -5},
        {"nested_depth": 2.5},
        {"nested_rate": 0.6, "huge_rate": 0.6},
        {"hold_after_rate": 1.1},
        {"sequence": ["hold"]},
    ],
)
def test_impossible_new_faults_are_refused(faults: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        Faults.from_json(faults)


def test_the_new_rates_are_drawn_like_the_others() -> None:
    faults = Faults(hold_before_rate=0.25, hold_after_rate=0.25, nested_rate=0.25, huge_rate=0.25)
    injector = FaultInjector(faults)

    drawn = {injector.decide("GET").outcome for _ in range(200)}

    assert drawn == {"hold_before", "hold_after", "nested", "huge"}
    assert faults.active and not Faults().active
