"""The report's summary as rich tables, for ``ivr-migrate status`` on a terminal.

Every value is passed as :class:`rich.text.Text`, never as markup: names and metadata come from
the account and the sheet, and ``[bold]`` in a sheet name must print as written.
"""

from __future__ import annotations

from typing import Final

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from migrate.reports.html import colour
from migrate.reports.summary import RunSummary, format_duration, iso_time

_META_KEYS: Final = ("base_url", "operator", "sheet_name", "sheet_sha256", "write_rate")


def summary_renderable(summary: RunSummary) -> RenderableType:
    """Outcomes, figures and rules of a run, side by side where the terminal allows."""
    meta = summary.metadata
    kind = "dry run (plan)" if summary.dry_run else str(meta.get("phase", "run"))
    title = Text.assemble(("run ", "bold"), (str(meta.get("run_id", "")), "bold"), f"  {kind}")
    side_by_side = Table.grid(padding=(0, 4))
    side_by_side.add_row(_outcomes(summary), _figures(summary))
    parts: list[RenderableType] = [title, _meta_table(summary), Text(), side_by_side]
    if summary.by_rule:
        parts += [Text(), _rules(summary)]
    return Group(*parts)


def print_summary(summary: RunSummary, console: Console | None = None) -> None:
    """Print :func:`summary_renderable` (to stdout by default)."""
    (console or Console()).print(summary_renderable(summary))


def _meta_table(summary: RunSummary) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    for key in _META_KEYS:
        value = summary.metadata.get(key)
        if value not in (None, ""):
            text = str(value)[:12] if key == "sheet_sha256" else str(value)
            table.add_row(Text(key.replace("_", " ")), Text(text))
    return table


def _outcomes(summary: RunSummary) -> Table:
    table = Table(title="Outcomes", title_justify="left", show_edge=False)
    table.add_column("outcome")
    table.add_column("scenarios", justify="right")
    for outcome, count in summary.outcomes.items():
        table.add_row(Text(summary.label(outcome), style=colour(outcome)), Text(str(count)))
    table.add_row(Text("all", style="bold"), Text(str(summary.scenarios), style="bold"))
    return table


def _figures(summary: RunSummary) -> Table:
    rate = summary.write_rate_per_min
    rows = [
        ("changed fields", str(summary.changes)),
        ("requests", str(summary.requests)),
        ("writes accepted", f"{summary.writes_ok} of {summary.writes}"),
        ("429 answers", str(summary.rate_limited)),
        ("write rate", "—" if rate is None else f"{rate:.2f}/min"),
        ("configured", summary.configured_write_rate or "—"),
        ("started", iso_time(summary.started_at) or "—"),
        ("duration", format_duration(summary.duration) or "—"),
    ]
    rows += [(f"{phase}", format_duration(s)) for phase, s in summary.phase_durations.items()]
    table = Table(title="Figures", title_justify="left", show_edge=False, show_header=False)
    table.add_column(style="dim")
    table.add_column(justify="right")
    for label, value in rows:
        table.add_row(Text(label), Text(value))
    return table


def _rules(summary: RunSummary) -> Table:
    changed = "would change" if summary.dry_run else "changed"
    table = Table(title="By rule (what each rule did)", title_justify="left", show_edge=False)
    table.add_column("rule", no_wrap=True)
    for name in ("sheet rows", "scenarios matched", f"scenarios {changed}", "fields"):
        table.add_column(name, justify="right")
    if not summary.dry_run:
        table.add_column("written", justify="right")
    for rule in summary.by_rule:
        cells = [rule.sheet_rows, rule.matched, rule.changed, rule.changes]
        if not summary.dry_run:
            cells.append(rule.written)
        table.add_row(Text(rule.rule), *(Text(str(value)) for value in cells))
    idle = summary.idle_sheet_rows
    if idle:
        rows = ", ".join(str(r.row) for r in idle[:20]) + (" …" if len(idle) > 20 else "")
        table.caption = f"sheet rows that changed nothing: {rows}"
        table.caption_justify = "left"
    return table
