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
from pathlib import Path
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


@cli.command("sandbox")
@click.option(
    "--host",
    default=None,
    help="Address to listen on [default: 127.0.0.1]. Anything but loopback must be explicit.",
)
@click.option("--port", type=int, default=8080, show_default=True, help="0 picks a free port.")
@click.option(
    "--seed",
    "seed_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of scenario JSON files [default: the bundled examples].",
)
@click.option("--no-seed", is_flag=True, help="Start with no scenarios.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep scenarios in this SQLite file across restarts [default: in memory].",
)
@click.option("--write-rate", default="6/60s", show_default=True, help="Per account; or none.")
@click.option("--read-rate", default="none", show_default=True, help="Per account, e.g. 600/60s.")
@click.option("--key", "keys", multiple=True, metavar="NAME=SECRET", help="API key (App).")
@click.option("--basic", "basics", multiple=True, metavar="NAME=USER:PASSWORD", help="Basic.")
@click.option("--token", "tokens", multiple=True, metavar="NAME=TOKEN", help="Bearer/IBSSO.")
@click.option("--generate", type=click.IntRange(min=0), default=0, help="Add N synthetic clones.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0.0, help="Added latency.")
@click.option("--error-rate", "error_rates", multiple=True, metavar="STATUS=RATE")
@click.option("--hang-rate", type=click.FloatRange(0, 1), default=0.0)
@click.option("--drop-before-rate", type=click.FloatRange(0, 1), default=0.0)
@click.option("--drop-after-rate", type=click.FloatRange(0, 1), default=0.0)
@click.option("--fault-methods", metavar="PUT,POST", help="Faults only for these methods.")
@click.option("--retry-after/--no-retry-after", default=False, help="Send Retry-After on 429.")
@click.option("-v", "--verbose", is_flag=True, help="Print every request on stderr.")
@handles_errors
def sandbox_command(host: str | None, port: int, verbose: bool, **options: Any) -> None:
    """Serve a local emulator of the IVR scenario API until interrupted.

    Without --key/--basic/--token it creates an account "demo" with a random API key and prints
    it. Admin endpoints for tests live under /_sandbox/ (faults, log, put-counts).
    """
    from migrate.sandbox.command import banner, build_config, describe_entry, is_loopback
    from migrate.sandbox.runner import DEFAULT_HOST, RunningSandbox, serve_forever

    if host is not None and not is_loopback(host):
        click.echo(f"warning: serving on {host}: other machines can reach this sandbox", err=True)

    def show(entry: Any) -> None:
        click.echo(describe_entry(entry), err=True)

    key_generated = not (options["keys"] or options["basics"] or options["tokens"])
    config = build_config(**options, on_request=show if verbose else None)

    def ready(sandbox: RunningSandbox) -> None:
        click.echo("\n".join(banner(sandbox, key_generated=key_generated)))

    serve_forever(config, host=host or DEFAULT_HOST, port=port, on_ready=ready)
    click.echo("sandbox stopped", err=True)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="ivr-migrate")
