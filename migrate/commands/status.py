"""``status``: one run's tally and summary, or every run under ``./reports``, newest first."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from migrate.commands.show import console
from migrate.config import DEFAULT_REPORTS_DIR
from migrate.engine.status import RunListing, list_runs, run_status
from migrate.vocabulary import Meta, Operation, tally_line


def print_status(run_dir: Path, *, as_json: bool, account: str | None = None) -> None:
    """The run's tally and the summary its reports show (from the journal, read-only);
    ``account``: the tally of that account of a run over several."""
    from migrate.reports import report_data_from_run, summarise

    status = run_status(run_dir, account=account)
    summary = summarise(
        report_data_from_run(status.run_dir), dry_run=status.phase is Operation.PLAN
    )
    if as_json:
        data = status.as_json()
        data["summary"] = {
            "outcomes": summary.outcomes,
            "by_rule": [dataclasses.asdict(rule) for rule in summary.by_rule],
            "changes": summary.changes,
            "requests": summary.requests,
            "writes": summary.writes,
            "writes_ok": summary.writes_ok,
            "rate_limited": summary.rate_limited,
            "write_rate_per_min": summary.write_rate_per_min,
        }
        click.echo(json.dumps(data, indent=2))
        return
    from migrate.reports.terminal import print_summary

    # An apply stopped by --limit or an interrupt has no finish time: its phase ends with its
    # last request, which the journal's attempts tell.
    summary = dataclasses.replace(
        summary, finished_at=status.ended_at, phase_durations=status.durations
    )
    print_summary(summary, console())
    click.echo(status.line())


def print_runs(reports_dir: Path | None, *, as_json: bool) -> None:
    """Every run under the reports folder, newest first: id, sheet, phase, counts, started."""
    runs = list_runs(reports_dir)
    if as_json:
        click.echo(json.dumps([listing.as_json() for listing in runs], indent=2))
        return
    if not runs:
        folder = reports_dir or DEFAULT_REPORTS_DIR
        click.echo(f"no runs under {folder}/ (plan a sheet to make one)")
        return
    rows = [("RUN", "STARTED", "SHEET", "PHASE", "ROWS"), *(_cells(item) for item in runs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        click.echo("  ".join([*padded, row[-1]]))


def _cells(listing: RunListing) -> tuple[str, str, str, str, str]:
    status, name = listing.status, listing.run_dir.name
    if status is None:
        return (name, "", "", "unreadable", listing.problem or "")
    phase = str(status.phase) + ("" if status.finished else " (unfinished)")
    sheet = status.metadata.get(Meta.SHEET_NAME, "")
    return (name, listing.started, sheet, phase, tally_line(status.counts))
