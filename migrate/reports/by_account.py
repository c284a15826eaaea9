"""Each account's part of a run over several accounts (``--accounts``): its rows by outcome, its
writes, and the write rate it achieved against its own limit.

Every account of such a run has its own write limit and is written at the same time as the
others, so the run's figures say little about any one of them: this table does. A run over one
account has no parts (its reports stay as they were). Pure and pandas-free, like the summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from migrate.reports.data import (
    PLANNED,
    PROBLEM_OUTCOMES,
    UPDATED,
    ReportAccount,
    ReportAttempt,
    ReportData,
    sort_key,
)

RATE_LIMITED: Final = 429


@dataclass(frozen=True, slots=True)
class AccountCount:
    """One account's part: ``write_rate_per_min`` is the rate its PUTs achieved (starts per
    minute between its first and last PUT), ``configured_write_rate`` its limit as planned."""

    account: str
    base_url: str | None
    scenarios: int
    outcomes: dict[str, int]
    writes: int
    writes_ok: int
    rate_limited: int
    write_rate_per_min: float | None
    configured_write_rate: str | None

    @property
    def updated(self) -> int:
        return self.outcomes.get(UPDATED, 0)

    @property
    def planned_writes(self) -> int:
        """Scenarios still planned: the PUTs that ``apply`` would send to this account."""
        return self.outcomes.get(PLANNED, 0)

    @property
    def problems(self) -> int:
        """Rows that ended badly: the account's lines of failures.csv."""
        return sum(count for outcome, count in self.outcomes.items() if outcome in PROBLEM_OUTCOMES)

    @property
    def limit_per_min(self) -> float | None:
        """The configured limit in writes per minute, when it can be read."""
        interval = write_interval(self.configured_write_rate)
        return None if interval is None else 60.0 / interval

    @property
    def share_of_limit(self) -> float | None:
        """The achieved write rate as a fraction of the limit (0.97 is 97 %)."""
        limit = self.limit_per_min
        if self.write_rate_per_min is None or not limit:
            return None
        return self.write_rate_per_min / limit

    @property
    def eta(self) -> float | None:
        """How long the account's planned writes take at its configured rate."""
        interval = write_interval(self.configured_write_rate)
        return None if interval is None else self.planned_writes * interval

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (``status --json``)."""
        return {
            "account": self.account,
            "base_url": self.base_url,
            "scenarios": self.scenarios,
            "outcomes": dict(self.outcomes),
            "problems": self.problems,
            "planned_writes": self.planned_writes,
            "writes": self.writes,
            "writes_ok": self.writes_ok,
            "rate_limited": self.rate_limited,
            "write_rate_per_min": self.write_rate_per_min,
            "configured_write_rate": self.configured_write_rate,
            "share_of_limit": self.share_of_limit,
        }


@dataclass
class AccountWrites:
    """One account's PUT start times (sorted once counted), accepted PUTs and 429 answers."""

    writes: list[float] = field(default_factory=list)
    writes_ok: int = 0
    rate_limited: int = 0


def account_writes(attempts: Iterable[ReportAttempt]) -> dict[str, AccountWrites]:
    """The attempts counted per account (before the caller drops them)."""
    parts: dict[str, AccountWrites] = {}
    for attempt in attempts:
        part = parts.get(attempt.account)
        if part is None:
            part = parts[attempt.account] = AccountWrites()
        if attempt.status == RATE_LIMITED:
            part.rate_limited += 1
        if attempt.method.upper() == "PUT":
            part.writes.append(attempt.started_at)
            if attempt.status is not None and 200 <= attempt.status < 300:
                part.writes_ok += 1
    for part in parts.values():
        part.writes.sort()
    return parts


def account_counts(data: ReportData, writes: Mapping[str, AccountWrites]) -> list[AccountCount]:
    """Per account of a run over several accounts, in the run's order; empty for one account."""
    if not data.has_accounts:
        return []
    outcomes: dict[str, Counter[str]] = {account.name: Counter() for account in data.accounts}
    for row in data.rows:
        outcomes.setdefault(row.account, Counter())[row.outcome] += 1
    known = {account.name: account for account in data.accounts}
    parts = []
    for name, counted in outcomes.items():
        account = known.get(name, ReportAccount(name))
        part = writes.get(name, AccountWrites())
        parts.append(
            AccountCount(
                account=name,
                base_url=account.base_url,
                scenarios=sum(counted.values()),
                outcomes=ordered(counted),
                writes=len(part.writes),
                writes_ok=part.writes_ok,
                rate_limited=part.rate_limited,
                write_rate_per_min=achieved_rate(part.writes),
                configured_write_rate=account.write_rate,
            )
        )
    return parts


def slowest(parts: Iterable[AccountCount]) -> tuple[AccountCount | None, float | None]:
    """The account whose planned writes take longest, and how long: the run's ETA, since the
    accounts are written at once. ``(None, None)`` when an account's rate cannot be read."""
    found: AccountCount | None = None
    for part in parts:
        if not part.planned_writes:
            continue
        if part.eta is None:
            return None, None
        if found is None or part.eta > (found.eta or 0.0):
            found = part
    return found, (found.eta if found is not None else 0.0)


def achieved_rate(puts: list[float]) -> float | None:
    """Writes per minute between the first and the last of ``puts`` (sorted start times)."""
    if len(puts) >= 2 and puts[-1] > puts[0]:
        # N writes span N-1 intervals
        return (len(puts) - 1) / (puts[-1] - puts[0]) * 60.0
    return None


def write_interval(rate_text: str | None) -> float | None:
    """Seconds between two writes at a rate written like ``6/60s``, if it can be read."""
    from migrate.config import Rate

    rate = Rate.parse_or_none(rate_text)
    return None if rate is None else rate.interval


def ordered(counts: Counter[str]) -> dict[str, int]:
    """Counts by outcome in display order."""
    return {key: counts[key] for key in sorted(counts, key=sort_key)}
