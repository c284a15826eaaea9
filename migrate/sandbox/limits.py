"""Per-account rate limits, counted as a strict sliding window over request arrival times."""

from __future__ import annotations

from collections import deque

from migrate.config import Rate


class SlidingWindow:
    """At most ``rate.count`` admitted arrivals in any window of ``rate.period`` seconds.

    An arrival at ``t`` sees the admissions in ``(t - period, t]``: one exactly ``period``
    seconds older no longer counts. Refused arrivals are not recorded, so a client that is
    refused does not push its own next slot further away.
    """

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._admitted: deque[float] = deque()

    def admit(self, now: float) -> float | None:
        """Record an arrival at ``now``; None if admitted, else seconds until a slot frees."""
        horizon = now - self.rate.period
        admitted = self._admitted
        while admitted and admitted[0] <= horizon:
            admitted.popleft()
        if len(admitted) >= self.rate.count:
            return admitted[0] - horizon
        admitted.append(now)
        return None

    def reset(self) -> None:
        self._admitted.clear()
