"""The ``ivr-migrate`` command line: a thin click layer.

Each command parses its options, calls one core function, renders the result and maps errors to
exit codes (DESIGN §3): 0 all rows ended well, 1 some rows failed or conflicted, 2 bad usage or
bad input (before any request), 130 interrupted. Heavy modules (pandas, aiohttp) are imported
inside the commands so that ``ivr-migrate --help`` starts fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from migrate import __version__

EXIT_OK = 0
EXIT_ROWS_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print one line to stderr and exit."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@contextmanager
def error_exits() -> Iterator[None]:
    """Turn our exceptions into one-line messages and the exit codes of DESIGN §3."""
    from migrate.errors import ApiError, IvrMigrateError, JournalError, SheetError, UsageError

    try:
        yield
    except SheetError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        if exc.total > 1:
            click.echo(f"{exc.total} problems found; nothing was sent.", err=True)
        sys.exit(EXIT_USAGE)
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except JournalError as exc:
        fail(str(exc), EXIT_USAGE)
    except ApiError as exc:
        fail(str(exc), EXIT_ROWS_FAILED)
    except IvrMigrateError as exc:
        fail(str(exc), EXIT_ROWS_FAILED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


def handles_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with error_exits():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ivr-migrate")
def cli() -> None:
    """Bulk migrations of Infobip Voice IVR scenarios.

    Check a sheet of rules, plan the changes (reads only), apply them within the API's write
    limit, resume after a crash, roll back, and report. Add --sandbox to any networked command
    to run it against a local emulator with no account.
    """


@cli.command("rules")
@click.argument("name", required=False)
@handles_errors
def rules_command(name: str | None) -> None:
    """Print the rule catalogue, or one rule in full."""
    from migrate.catalogue_text import render_catalogue, render_rule

    click.echo(render_rule(name) if name else render_catalogue(), nl=False)


@cli.command("check")
@click.argument("sheet_path", metavar="SHEET")
@click.option("--sheet", "sheet_name", metavar="NAME", help="Worksheet of an XLSX file.")
@handles_errors
def check_command(sheet_path: str, sheet_name: str | None) -> None:
    """Check a sheet offline: every problem with its row and column, or what it would do.

    Exits 2 when the sheet has problems. Sends no request.
    """
    from migrate.sheet import read_sheet, summarize

    summary = summarize(read_sheet(sheet_path, sheet=sheet_name))
    targets = f"{summary.scenario_ids} scenario id{'s' * (summary.scenario_ids != 1)}"
    if summary.selectors:
        count = len(summary.selectors)
        listed = ", ".join(summary.selectors)
        targets += f", {count} selector{'s' * (count != 1)} ({listed}) matched when planning"
    rules = ", ".join(f"{name} {count}" for name, count in summary.rules.items())
    click.echo(f"{sheet_path}: {summary.rows} row{'s' * (summary.rows != 1)}, no problems found")
    click.echo(f"  targets: {targets}")
    click.echo(f"  rows per rule: {rules}")
    click.echo(f"Nothing was sent. `ivr-migrate plan {sheet_path}` shows what would change.")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="ivr-migrate")
