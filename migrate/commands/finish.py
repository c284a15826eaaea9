"""The end of a command: tally, hints that run as printed, reports, JSON, the exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from migrate.commands.connect import NetOptions
from migrate.commands.exits import ExitCode, tally_exit
from migrate.commands.hints import Hints, command_line, next_steps
from migrate.commands.reportchild import hand_over, write_reports_in_child
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
    code = tally_exit(tally)
    data = None
    if net.as_json:
        data = tally.as_json()
        data.update(extra or {})
    if reports:
        # from the console, the process itself becomes the report writer (it returns here
        # only when that cannot be done, e.g. when the command runs inside another program)
        text = None if data is None else json.dumps(data, indent=2)
        hand_over(run, int(code), to_stderr=net.as_json, then_print=text)
        write_reports(net, run)
    say(net, f"run folder: {run}")
    if data is not None:
        click.echo(json.dumps(data, indent=2))
    return code


def finish_reports(run: Path, code: int, *, to_stderr: bool, then_print: str | None) -> NoReturn:
    """The end of a command that handed its process over: write the reports, then the last
    lines it did not print (``report: …``, ``run folder: …``, the JSON tally), and exit with its
    code. A failure here never hides the tally, printed already, nor changes the code."""
    from migrate.errors import IvrMigrateError
    from migrate.reports import write_run_reports
    from migrate.reports.write import REPORT_HTML

    try:
        write_run_reports(run)
    except (IvrMigrateError, OSError) as exc:
        click.echo(
            f"warning: reports not written ({exc}); retry with: " + command_line("report", run),
            err=to_stderr,
        )
    else:
        click.echo(f"report: {run / REPORT_HTML}", err=to_stderr)
    click.echo(f"run folder: {run}", err=to_stderr)
    if then_print is not None:
        click.echo(then_print)
    sys.exit(code)
