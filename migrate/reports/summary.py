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
    UPDATED,
    HistoryStep,
    ReportChange,
    ReportData,
    ReportRow,
    public_metadata,
    sort_key,
    state_label,
)

RATE_LIMITED = 429


@dataclass(frozen=True, slots=True)
class RuleCount:
    """What one rule did: the scenarios its sheet rows matched, and those it changed.

    ``changes`` counts the fields it changed, ``written`` the scenarios it changed that the run
    wrote (state ``updated``): a rule's change in a scenario that failed or was rolled back is
    planned, not in place.
    """

    rule: str
    sheet_rows: int
    matched: int
    changed: int
    changes: int
    written: int


@dataclass(frozen=True, slots=True)
class SheetRowCount:
    """What one sheet row did: the scenarios it matched and changed, the fields it changed.

    ``changed`` and ``changes`` are None when the journal does not say which row made a change
    (journals written before changes carried their sheet row, where several rows of one
    scenario share a rule).
    """

    row: int
    rule: str
    target: str
    matched: int
    changed: int | None
    changes: int | None


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
    #: PUTs that failed otherwise (an error status other than 429, or no answer).
    failed_write_times: list[float] = field(default_factory=list, repr=False)
    #: One entry per sheet row, in sheet order (rows that matched nothing included).
    by_sheet_row: list[SheetRowCount] = field(default_factory=list, repr=False)
    #: False when rows that matched no scenario could not be listed (sheet copy unreadable).
    sheet_read: bool = True
    #: The run's steps (planned, applied, retried, re-planned, rolled back) with times.
    history: list[HistoryStep] = field(default_factory=list)

    @property
    def planned_writes(self) -> int:
        """Scenarios still planned: the PUTs that ``apply`` would send."""
        return self.outcomes.get(PLANNED, 0)

    @property
    def write_interval(self) -> float | None:
        """Seconds between two writes at the configured rate, when it can be read."""
        return write_interval(self.configured_write_rate)

    @property
    def eta(self) -> float | None:
        """How long the planned writes take at the configured rate."""
        interval = self.write_interval
        return None if interval is None else self.planned_writes * interval

    @property
    def idle_sheet_rows(self) -> list[SheetRowCount]:
        """Sheet rows that changed nothing: their selector matched nothing, or their rule
        found nothing to change in any scenario it matched."""
        return [r for r in self.by_sheet_row if r.matched == 0 or r.changed == 0]

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
                    "sheet_rows": r.sheet_rows,
                    "scenarios_matched": r.matched,
                    "scenarios_changed": r.changed,
                    "changes": r.changes,
                    "scenarios_written": r.written,
                }
                for r in self.by_rule
            ],
            "idle_sheet_rows": [r.row for r in self.idle_sheet_rows],
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


@dataclass(frozen=True)
class WriteFigures:
    """What a run's attempts say: requests, writes and their outcomes, and when."""

    requests: int
    writes: list[float]
    writes_ok: list[float]
    failed_writes: list[float]
    rate_limited: list[float]
    first_request: float | None
    last_request_end: float | None


def write_figures(data: ReportData) -> WriteFigures:
    """Count the attempts (the caller may drop them afterwards: they are most of the memory)."""
    writes = sorted(a.started_at for a in data.attempts if a.method.upper() == "PUT")
    writes_ok = sorted(
        a.started_at
        for a in data.attempts
        if a.method.upper() == "PUT" and a.status is not None and 200 <= a.status < 300
    )
    failed_writes = sorted(
        a.started_at
        for a in data.attempts
        if a.method.upper() == "PUT"
        and a.status != RATE_LIMITED
        and (a.status is None or a.status >= 400)
    )
    limited = sorted(a.started_at for a in data.attempts if a.status == RATE_LIMITED)
    return WriteFigures(
        requests=len(data.attempts),
        writes=writes,
        writes_ok=writes_ok,
        failed_writes=failed_writes,
        rate_limited=limited,
        first_request=min((a.started_at for a in data.attempts), default=None),
        last_request_end=max((a.started_at + a.duration for a in data.attempts), default=None),
    )


def summarise(
    data: ReportData, *, dry_run: bool = False, writes: WriteFigures | None = None
) -> RunSummary:
    """Count a run's outcomes, rules and requests (``writes``: the attempts, counted before)."""
    figures = writes or write_figures(data)
    outcomes = Counter(row.outcome for row in data.rows)
    by_sheet_row = sheet_row_counts(data)
    meta = public_metadata(data.metadata)
    started = _number(meta.get("started_at")) or figures.first_request
    finished = _number(meta.get("finished_at")) or figures.last_request_end
    puts = figures.writes
    rate = None
    if len(puts) >= 2 and puts[-1] > puts[0]:
        # Starts per minute between the first and the last write: N writes span N-1 intervals.
        rate = (len(puts) - 1) / (puts[-1] - puts[0]) * 60.0
    configured = meta.get("write_rate")
    return RunSummary(
        dry_run=dry_run,
        metadata=meta,
        scenarios=len(data.rows),
        changes=len(data.changes),
        outcomes=_ordered(outcomes),
        by_rule=rule_counts(data, by_sheet_row),
        requests=figures.requests,
        writes=len(puts),
        writes_ok=len(figures.writes_ok),
        rate_limited=len(figures.rate_limited),
        started_at=started,
        finished_at=finished,
        first_write_at=puts[0] if puts else None,
        last_write_at=puts[-1] if puts else None,
        write_rate_per_min=rate,
        configured_write_rate=str(configured) if configured is not None else None,
        phase_durations=_phase_durations(meta),
        write_times=figures.writes_ok,
        rate_limited_times=figures.rate_limited,
        failed_write_times=figures.failed_writes,
        by_sheet_row=by_sheet_row,
        sheet_read=data.sheet_read,
        history=list(data.history),
    )


def rule_counts(data: ReportData, by_sheet_row: list[SheetRowCount]) -> list[RuleCount]:
    """Per rule: its sheet rows, the scenarios they matched, and what it changed."""
    matched: Counter[str] = Counter()
    for row in data.rows:
        for rule in row.rules:
            matched[rule] += 1
    state = {row.scenario_id: row.state for row in data.rows}
    changed: dict[str, set[str]] = {}
    fields: Counter[str] = Counter()
    for change in data.changes:
        changed.setdefault(change.rule, set()).add(change.scenario_id)
        fields[change.rule] += 1
    sheet_rows = Counter(line.rule for line in by_sheet_row)
    return [
        RuleCount(
            rule=rule,
            sheet_rows=sheet_rows.get(rule, 0),
            matched=matched.get(rule, 0),
            changed=len(changed.get(rule, ())),
            changes=fields.get(rule, 0),
            written=sum(1 for sid in changed.get(rule, ()) if state.get(sid) == UPDATED),
        )
        for rule in sorted(set(matched) | set(fields) | set(sheet_rows))
    ]


def sheet_row_counts(data: ReportData) -> list[SheetRowCount]:
    """Per sheet row, in sheet order: what it matched and what it changed."""
    described: dict[int, tuple[str, str]] = {}
    matched: Counter[int] = Counter()
    changed: Counter[int] = Counter()  # scenarios each row changed
    fields: Counter[int] = Counter()
    unknown: set[int] = set()  # rows some of whose changes cannot be told apart
    by_scenario: dict[str, list[ReportChange]] = {}
    for change in data.changes:
        by_scenario.setdefault(change.scenario_id, []).append(change)
    for row in data.rows:
        for step in row.steps:
            if step.sheet_row is not None:
                matched[step.sheet_row] += 1
                described.setdefault(step.sheet_row, (step.rule, step.target or row.scenario_id))
        sources: set[int] = set()
        for change in by_scenario.get(row.scenario_id, ()):
            source = change_source(row, change)
            if source is None:
                unknown.update(
                    s.sheet_row
                    for s in row.steps
                    if s.rule == change.rule and s.sheet_row is not None
                )
                continue
            sources.add(source)
            fields[source] += 1
        changed.update(sources)
    for line in data.unmatched_sheet_rows:
        described.setdefault(line.row, (line.rule, line.target))
    return [
        SheetRowCount(
            row=number,
            rule=rule,
            target=target,
            matched=matched.get(number, 0),
            changed=None if number in unknown else changed.get(number, 0),
            changes=None if number in unknown else fields.get(number, 0),
        )
        for number, (rule, target) in sorted(described.items())
    ]


def change_source(row: ReportRow, change: ReportChange) -> int | None:
    """The sheet row that made a change: as journaled, or the only row of its rule."""
    if change.sheet_row is not None:
        return change.sheet_row
    rows = {step.sheet_row for step in row.steps if step.rule == change.rule}
    if len(rows) == 1:
        return rows.pop()
    return None


def write_interval(rate_text: str | None) -> float | None:
    """Seconds between two writes at a rate written like ``6/60s``, if it can be read."""
    if not rate_text:
        return None
    from migrate.config import Rate
    from migrate.errors import ConfigError

    try:
        rate = Rate.parse(rate_text)
    except ConfigError:
        return None
    return rate.period / rate.count


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
