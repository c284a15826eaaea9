"""The numbers at the top of every report, and of ``ivr-migrate status``.

Pure and pandas-free, so that ``status`` stays fast.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from migrate.reports.data import (
    PLANNED,
    PROBLEM_OUTCOMES,
    ReportData,
    public_metadata,
    sort_key,
    state_label,
)

RATE_LIMITED = 429


@dataclass(frozen=True)
class RuleCount:
    """How one rule fared: scenarios it was applied to, changes it made, their outcomes."""

    rule: str
    scenarios: int
    changes: int
    outcomes: dict[str, int]


@dataclass(frozen=True)
class RunSummary:
    """Counts, durations and write figures of one run."""

    dry_run: bool
    metadata: dict[str, Any]
    scenarios: int
    changes: int
    outcomes: dict[str, int]
    by_rule: list[RuleCount]
    requests: int
    writes: int
    writes_ok: int
    rate_limited: int
    started_at: float | None
    finished_at: float | None
    first_write_at: float | None
    last_write_at: float | None
    write_rate_per_min: float | None
    configured_write_rate: str | None
    phase_durations: dict[str, float] = field(default_factory=dict)
    write_times: list[float] = field(default_factory=list, repr=False)
    rate_limited_times: list[float] = field(default_factory=list, repr=False)

    @property
    def duration(self) -> float | None:
        """Seconds from the start of the run to its end (or its last request)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)

    @property
    def problems(self) -> int:
        """Rows that ended badly."""
        return sum(count for outcome, count in self.outcomes.items() if outcome in PROBLEM_OUTCOMES)

    def label(self, outcome: str) -> str:
        return state_label(outcome, dry_run=self.dry_run)

    def tally(self) -> str:
        """The one-line tally of DESIGN §3: ``812 updated, 40 unchanged, 3 failed, 1 conflict``."""
        parts = [f"{count} {self.label(outcome)}" for outcome, count in self.outcomes.items()]
        return ", ".join(parts) if parts else "no scenarios"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (``status --json``)."""
        return {
            "dry_run": self.dry_run,
            "metadata": self.metadata,
            "scenarios": self.scenarios,
            "changes": self.changes,
            "outcomes": dict(self.outcomes),
            "by_rule": [
                {
                    "rule": r.rule,
                    "scenarios": r.scenarios,
                    "changes": r.changes,
                    "outcomes": dict(r.outcomes),
                }
                for r in self.by_rule
            ],
            "requests": self.requests,
            "writes": self.writes,
            "writes_ok": self.writes_ok,
            "rate_limited": self.rate_limited,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_s": self.duration,
            "first_write_at": self.first_write_at,
            "last_write_at": self.last_write_at,
            "write_rate_per_min": self.write_rate_per_min,
            "configured_write_rate": self.configured_write_rate,
            "phase_durations_s": dict(self.phase_durations),
        }


def summarise(data: ReportData, *, dry_run: bool = False) -> RunSummary:
    """Count a run's outcomes, rules and requests."""
    outcomes = Counter(row.outcome for row in data.rows)
    changes_by_scenario = Counter(change.scenario_id for change in data.changes)
    changes_by_rule = Counter(change.rule for change in data.changes)

    rule_rows: dict[str, Counter[str]] = {}
    for row in data.rows:
        for rule in row.rules:
            rule_rows.setdefault(rule, Counter())[row.outcome] += 1
    by_rule = [
        RuleCount(
            rule=rule,
            scenarios=sum(counts.values()),
            changes=changes_by_rule.get(rule, 0),
            outcomes=_ordered(counts),
        )
        for rule, counts in sorted(rule_rows.items())
    ]

    writes = sorted(a.started_at for a in data.attempts if a.method.upper() == "PUT")
    writes_ok = sorted(
        a.started_at
        for a in data.attempts
        if a.method.upper() == "PUT" and a.status is not None and 200 <= a.status < 300
    )
    limited = sorted(a.started_at for a in data.attempts if a.status == RATE_LIMITED)
    meta = public_metadata(data.metadata)
    request_times = [a.started_at for a in data.attempts]
    request_ends = [a.started_at + a.duration for a in data.attempts]
    started = _number(meta.get("started_at")) or (min(request_times) if request_times else None)
    finished = _number(meta.get("finished_at")) or (max(request_ends) if request_ends else None)
    rate = None
    if len(writes) >= 2 and writes[-1] > writes[0]:
        # Starts per minute between the first and the last write: N writes span N-1 intervals.
        rate = (len(writes) - 1) / (writes[-1] - writes[0]) * 60.0
    configured = meta.get("write_rate")
    return RunSummary(
        dry_run=dry_run,
        metadata=meta,
        scenarios=len(data.rows),
        changes=sum(changes_by_scenario.values()),
        outcomes=_ordered(outcomes),
        by_rule=by_rule,
        requests=len(data.attempts),
        writes=len(writes),
        writes_ok=len(writes_ok),
        rate_limited=len(limited),
        started_at=started,
        finished_at=finished,
        first_write_at=writes[0] if writes else None,
        last_write_at=writes[-1] if writes else None,
        write_rate_per_min=rate,
        configured_write_rate=str(configured) if configured is not None else None,
        phase_durations=_phase_durations(meta),
        write_times=writes_ok,
        rate_limited_times=limited,
    )


def _phase_durations(meta: dict[str, Any]) -> dict[str, float]:
    """``{"plan": 12.5, "apply": 3600.0}`` from ``<phase>_started_at``/``<phase>_finished_at``."""
    out = {}
    for key, start in meta.items():
        if not key.endswith("_started_at"):
            continue
        phase = key.removesuffix("_started_at")
        end = _number(meta.get(f"{phase}_finished_at"))
        begin = _number(start)
        if begin is not None and end is not None and end >= begin:
            out[phase] = end - begin
    return out


def _ordered(counts: Counter[str]) -> dict[str, int]:
    return {key: counts[key] for key in sorted(counts, key=sort_key)}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def would_write(summary: RunSummary) -> int:
    """Rows a dry run would PUT."""
    return summary.outcomes.get(PLANNED, 0)


def iso_time(epoch: float | None) -> str:
    """Epoch seconds as UTC ISO 8601 (``2026-02-16T10:00:00Z``), or empty."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(seconds: float | None) -> str:
    """``1 h 02 min 05 s``, ``3 min 20 s``, ``4.2 s``; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"
