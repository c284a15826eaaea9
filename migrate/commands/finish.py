"""The end of a command: tally, hints that run as printed, reports, JSON, the exit code."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from migrate.commands.connect import NetOptions
from migrate.commands.exits import ExitCode, tally_exit
from migrate.commands.hints import Hints, command_line, next_steps
from migrate.commands.reportchild import write_reports_in_child
from migrate.engine.options import Tally
from migrate.engine.status import run_status


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
            + command_line("report", run),
        )
        return
    say(net, f"report: {result.page}")


def finish(
    net: NetOptions,
    tally: Tally,
    command: str,
    hints: Hints,
    extra: dict[str, Any] | None = None,
    *,
    again: Sequence[str] = (),
    quiet_tally: bool = False,
    reports: bool = True,
) -> ExitCode:
    """Write the reports, print the tally, what to run next (and JSON); the exit code of
    DESIGN §3. ``again`` are the flags that repeat ``command`` (``retry --all``)."""
    if not quiet_tally:
        say(net, tally.line())
    if tally.rate_limited:
        say(net, f"{tally.rate_limited} request(s) answered 429 (rate limited) and retried")
    run = tally.run_dir
    for line in next_steps(tally, command, hints, run_status(run, times=False), again):
        say(net, line)
    if reports:
        write_reports(net, run)
    say(net, f"run folder: {run}")
    if net.as_json:
        data = tally.as_json()
        data.update(extra or {})
        click.echo(json.dumps(data, indent=2))
    return tally_exit(tally)
