"""Back-off with full jitter, Retry-After honoured, retryability from the exception tree."""

from __future__ import annotations

import random

import pytest

from migrate.errors import (
    BadRequest,
    ConfigError,
    NotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransportError,
    Unauthorized,
)
from migrate.retry import DEFAULT_RETRY, RetryPolicy, is_retryable


def test_default_policy_matches_the_contract() -> None:
    assert (DEFAULT_RETRY.max_attempts, DEFAULT_RETRY.base_delay, DEFAULT_RETRY.max_delay) == (
        6,
        0.5,
        60.0,
    )


@pytest.mark.parametrize(
    "attempt, cap", [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (8, 60.0), (500, 60.0)]
)
def test_backoff_cap_doubles_up_to_max_delay(attempt: int, cap: float) -> None:
    assert DEFAULT_RETRY.backoff_cap(attempt) == cap


def test_full_jitter_draws_anywhere_between_zero_and_the_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rng=random.Random(7))
    draws = [policy.delay(4) for _ in range(2000)]
    assert all(0.0 <= d <= 8.0 for d in draws)
    assert min(draws) < 0.5 and max(draws) > 7.5  # spread over the whole range, not clustered
    assert len(set(draws)) == len(draws)


def test_jitter_is_reproducible_with_a_seeded_rng() -> None:
    first = RetryPolicy(rng=random.Random(1))
    second = RetryPolicy(rng=random.Random(1))
    assert [first.delay(n) for n in range(1, 7)] == [second.delay(n) for n in range(1, 7)]


def test_retry_after_wins_even_beyond_max_delay() -> None:
    policy = RetryPolicy(max_delay=60.0)
    assert policy.delay(1, retry_after=120.0) == 120.0
    assert policy.delay(5, retry_after=0.0) == 0.0


def test_retry_after_is_bounded_and_sane() -> None:
    policy = RetryPolicy(max_retry_after=600.0)
    assert policy.delay(1, retry_after=86_400.0) == 600.0
    assert policy.delay(1, retry_after=-5.0) == 0.0
    assert 0.0 <= policy.delay(1, retry_after=float("nan")) <= policy.backoff_cap(1)


def test_delay_for_reads_retry_after_from_a_rate_limited_error() -> None:
    policy = RetryPolicy(rng=random.Random(3))
    limited = RateLimited("429", status=429, retry_after=42.0)
    assert policy.delay_for(limited, 1) == 42.0
    assert 0.0 <= policy.delay_for(RateLimited("429", status=429), 2) <= 1.0
    assert 0.0 <= policy.delay_for(ServerError("500", status=500), 3) <= 2.0


@pytest.mark.parametrize(
    "exc, retryable",
    [
        (RateLimited("x", status=429), True),
        (ServerError("x", status=503), True),
        (TransportError("x"), True),
        (RequestTimeout("x"), True),
        (BadRequest("x", status=400), False),
        (Unauthorized("x", status=401), False),
        (NotFound("x", status=404), False),
        (ValueError("not ours"), False),
    ],
)
def test_is_retryable_follows_the_exception_tree(exc: Exception, retryable: bool) -> None:
    assert is_retryable(exc) is retryable


def test_should_retry_stops_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    error = ServerError("x", status=500)
    assert [policy.should_retry(error, n) for n in (1, 2, 3)] == [True, True, False]
    assert policy.should_retry(BadRequest("x", status=400), 1) is False


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"base_delay": -1.0},
        {"base_delay": 10.0, "max_delay": 1.0},
        {"max_retry_after": -1.0},
    ],
)
def test_impossible_policies_are_configuration_errors(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
