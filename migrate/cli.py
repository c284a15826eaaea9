"""The ``ivr-migrate`` command line: a thin click layer.

Each command parses its options into typed values, calls one function of the engine (or of
``migrate/commands``), and renders the result; exit codes, the ``--sandbox`` wiring, progress
and the report child live in ``migrate/commands``. Heavy modules (pandas, aiohttp) are imported
inside the commands so that ``ivr-migrate --help`` starts fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from click.exceptions import NoArgsIsHelpError

from migrate import __version__
from migrate.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from migrate.commands.connect import NetOptions
    from migrate.engine import ApplyOptions, Connection, Tally

P = ParamSpec("P")
R = TypeVar("R")


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Our exceptions become one line each on stderr and the exit code of DESIGN §3."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from migrate.commands.exits import CommandExit, exits_on_errors

        try:
            with exits_on_errors():
                return func(*args, **kwargs)
        except CommandExit as done:
            for line in done.lines:
                click.echo(line, err=True)
            sys.exit(int(done.code))

    return wrapper


def leave(code: int, *lines: str) -> None:
    """Leave the command with ``code`` after printing ``lines`` on stderr."""
    from migrate.commands.exits import CommandExit, ExitCode

    raise CommandExit(ExitCode(code), *lines)


class OneLineUsageError(click.UsageError):
    """A click usage error shown as one line, like every other error (DESIGN §3: exit 2)."""

    def show(self, file: IO[Any] | None = None) -> None:
        where = f" (see: {self.ctx.command_path} --help)" if self.ctx is not None else ""
        click.echo(f"error: {self.format_message()}{where}", file=file, err=file is None)


@contextmanager
def one_line_usage() -> Iterator[None]:
    try:
        yield
    except (OneLineUsageError, NoArgsIsHelpError):
        raise
    except click.UsageError as exc:
        # click's own display is three lines (usage, hint, error); keep its message (exit 2)
        raise OneLineUsageError(exc.format_message(), exc.ctx) from None


class Cli(click.Group):
    """The command group; usage errors (bad option values, unknown options) on one line."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with one_line_usage():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with one_line_usage():
            return super().invoke(ctx)


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option(
    "--port", type=int, default=8080, show_default=True, help="TCP port; 0 picks a free one."
)
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
@click.option(
    "--write-rate",
    default="6/60s",
    show_default=True,
    help="Writes (PUT, POST, DELETE) per account as N/PERIOD, a strict sliding window; or none.",
)
@click.option(
    "--read-rate",
    default="none",
    show_default=True,
    help="Reads (GET) per account as N/PERIOD, e.g. 600/60s; or none.",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    metavar="NAME=SECRET",
    help="Account NAME accepts API key SECRET (App). Repeat for more; the first is the default.",
)
@click.option(
    "--basic", "basics", multiple=True, metavar="NAME=USER:PASSWORD", help="Basic login of NAME."
)
@click.option(
    "--token", "tokens", multiple=True, metavar="NAME=TOKEN", help="Bearer/IBSSO token of NAME."
)
@click.option(
    "--generate",
    type=click.IntRange(min=0),
    default=0,
    help="Synthetic scenarios (clones of the seed ones) added to each account.",
)
@click.option(
    "--put-replaces/--put-merges",
    default=True,
    show_default=True,
    help="A PUT replaces the whole scenario (keys it leaves out are gone, as on the real API), "
    "or merges into it.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Milliseconds added to every faulted request.",
)
@click.option(
    "--error-rate",
    "error_rates",
    multiple=True,
    metavar="STATUS=RATE",
    help="Answer a fraction (0-1) of faulted requests with an HTTP error STATUS, e.g. 503=0.05.",
)
@click.option(
    "--hang-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction (0-1) never answered, nothing stored; logged as hung the moment it hangs.",
)
@click.option(
    "--drop-before-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction (0-1) whose connection closes unanswered before the write is stored.",
)
@click.option(
    "--drop-after-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction (0-1) whose connection closes unanswered after the write is stored.",
)
@click.option(
    "--hold-before-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction (0-1) held open unanswered before the write is stored; logged at once.",
)
@click.option(
    "--hold-after-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction (0-1) held open unanswered after the write is stored; logged at once.",
)
@click.option(
    "--nested-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction (0-1) answered 200 with JSON nested --nested-depth levels deep.",
)
@click.option(
    "--nested-depth",
    type=click.IntRange(min=1),
    help="Levels of [ in a --nested-rate answer [default: 100000].",
)
@click.option(
    "--huge-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Fraction (0-1) answered 200 with a streamed JSON body over --huge-body-bytes.",
)
@click.option(
    "--huge-body-bytes",
    type=click.IntRange(min=1),
    help="Bytes a --huge-rate answer exceeds [default: 20971520, 20 MiB].",
)
@click.option(
    "--fault-methods",
    metavar="PUT,POST",
    help="Comma-separated HTTP methods the faults apply to [default: every method].",
)
@click.option(
    "--retry-after/--no-retry-after",
    default=False,
    help="Send Retry-After (whole seconds) with 429; the real API documents none.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Print every request on stderr: method, path, status, outcome, account.",
)
@handles_errors
def sandbox_command(host: str | None, port: int, verbose: bool, **options: Any) -> None:
    """Serve a local emulator of the IVR scenario API until interrupted.

    Without --key/--basic/--token it creates an account "demo" with a random API key and prints
    it. Several accounts (--key eu=K1 --key us=K2) each get their own scenarios and limits.
    Admin endpoints for tests live under /_sandbox/ (faults, log, put-counts).

    Faults apply to authenticated requests within their limit (of --fault-methods); each gets
    at most one of them, so the fault rates together must not exceed 1.
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


# -- the engine: plan, apply, run, retry, rollback, status -------------------------------------

#: ``--sandbox`` given without a folder: seed from the bundled examples.
BUNDLED_SEED = "<bundled>"
_NET_OPTIONS = (
    "base_url",
    "write_rate",
    "read_rate",
    "concurrency",
    "timeout",
    "sandbox",
    "as_json",
    "quiet",
    "progress",
)


def connection_options(func: Callable[..., R]) -> Callable[..., R]:
    """Options of every command that talks to the API (DESIGN §3), passed on as ``net``."""
    options = [
        click.option(
            "--base-url",
            envvar="INFOBIP_BASE_URL",
            metavar="URL",
            help="Account base URL (env INFOBIP_BASE_URL). Credentials come from the "
            "environment only: INFOBIP_API_KEY, or INFOBIP_TOKEN, or INFOBIP_USERNAME and "
            "INFOBIP_PASSWORD.",
        ),
        click.option(
            "--write-rate",
            metavar="N/PERIOD",
            help="Write limit, e.g. 6/min, 20/2s [default: 6/min; 6/2s with --sandbox].",
        ),
        click.option("--read-rate", metavar="N/PERIOD", help="Read limit [default: 20/1s]."),
        click.option(
            "--concurrency",
            type=click.IntRange(min=1),
            default=DEFAULT_CONCURRENCY,
            show_default=True,
            help="Workers (and connections).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=DEFAULT_TIMEOUT,
            show_default=True,
            help="Seconds per request.",
        ),
        click.option(
            "--sandbox",
            is_flag=False,
            flag_value=BUNDLED_SEED,
            default=None,
            metavar="[DIR]",
            help="Run against a local emulator started in-process, seeded from DIR (default: "
            "the bundled examples); it keeps its state in the run folder.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the tally as JSON on stdout."),
        click.option("-q", "--quiet", is_flag=True, help="No progress, only the final lines."),
        click.option(
            "--progress/--no-progress",
            default=None,
            help="Progress on stderr [default: a bar on a terminal, else a line every 5 s].",
        ),
    ]

    @functools.wraps(func)
    @handles_errors
    def wrapper(*args: Any, **kwargs: Any) -> R:
        from migrate.commands.connect import NetOptions

        net = NetOptions(**{name: kwargs.pop(name) for name in _NET_OPTIONS})
        return func(*args, net=net, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def rail_options(func: Callable[..., R]) -> Callable[..., R]:
    """Safety rails of the commands that write, passed on as ``rails`` (and ``yes``)."""
    options = [
        click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation."),
        click.option(
            "--canary", type=click.IntRange(min=1), metavar="N", help="Apply N rows, then stop."
        ),
        click.option(
            "--max-failures",
            metavar="N|P%",
            help="Stop once more than N rows (or P% of them) failed or conflicted.",
        ),
        click.option(
            "--limit", type=click.IntRange(min=1), metavar="N", help="Apply at most N rows now."
        ),
    ]

    @functools.wraps(func)
    @handles_errors
    def wrapper(*args: Any, **kwargs: Any) -> R:
        rails = _rails(kwargs.pop("canary"), kwargs.pop("max_failures"), kwargs.pop("limit"))
        return func(*args, rails=rails, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _rails(canary: int | None, max_failures: str | None, limit: int | None) -> ApplyOptions:
    from migrate.engine import ApplyOptions, FailureLimit

    return ApplyOptions(
        canary=canary,
        limit=limit,
        max_failures=FailureLimit.parse(max_failures) if max_failures else None,
    )


def _need_confirmation(yes: bool, action: str) -> None:
    """Without a terminal, writing needs --yes (checked before any request)."""
    if not yes and not sys.stdin.isatty():
        leave(2, f"error: {action} writes to the API: pass --yes to confirm without a terminal")


def _confirm(yes: bool, question: str) -> None:
    if yes:
        return
    if not click.confirm(question, default=False, err=True):
        leave(1, "not confirmed: nothing was written")


def _run_dir(run: str) -> Path:
    from migrate.engine import resolve_run

    return resolve_run(run)


def _writable_run_dir(run: str) -> Path:
    """The run folder of a command that writes: checked for space and write access first, so
    a full or read-only disk is named as such (not as SQLite's 'disk I/O error')."""
    from migrate.engine.runfolder import check_writable

    run_dir = _run_dir(run)
    check_writable(run_dir)
    return run_dir


def _show_plan(net: NetOptions, tally: Tally, connection: Connection) -> None:
    from migrate.commands.finish import say
    from migrate.commands.progress import duration

    say(net, f"plan: {tally.line()}")
    if tally.planned:
        eta = duration(tally.eta_seconds or 0)
        say(net, f"{tally.planned} write(s) at {connection.write_rate}: about {eta}")


def _finish(
    net: NetOptions,
    tally: Tally,
    command: str,
    extra: dict[str, Any] | None = None,
    *,
    quiet_tally: bool = False,
) -> None:
    from migrate.commands.finish import finish

    sys.exit(int(finish(net, tally, command, extra, quiet_tally=quiet_tally)))


def _reopen(net: NetOptions, run_dir: Path) -> tuple[Path, str | None]:
    """The run's base URL from its journal, unless --base-url says otherwise."""
    from migrate.engine import run_status
    from migrate.vocabulary import Meta

    return run_dir, net.base_url or run_status(run_dir).metadata.get(Meta.BASE_URL)


@cli.command("plan")
@click.argument("sheet_path", metavar="SHEET", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", "sheet_name", metavar="NAME", help="Worksheet of an XLSX file.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder to create."
)
@connection_options
@handles_errors
def plan_command(
    sheet_path: Path, sheet_name: str | None, out: Path | None, net: NetOptions
) -> None:
    """Plan a sheet: read every target, apply the rules, validate; no write.

    Writes a run folder (journal, sheet copy) and prints counts and the ETA of the writes.
    Exits 0 when every target is planned or unchanged, 1 when some are invalid, missing or
    unreadable, 2 for a bad sheet or configuration.
    """
    from migrate.commands.finish import say
    from migrate.commands.progress import renderer
    from migrate.engine import plan_run, prepare_run

    net.precheck()
    prepared = prepare_run(sheet_path, sheet=sheet_name, out=out)
    with (
        net.connect(prepared.run_dir, new=True) as connection,
        renderer(quiet=net.quiet, progress=net.progress) as progress,
    ):
        tally = plan_run(prepared, connection, progress=progress)
    _show_plan(net, tally, connection)
    if tally.planned and not tally.interrupted:
        say(net, f"next: ivr-migrate apply {tally.run_dir}")
    _finish(net, tally, "plan", quiet_tally=True)


@cli.command("apply")
@click.argument("run", metavar="RUN")
@rail_options
@connection_options
@handles_errors
def apply_command(run: str, yes: bool, rails: ApplyOptions, net: NetOptions) -> None:
    """Apply a planned run (RUN: a run folder or a run id under reports/); resumes.

    Per row: re-read, refuse as conflict if it changed since the plan, store the pre-image and
    mark it in flight, PUT, verify. Running it again continues where it stopped.
    """
    from migrate.commands.progress import renderer
    from migrate.engine import apply_run, run_status
    from migrate.vocabulary import PENDING

    run_dir = _writable_run_dir(run)
    _need_confirmation(yes, "apply")
    net.precheck()
    status = run_status(run_dir)
    todo = sum(status.counts[state] for state in PENDING)
    run_dir, base_url = _reopen(net, run_dir)
    with net.connect(run_dir, new=False, base_url=base_url) as connection:
        _confirm(yes, f"Write {todo} scenario(s) to {connection.base_url}?")
        with renderer(quiet=net.quiet, progress=net.progress) as progress:
            tally = apply_run(run_dir, connection, rails, progress=progress)
    _finish(net, tally, "apply")


@cli.command("run")
@click.argument("sheet_path", metavar="SHEET", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", "sheet_name", metavar="NAME", help="Worksheet of an XLSX file.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder to create."
)
@rail_options
@connection_options
@handles_errors
def run_command(
    sheet_path: Path,
    sheet_name: str | None,
    out: Path | None,
    yes: bool,
    rails: ApplyOptions,
    net: NetOptions,
) -> None:
    """Plan a sheet, then apply it (asks for confirmation unless --yes)."""
    from migrate.commands.finish import say, write_reports
    from migrate.commands.progress import renderer
    from migrate.engine import apply_run, plan_run, prepare_run

    _need_confirmation(yes, "run")
    net.precheck()
    prepared = prepare_run(sheet_path, sheet=sheet_name, out=out)
    with net.connect(prepared.run_dir, new=True) as connection:
        with renderer(quiet=net.quiet, progress=net.progress) as progress:
            planned = plan_run(prepared, connection, progress=progress)
        _show_plan(net, planned, connection)
        if not yes and planned.planned and not planned.interrupted:
            # The operator reads the dry-run report before answering the question below.
            write_reports(net, prepared.run_dir)
        if planned.interrupted or not planned.planned:
            if not planned.planned and not planned.interrupted:
                say(net, "nothing to write")
            _finish(net, planned, "plan", quiet_tally=True)
        _confirm(yes, f"Write {planned.planned} scenario(s) to {connection.base_url}?")
        with renderer(quiet=net.quiet, progress=net.progress) as progress:
            tally = apply_run(prepared.run_dir, connection, rails, progress=progress)
    _finish(net, tally, "apply", {"plan": planned.as_json()})


@cli.command("retry")
@click.argument("run", metavar="RUN")
@click.option(
    "--all",
    "all_rows",
    is_flag=True,
    help="Also re-plan and retry conflicts and permanent failures.",
)
@rail_options
@connection_options
@handles_errors
def retry_command(
    run: str, all_rows: bool, yes: bool, rails: ApplyOptions, net: NetOptions
) -> None:
    """Re-attempt the rows of RUN whose last outcome is a retryable failure."""
    from migrate.commands.progress import renderer
    from migrate.engine import retry_run

    run_dir = _writable_run_dir(run)
    _need_confirmation(yes, "retry")
    net.precheck()
    run_dir, base_url = _reopen(net, run_dir)
    with net.connect(run_dir, new=False, base_url=base_url) as connection:
        _confirm(yes, f"Retry the failed rows of {run_dir} against {connection.base_url}?")
        with renderer(quiet=net.quiet, progress=net.progress) as progress:
            tally = retry_run(run_dir, connection, rails, all_rows=all_rows, progress=progress)
    _finish(net, tally, "retry")


@cli.command("rollback")
@click.argument("run", metavar="RUN")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--max-failures",
    metavar="N|P%",
    help="Stop once more than N rows (or P%) could not be restored.",
)
@connection_options
@handles_errors
def rollback_command(run: str, yes: bool, max_failures: str | None, net: NetOptions) -> None:
    """Restore the backed-up body of every row RUN updated.

    A row changed by someone else since is left alone (rollback_conflict).
    """
    from migrate.commands.progress import renderer
    from migrate.engine import rollback_run, run_status
    from migrate.vocabulary import RowState

    run_dir = _writable_run_dir(run)
    rails = _rails(None, max_failures, None)
    _need_confirmation(yes, "rollback")
    net.precheck()
    count = run_status(run_dir).counts[RowState.UPDATED]
    run_dir, base_url = _reopen(net, run_dir)
    with net.connect(run_dir, new=False, base_url=base_url) as connection:
        _confirm(yes, f"Restore {count} scenario(s) on {connection.base_url}?")
        with renderer(quiet=net.quiet, progress=net.progress) as progress:
            tally = rollback_run(run_dir, connection, rails, progress=progress)
    _finish(net, tally, "rollback")


@cli.command("status")
@click.argument("run", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON on stdout.")
@handles_errors
def status_command(run: str, as_json: bool) -> None:
    """Tally of RUN from its journal (no network): outcomes, rules, writes, 429s."""
    import json

    from migrate.engine import run_status
    from migrate.reports import report_data_from_run, summarise
    from migrate.vocabulary import Operation

    status = run_status(_run_dir(run))
    # The same summary as the run's reports (report.xlsx, report.html).
    summary = summarise(
        report_data_from_run(status.run_dir), dry_run=status.phase is Operation.PLAN
    )
    if as_json:
        data = status.as_json()
        data["summary"] = summary.to_dict()
        click.echo(json.dumps(data, indent=2))
        return
    from migrate.reports.terminal import print_summary

    print_summary(summary)
    click.echo(status.line())


# -- reports and inventory ---------------------------------------------------------------------


@cli.command("report")
@click.argument("run", metavar="RUN")
@handles_errors
def report_command(run: str) -> None:
    """(Re)write the reports of RUN from its journal (no network).

    Writes results.csv, changes.csv, failures.csv, report.xlsx and report.html into the run
    folder. failures.csv is the error file: one line per sheet row and scenario that did not end
    well (failed, conflict, not found, invalid, rollback conflict), the sheet row's cells first,
    then outcome, http_status and error. It is a sheet: `ivr-migrate run failures.csv` re-plans
    exactly those rows. A rollback-conflict line re-applies its rule when run, it does not undo
    it (its outcome cell says so): delete it unless the change should stay.
    """
    from migrate.reports import write_run_reports

    files, summary = write_run_reports(_run_dir(run))
    click.echo(summary.tally())
    for path in files.all():
        click.echo(f"  {path}")


@cli.command("inventory")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files [default: reports/inventory-<date>-<time>].",
)
@connection_options
@handles_errors
def inventory_command(out: Path | None, net: NetOptions) -> None:
    """List every scenario of the account and what it holds (GET only).

    Writes inventory.xlsx and inventory.csv (one row per scenario), one table per kind of value
    (SMS senders, Call API hosts, audio URLs, numbers, Say voices) with the scenarios using
    each, and starter-rules.csv: one row per sender and host, to fill in and feed to plan.
    """
    import json
    import tempfile
    import time

    from migrate.commands.finish import say
    from migrate.config import DEFAULT_REPORTS_DIR
    from migrate.inventory import CATEGORIES, inventory_account
    from migrate.reports.inventory_tables import INVENTORY_XLSX, STARTER_CSV, write_inventory

    net.precheck()
    folder = out or Path(DEFAULT_REPORTS_DIR) / time.strftime("inventory-%Y%m%d-%H%M%S")

    def progress(seen: int) -> None:
        if not net.quiet and seen % 500 == 0:
            click.echo(f"{seen} scenarios read", err=True)

    # --sandbox keeps its store in a scratch folder: an inventory is not a run.
    with (
        tempfile.TemporaryDirectory(prefix="ivr-migrate-inventory-") as scratch,
        net.connect(Path(scratch), new=True) as connection,
    ):
        inventory = inventory_account(
            connection.base_url,
            connection.credentials,
            read_rate=connection.read_rate,
            timeout=connection.timeout,
            connections=connection.concurrency,
            progress=progress,
        )
    paths = write_inventory(folder, inventory)
    distinct = {category: len(inventory.tables[category]) for category in CATEGORIES}
    actions = sum(entry.actions for entry in inventory.scenarios)
    say(
        net,
        f"{len(inventory.scenarios)} scenarios, {actions} actions: "
        + ", ".join(f"{count} {category}" for category, count in distinct.items()),
    )
    say(net, f"inventory: {folder / INVENTORY_XLSX} (and inventory*.csv)")
    say(
        net,
        f"starter sheet: {folder / STARTER_CSV}: fill in new values on the rows to change, "
        f"delete the others, then run: ivr-migrate plan {folder / STARTER_CSV}",
    )
    if net.as_json:
        summary = {
            "folder": str(folder),
            "scenarios": len(inventory.scenarios),
            "actions": actions,
            "distinct": distinct,
            "files": [str(path) for path in paths],
        }
        click.echo(json.dumps(summary, indent=2))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="ivr-migrate")
