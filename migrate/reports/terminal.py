"""The report's summary as rich tables, for ``ivr-migrate status`` on a terminal.

Every value is passed as :class:`rich.text.Text`, never as markup: names and metadata come from
the account and the sheet, and ``[bold]`` in a sheet name must print as written.
"""

from __future__ import annotations

from typing import Final

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from migrate.reports.by_account import AccountCount, slowest
from migrate.reports.data import UPDATED, state_label
from migrate.reports.summary import RunSummary, format_duration, iso_time
from migrate.vocabulary import state_colour as colour

_META_KEYS: Final = ("base_url", "operator", "sheet_name", "sheet_sha256", "write_rate")
#: Metadata of one account, left out of the summary of a run over several.
_ONE_ACCOUNT_KEYS: Final = frozenset({"base_url", "write_rate"})


def summary_renderable(summary: RunSummary) -> RenderableType:
    """Outcomes, figures and rules of a run, side by side where the terminal allows."""
    meta = summary.metadata
    kind = "dry run (plan)" if summary.dry_run else str(meta.get("phase", "run"))
    title = Text.assemble(("run ", "bold"), (str(meta.get("run_id", "")), "bold"), f"  {kind}")
    side_by_side = Table.grid(padding=(0, 4))
    side_by_side.add_row(_outcomes(summary), _figures(summary))
    parts: list[RenderableType] = [title, _meta_table(summary), Text(), side_by_side]
    if summary.by_account:
        parts += [Text(), _accounts(summary)]
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
    if summary.by_account:
        names = ", ".join(part.account for part in summary.by_account)
        table.add_row(Text("accounts"), Text(names))
    for key in _META_KEYS:
        if summary.by_account and key in _ONE_ACCOUNT_KEYS:
            continue  # the first account's: the accounts table has each one's
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
        ("configured", _configured(summary)),
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


def _configured(summary: RunSummary) -> str:
    if summary.by_account:
        return "per account"
    return summary.configured_write_rate or "—"


def _accounts(summary: RunSummary) -> Table:
    """One row per account: rows, updated, problems, writes, the rate against the limit (a dry
    run: the writes it would send and how long they take at the account's rate)."""
    table = Table(title="By account", title_justify="left", show_edge=False)
    table.add_column("account", no_wrap=True)
    for name in _ACCOUNT_PLAN_HEADS if summary.dry_run else _ACCOUNT_RUN_HEADS:
        table.add_column(name, justify="right")
    for part in summary.by_account:
        cells = _plan_cells(part) if summary.dry_run else _run_cells(part)
        table.add_row(Text(part.account), *(Text(cell) for cell in cells))
    account, eta = slowest(summary.by_account)
    if summary.dry_run and account is not None:
        table.caption = f"written at once: about {format_duration(eta)}, {account.account} last"
        table.caption_justify = "left"
    return table


_ACCOUNT_PLAN_HEADS: Final = ("scenarios", "would update", "problems", "limit", "time to write")
_ACCOUNT_RUN_HEADS: Final = (
    *("scenarios", state_label(UPDATED), "problems", "writes accepted", "429"),
    *("write rate", "limit", "of limit"),
)


def _plan_cells(part: AccountCount) -> list[str]:
    return [
        str(part.scenarios),
        str(part.planned_writes),
        str(part.problems),
        part.configured_write_rate or "—",
        format_duration(part.eta) or "—",
    ]


def _run_cells(part: AccountCount) -> list[str]:
    rate, share = part.write_rate_per_min, part.share_of_limit
    return [
        str(part.scenarios),
        str(part.updated),
        str(part.problems),
        f"{part.writes_ok} of {part.writes}",
        str(part.rate_limited),
        "—" if rate is None else f"{rate:.2f}/min",
        part.configured_write_rate or "—",
        "—" if share is None else f"{100 * share:.0f}%",
    ]


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
