"""How long to wait before sending a failed request again, and whether to.

One policy serves both retry loops: the client's (reads: GET and search) and the engine's (writes,
which it retries itself because a dropped PUT is ambiguous). ``attempt`` always counts the attempts
already made, the first included, so ``delay(1)`` is the wait after the first failure.

Back-off is exponential with *full jitter*: a uniform draw from ``[0, min(max_delay, base_delay ×
2**(attempt-1))]``, so that workers that failed together do not come back together.

A server's ``Retry-After`` wins over back-off, and is honoured even beyond ``max_delay``: a server
that asks for 120 s gets 120 s, because retrying sooner only earns another 429 and burns an
attempt. It is still capped at ``max_retry_after`` (10 min) so that a bogus header cannot stall a
run for hours; after that cap the retry may be refused again and the row ends ``failed``
(retryable), which ``ivr-migrate retry RUN`` picks up later.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Final

from migrate.errors import ApiError, ConfigError, RateLimited


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential back-off and full jitter."""

    #: Attempts in all, the first one included.
    max_attempts: int = 6
    #: Upper bound of the first back-off draw, in seconds; doubles with each attempt.
    base_delay: float = 0.5
    #: Upper bound of any back-off draw (not of a server's ``Retry-After``).
    max_delay: float = 60.0
    #: Upper bound of a server's ``Retry-After``.
    max_retry_after: float = 600.0
    #: Source of jitter; pass ``random.Random(seed)`` in tests.
    rng: random.Random = field(default_factory=random.Random, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, not {self.max_attempts}")
        if not 0 <= self.base_delay <= self.max_delay:
            raise ConfigError(
                f"retry delays must satisfy 0 <= base_delay ({self.base_delay}) "
                f"<= max_delay ({self.max_delay})"
            )
        if self.max_retry_after < 0:
            raise ConfigError(f"max_retry_after must not be negative: {self.max_retry_after}")

    def backoff_cap(self, attempt: int) -> float:
        """The largest back-off after ``attempt`` attempts (before jitter)."""
        exponent = max(attempt, 1) - 1
        # min() before 2**n would overflow for absurd attempt numbers
        if exponent >= 64:
            return self.max_delay
        return min(self.max_delay, self.base_delay * 2.0**exponent)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after ``attempt`` failed attempts.

        ``retry_after`` (the server's hint, in seconds) is used as given, up to
        ``max_retry_after``; otherwise a full-jitter draw up to :meth:`backoff_cap`.
        """
        if retry_after is not None and math.isfinite(retry_after):
            return min(max(retry_after, 0.0), self.max_retry_after)
        return self.rng.uniform(0.0, self.backoff_cap(attempt))

    def delay_for(self, exc: BaseException, attempt: int) -> float:
        """:meth:`delay` with the ``Retry-After`` of ``exc`` when it is a 429 that carried one."""
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        return self.delay(attempt, retry_after)

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        """Whether to send again after ``attempt`` attempts ended with ``exc``."""
        return attempt < self.max_attempts and is_retryable(exc)


def is_retryable(exc: BaseException) -> bool:
    """Whether sending the same request again later may succeed (``ApiError.retryable``)."""
    return isinstance(exc, ApiError) and exc.retryable


DEFAULT_RETRY: Final = RetryPolicy()
