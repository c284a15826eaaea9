"""The end of a command: tally, hints that run as printed, reports, JSON, the exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from migrate.commands.connect import NetOptions
from migrate.commands.exits import ExitCode, tally_exit
from migrate.commands.reportchild import write_reports_in_child
from migrate.engine.options import Tally
from migrate.vocabulary import Operation, RowState


def say(net: NetOptions, text: str) -> None:
    """Human output: stdout, or stderr when stdout carries JSON."""
    click.echo(text, err=net.as_json)


def write_reports(net: NetOptions, run: Path) -> None:
    """Rewrite the run's reports; a failure here never hides the tally."""
    result = write_reports_in_child(run)
    if result.page is None:
        say(
            net,
            f"warning: reports not written ({result.problem}); retry with: "
            f"ivr-migrate report {run}",
        )
        return
    say(net, f"report: {result.page}")


def finish(
    net: NetOptions,
    tally: Tally,
    command: str,
    extra: dict[str, Any] | None = None,
    *,
    quiet_tally: bool = False,
    reports: bool = True,
) -> ExitCode:
    """Write the reports, print the tally (and JSON); the exit code of DESIGN §3."""
    if not quiet_tally:
        say(net, tally.line())
    if tally.rate_limited:
        say(net, f"{tally.rate_limited} request(s) answered 429 (rate limited) and retried")
    run = tally.run_dir
    if tally.interrupted and command == Operation.PLAN:
        say(net, "interrupted: this plan is incomplete and cannot be applied; plan the sheet again")
    elif tally.interrupted:
        say(
            net,
            f"interrupted: {tally.left} row(s) left, the journal is consistent; continue "
            f"with: ivr-migrate {command} {run}",
        )
    elif tally.stopped in ("canary", "limit"):
        left = tally.counts.get(RowState.PLANNED, 0) + tally.counts.get(RowState.IN_FLIGHT, 0)
        if left:
            say(
                net,
                f"{tally.stopped}: stopped after {sum(tally.this_run.values())} row(s); review "
                f"{run}, then continue with: ivr-migrate apply {run}",
            )
    elif tally.stopped:
        say(net, f"stopped: {tally.stopped}")
    in_flight = tally.counts.get(RowState.IN_FLIGHT, 0)
    if in_flight:
        say(net, f"{in_flight} row(s) in flight: run `ivr-migrate {command} {run}`")
    if reports:
        write_reports(net, run)
    say(net, f"run folder: {run}")
    if net.as_json:
        data = tally.as_json()
        data.update(extra or {})
        click.echo(json.dumps(data, indent=2))
    return tally_exit(tally)
