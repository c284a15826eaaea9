"""Fault injection as a client sees it over loopback HTTP, and as the request log counts it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import aiohttp
import pytest
import requests

from migrate.errors import ConfigError
from migrate.sandbox import Faults, RunningSandbox, SandboxConfig, serve_sandbox, start_sandbox

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
