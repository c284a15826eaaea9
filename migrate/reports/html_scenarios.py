"""The scenarios part of report.html: one group per outcome, each scenario with its diff.

Scenarios are grouped by outcome in ``<details>`` sections that show at most
:data:`~migrate.reports.data.MAX_SCENARIOS_PER_OUTCOME` of them, pointing to results.csv and
changes.csv for the rest. Unchanged scenarios have nothing to show but their name, so they are
one short list, not a box each. A scenario whose history says more than "planned, applied"
(retried, re-planned, rolled back) shows that history with times above its diff.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Final

from migrate.reports.data import (
    CONFLICT,
    FAILED,
    FAILED_PERMANENT,
    FAILED_RETRYABLE,
    IN_FLIGHT,
    INVALID,
    MAX_SCENARIOS_PER_OUTCOME,
    NOT_FOUND,
    PLANNED,
    PROBLEM_STATES,
    ROLLBACK_CONFLICT,
    ROLLED_BACK,
    UNCHANGED,
    UPDATED,
    HistoryEvent,
    ReportChange,
    ReportData,
    ReportRow,
    sort_key,
)
from migrate.reports.diff import CUT_MARK, diff_html, esc, path_html
from migrate.reports.summary import RunSummary, iso_time

MAX_CHANGES_PER_SCENARIO: Final = 100
#: Up to this many scenarios in all, every section and scenario starts open.
OPEN_ALL_BELOW: Final = 50
MAX_ERROR_CHARS: Final = 2000

OUTCOME_COLOURS: Final[dict[str, str]] = {
    UPDATED: "#2e7d32",
    PLANNED: "#1565c0",
    UNCHANGED: "#78909c",
    ROLLED_BACK: "#6a1b9a",
    IN_FLIGHT: "#0277bd",
    INVALID: "#ef6c00",
    NOT_FOUND: "#8d6e63",
    CONFLICT: "#c77c02",
    FAILED_RETRYABLE: "#e53935",
    FAILED_PERMANENT: "#b71c1c",
    ROLLBACK_CONFLICT: "#ad1457",
}
DEFAULT_COLOUR: Final = "#546e7a"
#: What the diff of a scenario means once the rollback has had its say.
_DIFF_CAPTIONS: Final[dict[str, str]] = {
    ROLLED_BACK: "Changes the run applied, then undone by the rollback:",
    ROLLBACK_CONFLICT: "Changes the run applied and the rollback could not undo:",
}


def colour(outcome: str) -> str:
    return OUTCOME_COLOURS.get(outcome, DEFAULT_COLOUR)


_SLUG: Final = re.compile(r"[^a-z0-9_-]+")


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()) or "x"


def scenarios_section(data: ReportData, summary: RunSummary) -> str:
    """Every outcome group, in display order."""
    by_outcome: dict[str, list[ReportRow]] = defaultdict(list)
    for row in data.rows:
        by_outcome[row.outcome].append(row)
    changes: dict[str, list[ReportChange]] = defaultdict(list)
    for change in data.changes:
        changes[change.scenario_id].append(change)
    open_all = len(data.rows) <= OPEN_ALL_BELOW
    sections = [
        _outcome_section(outcome, by_outcome[outcome], changes, data, summary, open_all)
        for outcome in sorted(by_outcome, key=sort_key)
    ]
    return (
        '<section id="scenarios"><h2>Scenarios</h2>'
        f'<p class="note">Grouped by outcome; each group shows at most '
        f"{MAX_SCENARIOS_PER_OUTCOME} scenarios. Every scenario is in results.csv and every "
        "changed field in changes.csv.</p>" + "".join(sections) + "</section>"
    )


def _outcome_section(
    outcome: str,
    rows: list[ReportRow],
    changes: dict[str, list[ReportChange]],
    data: ReportData,
    summary: RunSummary,
    open_all: bool,
) -> str:
    shown = rows[:MAX_SCENARIOS_PER_OUTCOME]
    is_problem = outcome in PROBLEM_STATES or outcome.startswith(FAILED)
    section_open = open_all or (is_problem and len(rows) <= MAX_SCENARIOS_PER_OUTCOME)
    if outcome == UNCHANGED:
        items = _plain_list(shown)
    else:
        items = "".join(
            _scenario(row, changes.get(row.scenario_id, []), data.histories, open_all)
            for row in shown
        )
    more = ""
    if len(rows) > len(shown):
        more = (
            f'<p class="more">… and {len(rows) - len(shown)} more '
            f"{esc(summary.label(outcome))} scenarios: see results.csv and changes.csv.</p>"
        )
    return (
        f'<details class="outcome" id="outcome-{slug(outcome)}" data-outcome="{esc(outcome)}"'
        f'{" open" if section_open else ""} style="border-color:{colour(outcome)}">'
        f'<summary><span class="badge" style="background:{colour(outcome)}">'
        f'{esc(summary.label(outcome))}</span> <span class="n">{len(rows)}</span> '
        f"scenario{'s' if len(rows) != 1 else ''}</summary>{items}{more}</details>"
    )


def _plain_list(rows: list[ReportRow]) -> str:
    """Scenarios with nothing to show but their name: one compact list."""
    items = "".join(
        f'<li data-scenario-id="{esc(row.scenario_id)}"><span class="name">'
        f'{esc(row.name or "(no name)")}</span> <code class="id">{esc(row.scenario_id)}</code>'
        "</li>"
        for row in rows
    )
    return (
        '<p class="quiet">The rules found nothing to change in these scenarios; nothing is '
        f'written to them.</p><ul class="plain">{items}</ul>'
    )


def _scenario(
    row: ReportRow,
    changes: list[ReportChange],
    histories: dict[str, tuple[HistoryEvent, ...]],
    open_all: bool,
) -> str:
    bits = [f"{len(changes)} change{'s' if len(changes) != 1 else ''}"]
    if row.rules:
        bits.append(", ".join(row.rules))
    if row.error_class:
        bits.append(row.error_class)
    name = row.name if row.name else "(no name)"
    history = histories.get(row.scenario_id, ())
    diff = _changes_table(changes)
    if diff and row.state in _DIFF_CAPTIONS:
        diff = f'<p class="caption">{esc(_DIFF_CAPTIONS[row.state])}</p>{diff}'
    body = _history(history) + _error(row) + diff
    if not body:
        body = '<p class="quiet">No field changes.</p>'
    return (
        f'<details class="scenario" data-scenario-id="{esc(row.scenario_id)}"'
        f'{" open" if open_all else ""}><summary><span class="name">{esc(name)}</span> '
        f'<code class="id">{esc(row.scenario_id)}</code> '
        f'<span class="info">{esc(" · ".join(bits))}</span></summary>{body}</details>'
    )


def _history(events: tuple[HistoryEvent, ...]) -> str:
    if not events:
        return ""
    steps = "".join(
        f'<li data-step="{esc(e.event)}" data-state="{esc(e.state)}"><time>'
        f"{esc(iso_time(e.time))}</time> {esc(e.event)}: {esc(e.state.replace('_', ' '))}</li>"
        for e in events
    )
    return f'<ol class="history">{steps}</ol>'


def _error(row: ReportRow) -> str:
    failed_status = row.http_status is not None and row.http_status >= 400
    if not (row.error or row.error_class or failed_status):
        return ""
    head = " ".join(
        filter(None, [row.error_class, f"HTTP {row.http_status}" if row.http_status else None])
    )
    if row.retryable is not None:
        head += " · retryable" if row.retryable else " · permanent"
    text = row.error or ""
    if len(text) > MAX_ERROR_CHARS:
        text = text[:MAX_ERROR_CHARS] + CUT_MARK
    return (
        f'<div class="error"><strong>{esc(head.strip(" ·") or "error")}</strong>'
        f"<pre>{esc(text)}</pre></div>"
    )


def _changes_table(changes: list[ReportChange]) -> str:
    if not changes:
        return ""
    shown = changes[:MAX_CHANGES_PER_SCENARIO]
    rows = "".join(_change_row(change) for change in shown)
    more = ""
    if len(changes) > len(shown):
        more = f'<p class="more">… and {len(changes) - len(shown)} more changes in changes.csv.</p>'
    return (
        '<table class="changes"><thead><tr><th>field</th><th>before</th><th></th>'
        f"<th>after</th><th>rule</th></tr></thead><tbody>{rows}</tbody></table>{more}"
    )


def _change_row(change: ReportChange) -> str:
    before, after = diff_html(change.before, change.after)
    return (
        f'<tr class="change"><td class="path"><code>{path_html(change.path)}</code></td>'
        f'<td class="before">{before}</td><td class="arrow">→</td>'
        f'<td class="after">{after}</td><td class="rule"><code>{esc(change.rule)}</code></td></tr>'
    )


CSS: Final = """
details.outcome{background:var(--card);border:1px solid var(--line);border-left:6px solid;
border-radius:6px;margin:10px 0;padding:6px 12px}
details.outcome>summary{font-size:17px;font-weight:600;cursor:pointer;padding:4px 0}
.badge{color:#fff;border-radius:4px;padding:1px 8px;font-size:14px}
details.scenario{border-top:1px solid var(--line);padding:6px 0 6px 8px}
details.scenario>summary{cursor:pointer;overflow-wrap:anywhere}
.name{font-weight:600}.id{color:var(--muted);font-size:12px}.info{color:var(--muted)}
ul.plain{columns:3 300px;column-gap:24px;margin:6px 0;padding-left:18px}
ul.plain li{break-inside:avoid;overflow-wrap:anywhere}
ol.history{list-style:none;margin:6px 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 8px}
ol.history li{background:#eef2f6;border-radius:4px;padding:1px 8px;font-size:13px}
ol.history li+li::before{content:"→ ";color:var(--muted)}
ol.history time{color:var(--muted)}
.caption{margin:8px 0 0;color:var(--muted)}
.changes{width:100%;margin:8px 0 4px;table-layout:fixed}
.changes th,.changes td{border:1px solid var(--line);padding:4px 8px;vertical-align:top;
text-align:left;overflow-wrap:anywhere}
.changes th:nth-child(1){width:26%}.changes th:nth-child(3){width:28px}
.changes th:nth-child(5){width:12%}
.changes td.path{overflow-wrap:normal;word-break:normal}
.seg{white-space:nowrap}
td.before{background:#fff5f5}td.after{background:#f3fbf3}td.arrow{text-align:center;color:var(--muted)}
del{background:#ffd7d5;text-decoration:line-through;text-decoration-color:#c62828}
ins{background:#c8efc9;text-decoration:none}
.absent{color:var(--muted);font-style:italic}
.error{border:1px solid #f1b0ad;background:#fff4f3;border-radius:4px;padding:6px 10px;margin:6px 0}
.error pre{margin:4px 0 0;white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px}
@media (max-width:700px){
.changes,.changes tbody,.changes tr,.changes td{display:block;width:auto}
.changes thead{display:none}
.changes tr{border:1px solid var(--line);margin:6px 0}
.changes td{border:0;border-top:1px solid var(--line)}
.changes td.path{border-top:0;background:#eef2f6}
.changes td.arrow{display:none}
.changes td.before::before{content:"before: ";color:var(--muted)}
.changes td.after::before{content:"after: ";color:var(--muted)}
.changes td.rule::before{content:"rule: ";color:var(--muted)}
ul.plain{columns:1}
}
"""
