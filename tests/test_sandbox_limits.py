"""Per-account rate limits of the sandbox: strict sliding windows over arrival time.

Most tests drive the windows with an injected clock, so they neither sleep nor depend on how
fast the machine is; one test uses a real (compressed) window end to end.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import requests

from migrate.config import Rate
from migrate.sandbox import (
    Account,
    RunningSandbox,
    SandboxConfig,
    start_accounts_sandbox,
    start_sandbox,
)
from migrate.sandbox.command import build_config
from migrate.sandbox.limits import SlidingWindow

ROOT = "/voice/ivr/1/scenarios"
WELCOME_ID = "0B0458310896E39079FC9CFC65BF4138"
BODY = {"name": "Limited", "script": ["hangup"]}
HTTP = requests.Session()


class FakeClock:
    """The sandbox's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def put(sandbox: RunningSandbox, key: str | None = None, scenario_id: str = WELCOME_ID) -> int:
    return call(sandbox, "PUT", f"/{scenario_id}", key, json=BODY)


def get(sandbox: RunningSandbox, key: str | None = None) -> int:
    return call(sandbox, "GET", f"/{WELCOME_ID}", key)


def call(sandbox: RunningSandbox, method: str, path: str, key: str | None, **kwargs: Any) -> int:
    headers = {"Authorization": f"App {key or sandbox.api_key}"}
    url = sandbox.base_url + ROOT + path
    return HTTP.request(method, url, headers=headers, timeout=10, **kwargs).status_code


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[RunningSandbox]:
    config = SandboxConfig(clock=clock, read_rate=Rate(3, 10))
    with start_sandbox(config) as running:
        yield running


def test_the_seventh_write_in_a_minute_gets_429(sandbox: RunningSandbox, clock: FakeClock) -> None:
    statuses = []
    for _ in range(7):
        statuses.append(put(sandbox))
        clock.advance(1)

    assert statuses == [200] * 6 + [429]
    assert sandbox.put_counts() == {WELCOME_ID: 6}
    assert [e.outcome for e in sandbox.request_log()][-1] == "limited"


def test_the_429_body_is_infobips_and_has_no_retry_after_by_default(
    sandbox: RunningSandbox,
) -> None:
    for _ in range(6):
        put(sandbox)

    response = HTTP.put(
        sandbox.base_url + ROOT + f"/{WELCOME_ID}",
        json=BODY,
        headers={"Authorization": f"App {sandbox.api_key}"},
        timeout=10,
    )

    assert response.status_code == 429
    assert response.json()["requestError"]["serviceException"]["messageId"] == "TOO_MANY_REQUESTS"
    assert "Retry-After" not in response.headers


def test_writes_pass_again_once_the_window_has_moved_past_them(
    sandbox: RunningSandbox, clock: FakeClock
) -> None:
    for _ in range(6):
        assert put(sandbox) == 200
    clock.advance(59.9)
    assert put(sandbox) == 429

    clock.advance(0.1)

    assert put(sandbox) == 200


def test_the_window_slides_rather_than_resetting(sandbox: RunningSandbox, clock: FakeClock) -> None:
    assert put(sandbox) == 200
    clock.advance(30)
    for _ in range(5):
        assert put(sandbox) == 200

    clock.advance(31)  # the first write left the window; the other five are still in it

    assert [put(sandbox), put(sandbox)] == [200, 429]


def test_refused_writes_do_not_count_toward_the_window(
    sandbox: RunningSandbox, clock: FakeClock
) -> None:
    for _ in range(6):
        put(sandbox)
    clock.advance(59)
    assert [put(sandbox), put(sandbox)] == [429, 429]

    clock.advance(1)

    assert [put(sandbox) for _ in range(7)] == [200] * 6 + [429]


def test_post_and_delete_count_as_writes(sandbox: RunningSandbox) -> None:
    created = [call(sandbox, "POST", "", None, json=BODY) for _ in range(5)]

    assert created == [200] * 5
    assert call(sandbox, "DELETE", f"/{WELCOME_ID}", None) == 200
    assert put(sandbox) == 429


def test_reads_are_limited_separately_from_writes(
    sandbox: RunningSandbox, clock: FakeClock
) -> None:
    assert [get(sandbox) for _ in range(4)] == [200, 200, 200, 429]
    assert put(sandbox) == 200  # reads used up, writes untouched
    for _ in range(5):
        put(sandbox)
    assert put(sandbox) == 429

    clock.advance(10)

    assert get(sandbox) == 200


def test_refused_credentials_use_no_slot(sandbox: RunningSandbox) -> None:
    for _ in range(10):
        assert put(sandbox, key="not-a-key") == 401

    assert [put(sandbox) for _ in range(6)] == [200] * 6


def test_accounts_have_separate_limits_and_separate_scenarios(clock: FakeClock) -> None:
    big = Account("big", api_keys=("big-key",))
    small = Account("small", api_keys=("small-key",), write_rate=Rate(1, 60), seeded=False)
    with start_sandbox(SandboxConfig(accounts=(big, small), clock=clock)) as sandbox:
        assert get(sandbox, "small-key") == 404
        created = HTTP.post(
            sandbox.base_url + ROOT,
            json=BODY,
            headers={"Authorization": "App small-key"},
            timeout=10,
        ).json()
        assert put(sandbox, "small-key", created["id"]) == 429
        assert call(sandbox, "GET", "", "small-key") == 200

        assert [put(sandbox, "big-key") for _ in range(7)] == [200] * 6 + [429]
        assert put(sandbox, "big-key", created["id"]) == 429
        assert sandbox.scenario(created["id"], account="big") is None
        assert sandbox.scenario(created["id"], account="small") is not None
        assert sandbox.put_counts(account="big") == {WELCOME_ID: 6}
        assert sandbox.put_counts(account="small") == {}


def test_retry_after_is_sent_when_enabled(clock: FakeClock) -> None:
    config = SandboxConfig(clock=clock, write_rate=Rate(1, 60), retry_after=True)
    with start_sandbox(config) as sandbox:
        put(sandbox)
        clock.advance(20.5)
        response = HTTP.put(
            sandbox.base_url + ROOT + f"/{WELCOME_ID}",
            json=BODY,
            headers={"Authorization": f"App {sandbox.api_key}"},
            timeout=10,
        )

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "40"


def test_reset_limits_forgets_every_window(sandbox: RunningSandbox) -> None:
    for _ in range(6):
        put(sandbox)

    sandbox.reset_limits()

    assert put(sandbox) == 200


def test_a_real_compressed_window_end_to_end() -> None:
    period = 0.5
    with start_sandbox(SandboxConfig(write_rate=Rate(3, period))) as sandbox:
        started = time.monotonic()
        statuses = [put(sandbox) for _ in range(4)]
        if time.monotonic() - started < period:  # all four arrived inside one window
            assert statuses == [200, 200, 200, 429]
        time.sleep(period)

        assert put(sandbox) == 200


@pytest.mark.parametrize(
    ("arrivals", "admitted"),
    [
        ([0.0, 0.1, 0.2, 0.3], [True, True, True, False]),
        ([0.0, 0.1, 0.2, 1.0], [True, True, True, True]),
        ([0.0, 0.1, 0.2, 0.99, 1.0], [True, True, True, False, True]),
        ([0.0, 0.5, 0.6, 0.9, 1.0, 1.4], [True, True, True, False, True, False]),
    ],
)
def test_sliding_window_counts_admissions_in_the_last_period(
    arrivals: list[float], admitted: list[bool]
) -> None:
    window = SlidingWindow(Rate(3, 1.0))

    assert [window.admit(t) is None for t in arrivals] == admitted


# -- a strict window, not a token bucket, at compressed time ------------------------------

COMPRESSED = Rate(6, 0.6)


def test_after_a_burst_no_write_passes_until_the_burst_leaves_the_window(
    clock: FakeClock,
) -> None:
    # A token bucket of 6 per 0.6 s refills one token every 0.1 s; a strict window does not.
    with start_sandbox(SandboxConfig(clock=clock, write_rate=COMPRESSED)) as sandbox:
        burst = [put(sandbox) for _ in range(6)]
        during = []
        for _ in range(5):
            clock.advance(0.1)
            during.append(put(sandbox))
        clock.advance(0.1 + 1e-9)

        assert burst == [200] * 6
        assert during == [429] * 5
        assert put(sandbox) == 200


def test_no_window_of_the_period_ever_admits_more_than_n_writes(clock: FakeClock) -> None:
    rng = random.Random(11)
    start = clock.now
    arrivals = sorted(start + rng.uniform(0, 3.0) for _ in range(60))
    with start_sandbox(SandboxConfig(clock=clock, write_rate=COMPRESSED)) as sandbox:
        admitted: list[float] = []
        for moment in arrivals:
            clock.now = moment
            in_window = [t for t in admitted if t > moment - COMPRESSED.period]
            expected = 200 if len(in_window) < COMPRESSED.count else 429

            assert put(sandbox) == expected, f"write at {moment - start:.3f} s"
            if expected == 200:
                admitted.append(moment)

        assert sandbox.put_counts() == {WELCOME_ID: len(admitted)}
    assert 0 < len(admitted) < len(arrivals)  # the arrivals did press against the limit
    for moment in admitted:
        window = [t for t in admitted if moment - COMPRESSED.period < t <= moment]
        assert len(window) <= COMPRESSED.count


# -- several accounts ---------------------------------------------------------------------


def test_two_accounts_from_key_options_have_their_own_window_and_scenarios(
    clock: FakeClock,
) -> None:
    options = build_config(
        seed_dir=None,
        no_seed=False,
        db_path=None,
        write_rate="6/60s",
        read_rate="none",
        keys=["eu=K1", "us=K2"],
    )
    with start_sandbox(replace(options, clock=clock)) as sandbox:
        eu = [put(sandbox, "K1") for _ in range(7)]
        us_before = sandbox.scenario(WELCOME_ID, account="us")
        us = [put(sandbox, "K2") for _ in range(7)]

        assert eu == us == [200] * 6 + [429]
        assert us_before is not None and us_before["name"] != BODY["name"]
        assert (
            sandbox.put_counts(account="eu") == sandbox.put_counts(account="us") == {WELCOME_ID: 6}
        )
        eu_ids = {s["id"] for s in sandbox.scenarios(account="eu")}
        assert eu_ids == {s["id"] for s in sandbox.scenarios(account="us")}
        assert WELCOME_ID in eu_ids


def test_start_accounts_sandbox_gives_each_account_its_url_and_credentials(
    clock: FakeClock,
) -> None:
    config = SandboxConfig(clock=clock, write_rate=Rate(1, 60))
    with start_accounts_sandbox(["eu", "us", "apac"], config) as sandbox:
        endpoints = sandbox.endpoints()
        statuses = {}
        for name, endpoint in endpoints.items():
            headers = {"Authorization": endpoint.credentials.authorization()}
            url = endpoint.base_url + ROOT + f"/{WELCOME_ID}"
            first = HTTP.put(url, json={**BODY, "name": name}, headers=headers, timeout=10)
            second = HTTP.put(url, json=BODY, headers=headers, timeout=10)
            statuses[name] = (first.status_code, second.status_code)

        assert list(endpoints) == ["eu", "us", "apac"]
        assert statuses == {"eu": (200, 429), "us": (200, 429), "apac": (200, 429)}
        assert {e.base_url for e in endpoints.values()} == {sandbox.base_url}
        for name in endpoints:
            assert sandbox.scenario(WELCOME_ID, account=name)["name"] == name  # type: ignore[index]
        keys = {e.env()["INFOBIP_API_KEY"] for e in endpoints.values()}
        assert len(keys) == 3
        assert endpoints["us"].env()["INFOBIP_BASE_URL"] == sandbox.base_url
        assert sandbox.endpoint("us") == endpoints["us"]
        assert not any(key in repr(endpoints) for key in keys)
