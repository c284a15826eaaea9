"""The ``ivr-migrate`` command line: a thin click layer.

Each command parses its options into typed values, calls one function of the engine (or of
``migrate/commands``), and renders the result; exit codes, the ``--sandbox`` wiring, progress
and the report child live in ``migrate/commands``. Heavy modules (pandas, aiohttp) are imported
inside the commands so that ``ivr-migrate --help`` starts fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click
from click.exceptions import NoArgsIsHelpError

from migrate import __version__
from migrate.config import DEFAULT_BASE_URL, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from migrate.commands.connect import NetOptions
    from migrate.commands.hints import Hints
    from migrate.engine import ApplyOptions, Connection, PreparedRun, Tally
    from migrate.sheet import SheetRow

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
@click.option(
    "--accounts",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Check the sheet's account column against this accounts file [default: "
    "./ivr-migrate.toml when it exists].",
)
@handles_errors
def check_command(sheet_path: str, sheet_name: str | None, accounts: Path | None) -> None:
    """Check a sheet offline: every problem with its row and column, or what it would do.

    Exits 2 when the sheet has problems. Sends no request.
    """
    from migrate.accounts import find_accounts_file, read_accounts
    from migrate.sheet import check_accounts, read_sheet, summarize

    rows = read_sheet(sheet_path, sheet=sheet_name)
    accounts_file = find_accounts_file(accounts)
    names = [] if accounts_file is None else list(read_accounts(accounts_file, credentials=False))
    check_accounts(rows, names, str(sheet_path))
    summary = summarize(rows)
    targets = f"{summary.scenario_ids} scenario id{'s' * (summary.scenario_ids != 1)}"
    if summary.selectors:
        count = len(summary.selectors)
        listed = ", ".join(summary.selectors)
        targets += f", {count} selector{'s' * (count != 1)} ({listed}) matched when planning"
    rules = ", ".join(f"{name} {count}" for name, count in summary.rules.items())
    click.echo(f"{sheet_path}: {summary.rows} row{'s' * (summary.rows != 1)}, no problems found")
    click.echo(f"  targets: {targets}")
    click.echo(f"  rows per rule: {rules}")
    for line in _plan_hints(Path(sheet_path), sheet_name):
        click.echo(line)


def _plan_hints(sheet: Path, sheet_name: str | None) -> list[str]:
    """What ``check`` suggests: plan the sheet (or, with no credentials here, the sandbox)."""
    from migrate.commands.hints import Hints
    from migrate.config import Credentials
    from migrate.errors import ConfigError

    hints = Hints(sheet=sheet, sheet_name=sheet_name)
    lines = [f"Nothing was sent. To see what would change: {hints.plan_sheet()}"]
    try:
        Credentials.from_env()
    except ConfigError:
        sandbox = Hints(sandbox=True, sheet=sheet, sheet_name=sheet_name).plan_sheet()
        lines.append(
            "No credentials here: set INFOBIP_API_KEY first, or try the sheet on the embedded "
            f"sandbox: {sandbox}"
        )
    return lines


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


# -- the engine: plan, apply, run, retry, rollback, status, show -------------------------------

_NET_OPTIONS = (
    "base_url",
    "read_rate",
    "concurrency",
    "timeout",
    "sandbox",
    "as_json",
    "quiet",
    "progress",
)


def connection_options(
    *, writes: bool, seeds: bool
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Options of every command that talks to the API (DESIGN §3), passed on as ``net``:
    ``--write-rate`` for the commands that write, ``--sandbox-seed`` for those that start a new
    sandbox (a run's later commands reopen the sandbox it was planned on)."""
    sandbox = click.option(
        "--sandbox",
        is_flag=True,
        help="Run against the embedded emulator of the API, started in-process (no account "
        "needed); it keeps its state in the run folder.",
    )
    options = [
        click.option(
            "--base-url",
            envvar="INFOBIP_BASE_URL",
            metavar="URL",
            help="Your account's base URL, e.g. https://xxxxx.api.infobip.com (env "
            f"INFOBIP_BASE_URL) [default: {DEFAULT_BASE_URL}]. Credentials come from the "
            "environment only: INFOBIP_API_KEY, or INFOBIP_TOKEN, or INFOBIP_USERNAME and "
            "INFOBIP_PASSWORD.",
        ),
        click.option(
            "--accounts",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            help="Several accounts for one run: a TOML file naming each account's base URL "
            "and the environment variable of its credential [default: ./ivr-migrate.toml "
            "when it exists]; the sheet then has an account column.",
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
        sandbox,
        click.option("--json", "as_json", is_flag=True, help="Print the tally as JSON on stdout."),
        click.option("-q", "--quiet", is_flag=True, help="No progress, only the final lines."),
        click.option(
            "--progress/--no-progress",
            default=None,
            help="Progress on stderr [default: a bar on a terminal, else a line every 5 s].",
        ),
    ]
    if writes:
        write_rate = click.option(
            "--write-rate",
            metavar="N/PERIOD",
            help="Write limit, e.g. 6/min, 20/2s [default: 6/min; 6/2s with --sandbox].",
        )
        options.insert(1, write_rate)
    if seeds:
        seed = click.option(
            "--sandbox-seed",
            type=click.Path(path_type=Path),
            metavar="DIR",
            help="With --sandbox, seed the emulator from this folder of scenario JSON files "
            "[default: the bundled examples].",
        )
        options.insert(options.index(sandbox) + 1, seed)

    def decorate(func: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(func)
        @handles_errors
        def wrapper(*args: Any, **kwargs: Any) -> R:
            from migrate.commands.connect import NetOptions

            net = NetOptions(
                **{name: kwargs.pop(name) for name in _NET_OPTIONS},
                write_rate=kwargs.pop("write_rate", None),
                sandbox_seed=kwargs.pop("sandbox_seed", None),
                accounts=kwargs.pop("accounts", None),
                only_account=kwargs.pop("only_account", None),
            )
            return func(*args, net=net, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


#: ``--account NAME``: the commands that continue a run can work on one of its accounts.
account_option = click.option(
    "--account",
    "only_account",
    metavar="NAME",
    help="Only this account of a run over several (--accounts).",
)


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


def _preview(run_dir: Path, operation: str) -> Callable[[], None]:
    """What a confirmation shows before asking: the rows to write per rule, the first diffs."""
    from migrate.commands.show import console, operation_states, print_preview

    return lambda: print_preview(run_dir, operation_states(operation), console(stderr=True))


def _show_plan(
    net: NetOptions, tally: Tally, connections: Sequence[Connection], sheet: Sequence[SheetRow]
) -> None:
    from migrate.commands.finish import say
    from migrate.commands.idle import idle_rows
    from migrate.commands.progress import duration

    say(net, f"plan: {tally.line()}")
    if tally.planned:
        eta = duration(tally.eta_seconds or 0)
        if len(connections) == 1:
            rate = f"at {connections[0].write_rate}"
        else:
            rate = f"over {len(connections)} accounts at once, each within its own limit"
        say(net, f"{tally.planned} write(s) {rate}: about {eta}")
        for name, part in tally.accounts.items():
            if part.planned:
                say(
                    net,
                    f"  {name}: {part.planned} write(s), about {duration(part.eta_seconds or 0)}",
                )
    if not tally.interrupted:
        for line in idle_rows(tally.run_dir, sheet):
            say(net, line)


def _finish(
    net: NetOptions,
    tally: Tally,
    command: str,
    hints: Hints,
    extra: dict[str, Any] | None = None,
    *,
    again: Sequence[str] = (),
    quiet_tally: bool = False,
) -> NoReturn:
    from migrate.commands.finish import finish

    code = finish(net, tally, command, hints, extra, again=again, quiet_tally=quiet_tally)
    sys.exit(int(code))


def _reopen(net: NetOptions, run_dir: Path) -> tuple[Path, str | None]:
    """The run's base URL from its journal, unless --base-url says otherwise."""
    from migrate.engine import run_status
    from migrate.vocabulary import Meta

    return run_dir, net.base_url or run_status(run_dir, times=False).metadata.get(Meta.BASE_URL)


def _plan(net: NetOptions, prepared: PreparedRun, connections: Sequence[Connection]) -> Tally:
    """Plan a prepared run; a server that is not the scenario API leaves no run folder."""
    from migrate.commands.apicheck import scenario_api
    from migrate.commands.progress import renderer
    from migrate.engine import plan_run

    with (
        scenario_api(connections[0], prepared),
        renderer(quiet=net.quiet, progress=net.progress) as progress,
    ):
        return plan_run(prepared, connections, progress=progress)


def _account_names(net: NetOptions) -> list[str]:
    """The accounts of the accounts file (empty: a run over one account)."""
    specs = net.account_specs()
    return [] if specs is None else list(specs)


@cli.command("plan")
@click.argument("sheet_path", metavar="SHEET", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", "sheet_name", metavar="NAME", help="Worksheet of an XLSX file.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder to create."
)
@connection_options(writes=False, seeds=True)
@handles_errors
def plan_command(
    sheet_path: Path, sheet_name: str | None, out: Path | None, net: NetOptions
) -> None:
    """Plan a sheet: read every target, apply the rules, validate; no write.

    Writes a run folder (journal, sheet copy) and prints counts, the ETA of the writes at the
    default write rate, and every sheet row that changed nothing. Exits 0 when every target is
    planned or unchanged, 1 when some are invalid, missing or unreadable, 2 for a bad sheet or
    configuration.
    """
    from migrate.commands.finish import say
    from migrate.commands.hints import Hints
    from migrate.engine import prepare_run

    net.precheck()
    prepared = prepare_run(sheet_path, sheet=sheet_name, out=out, accounts=_account_names(net))
    with net.connections(prepared.run_dir, new=True) as connections:
        tally = _plan(net, prepared, connections)
    hints = Hints.of(net, connections[0], sheet=sheet_path, sheet_name=sheet_name)
    _show_plan(net, tally, connections, prepared.rows)
    if tally.planned and not tally.interrupted:
        say(net, f"next: {hints.on_run('apply', tally.run_dir)}")
    _finish(net, tally, "plan", hints, quiet_tally=True)


@cli.command("apply")
@click.argument("run", metavar="RUN")
@rail_options
@connection_options(writes=True, seeds=False)
@handles_errors
def apply_command(run: str, yes: bool, rails: ApplyOptions, net: NetOptions) -> None:
    """Apply a planned run (RUN: a run folder or a run id under reports/); resumes.

    Per row: re-read, refuse as conflict if it changed since the plan, store the pre-image and
    mark it in flight, PUT, verify. Running it again continues where it stopped. On a terminal
    it shows the rows to write per rule and the first changes, and asks.
    """
    from migrate.commands.apicheck import scenario_api
    from migrate.commands.confirm import confirm, need_confirmation
    from migrate.commands.connect import where
    from migrate.commands.hints import Hints
    from migrate.commands.progress import renderer
    from migrate.engine import apply_run, run_status

    run_dir = _writable_run_dir(run)
    need_confirmation(yes, "apply")
    net.precheck()
    todo = run_status(run_dir, times=False).pending
    run_dir, base_url = _reopen(net, run_dir)
    with net.connections(run_dir, new=False, base_url=base_url) as connections:
        question = f"Write {todo} scenario(s) to {where(connections)}?"
        confirm(yes, question, _preview(run_dir, "apply"))
        with (
            scenario_api(connections[0]),
            renderer(quiet=net.quiet, progress=net.progress) as bar,
        ):
            tally = apply_run(run_dir, connections, rails, progress=bar)
    _finish(net, tally, "apply", Hints.of(net, connections[0]))


@cli.command("run")
@click.argument("sheet_path", metavar="SHEET", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", "sheet_name", metavar="NAME", help="Worksheet of an XLSX file.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder to create."
)
@rail_options
@connection_options(writes=True, seeds=True)
@handles_errors
def run_command(
    sheet_path: Path,
    sheet_name: str | None,
    out: Path | None,
    yes: bool,
    rails: ApplyOptions,
    net: NetOptions,
) -> None:
    """Plan a sheet, then apply it (asks for confirmation unless --yes).

    Before asking it writes the dry-run report and shows the rows to write per rule and the
    first changes.
    """
    from migrate.commands.apicheck import scenario_api
    from migrate.commands.confirm import confirm, need_confirmation
    from migrate.commands.connect import where
    from migrate.commands.finish import say, write_reports
    from migrate.commands.hints import Hints
    from migrate.commands.progress import renderer
    from migrate.engine import apply_run, prepare_run
    from migrate.vocabulary import Operation

    need_confirmation(yes, "run")
    net.precheck()
    prepared = prepare_run(sheet_path, sheet=sheet_name, out=out, accounts=_account_names(net))
    with net.connections(prepared.run_dir, new=True) as connections:
        hints = Hints.of(net, connections[0], sheet=sheet_path, sheet_name=sheet_name)
        if yes:
            # nothing to review: each scenario is planned from a read made in its write turn
            tally = _run_at_once(net, prepared, connections, rails)
            if not tally.interrupted:
                from migrate.commands.idle import idle_rows

                for line in idle_rows(tally.run_dir, prepared.rows):
                    say(net, line)
            if tally.operation == Operation.PLAN:
                if not tally.interrupted:
                    say(net, "nothing to write")
                _finish(net, tally, "plan", hints, quiet_tally=True)
            _finish(net, tally, "apply", hints)
        planned = _plan(net, prepared, connections)
        _show_plan(net, planned, connections, prepared.rows)
        if not yes and planned.planned and not planned.interrupted:
            # The operator reads the dry-run report before answering the question below.
            write_reports(net, prepared.run_dir)
        if planned.interrupted or not planned.planned:
            if not planned.planned and not planned.interrupted:
                say(net, "nothing to write")
            _finish(net, planned, "plan", hints, quiet_tally=True)
        question = f"Write {planned.planned} scenario(s) to {where(connections)}?"
        confirm(yes, question, _preview(prepared.run_dir, "apply"))
        with (
            scenario_api(connections[0]),
            renderer(quiet=net.quiet, progress=net.progress) as bar,
        ):
            tally = apply_run(prepared.run_dir, connections, rails, progress=bar)
    _finish(net, tally, "apply", hints, {"plan": planned.as_json()})


def _run_at_once(
    net: NetOptions,
    prepared: PreparedRun,
    connections: Sequence[Connection],
    rails: ApplyOptions,
) -> Tally:
    """``run --yes``: find the targets, then plan and write each scenario in one write turn."""
    from migrate.commands.apicheck import scenario_api
    from migrate.commands.progress import renderer
    from migrate.engine import run_sheet

    with (
        scenario_api(connections[0], prepared),
        renderer(quiet=net.quiet, progress=net.progress) as bar,
    ):
        return run_sheet(prepared, connections, rails, progress=bar)


@cli.command("retry")
@click.argument("run", metavar="RUN")
@click.option(
    "--all",
    "all_rows",
    is_flag=True,
    help="Also re-plan (fresh read, rules, validation) and retry conflicts and permanent failures.",
)
@rail_options
@account_option
@connection_options(writes=True, seeds=False)
@handles_errors
def retry_command(
    run: str, all_rows: bool, yes: bool, rails: ApplyOptions, net: NetOptions
) -> None:
    """Re-attempt the rows of RUN whose last outcome is a retryable failure.

    With --all, conflicts and permanent failures too: each is planned again from a fresh read
    before it is written. Says so, and exits at once, when there is nothing to retry.
    """
    from migrate.commands.apicheck import scenario_api
    from migrate.commands.confirm import confirm, need_confirmation
    from migrate.commands.connect import where
    from migrate.commands.hints import Hints
    from migrate.commands.progress import renderer
    from migrate.commands.retrying import nothing_to_retry, retry_preview, retry_question
    from migrate.engine import retry_run, run_status

    run_dir = _writable_run_dir(run)
    status = run_status(run_dir, times=False)
    nothing_to_retry(status, all_rows, Hints.of_run(net, status))
    need_confirmation(yes, "retry")
    net.precheck()
    run_dir, base_url = _reopen(net, run_dir)
    with net.connections(run_dir, new=False, base_url=base_url) as connections:
        if all_rows and not yes:
            # plan the conflicts and permanent failures again first, show that, then ask
            tally = _replan_then_write(net, run_dir, connections, rails)
        else:
            confirm(
                yes,
                retry_question(status, all_rows, where(connections)),
                retry_preview(run_dir, all_rows),
            )
            with (
                scenario_api(connections[0]),
                renderer(quiet=net.quiet, progress=net.progress) as bar,
            ):
                tally = retry_run(run_dir, connections, rails, all_rows=all_rows, progress=bar)
    again = ("--all",) if all_rows else ()
    _finish(net, tally, "retry", Hints.of(net, connections[0]), again=again)


def _replan_then_write(
    net: NetOptions,
    run_dir: Path,
    connections: Sequence[Connection],
    rails: ApplyOptions,
) -> Tally:
    """``retry --all`` on a terminal: re-plan (reads only), show the new plan, ask, write."""
    from migrate.commands.apicheck import scenario_api
    from migrate.commands.confirm import confirm
    from migrate.commands.connect import where
    from migrate.commands.progress import renderer
    from migrate.commands.retrying import replanned_preview, replanned_question
    from migrate.engine import replan_run, write_replanned_run

    with scenario_api(connections[0]), renderer(quiet=net.quiet, progress=net.progress) as bar:
        replanned = replan_run(run_dir, connections, progress=bar)
    if replanned.interrupted:
        return replanned
    confirm(False, replanned_question(run_dir, where(connections)), replanned_preview(run_dir))
    with scenario_api(connections[0]), renderer(quiet=net.quiet, progress=net.progress) as bar:
        return write_replanned_run(run_dir, connections, rails, progress=bar)


@cli.command("rollback")
@click.argument("run", metavar="RUN")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--max-failures",
    metavar="N|P%",
    help="Stop once more than N rows (or P%) could not be restored.",
)
@account_option
@connection_options(writes=True, seeds=False)
@handles_errors
def rollback_command(run: str, yes: bool, max_failures: str | None, net: NetOptions) -> None:
    """Restore the backed-up body of every row RUN updated.

    A row changed by someone else since is left alone (rollback_conflict).
    """
    from migrate.commands.apicheck import scenario_api
    from migrate.commands.confirm import confirm, need_confirmation
    from migrate.commands.connect import where
    from migrate.commands.hints import Hints
    from migrate.commands.progress import renderer
    from migrate.engine import rollback_run, run_status
    from migrate.vocabulary import RowState

    run_dir = _writable_run_dir(run)
    rails = _rails(None, max_failures, None)
    need_confirmation(yes, "rollback")
    net.precheck()
    count = run_status(run_dir, times=False).counts[RowState.UPDATED]
    run_dir, base_url = _reopen(net, run_dir)
    with net.connections(run_dir, new=False, base_url=base_url) as connections:
        confirm(yes, f"Restore {count} scenario(s) on {where(connections)}?")
        with (
            scenario_api(connections[0]),
            renderer(quiet=net.quiet, progress=net.progress) as bar,
        ):
            tally = rollback_run(run_dir, connections, rails, progress=bar)
    _finish(net, tally, "rollback", Hints.of(net, connections[0]))


@cli.command("status")
@click.argument("run", metavar="RUN", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON on stdout.")
@account_option
@handles_errors
def status_command(run: str | None, as_json: bool, only_account: str | None) -> None:
    """Tally of RUN from its journal (no network): outcomes, rules, writes, 429s.

    Without RUN, the runs under ./reports, newest first: id, sheet, phase, rows, started.
    The journal is only read: a run on a read-only disk can be inspected.
    """
    from migrate.commands.status import print_runs, print_status

    if run is None:
        print_runs(None, as_json=as_json)
    else:
        print_status(_run_dir(run), as_json=as_json, account=only_account)


@cli.command("show")
@click.argument("run", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON on stdout.")
@account_option
@handles_errors
def show_command(run: str, as_json: bool, only_account: str | None) -> None:
    """The changes of RUN in the terminal, per scenario: each field, before → after.

    Scenarios that change, and those that could not be planned or written (with why); the
    others are counted. From the journal alone: no network, nothing written.
    """
    from migrate.commands.show import console, print_run_changes, write_run_changes_json

    run_dir = _run_dir(run)
    if as_json:
        write_run_changes_json(run_dir, lambda text: click.echo(text, nl=False), only_account)
    else:
        print_run_changes(run_dir, console(), only_account)


# -- reports and inventory ---------------------------------------------------------------------


@cli.command("report")
@click.argument("run", metavar="RUN")
# the end of another command that handed its process over (commands/reportchild.py)
@click.option("--finish", "finish_code", type=int, hidden=True)
@click.option("--to-stderr", is_flag=True, hidden=True)
@click.option("--then-print", hidden=True)
@handles_errors
def report_command(
    run: str, finish_code: int | None, to_stderr: bool, then_print: str | None
) -> None:
    """(Re)write the reports of RUN from its journal (no network).

    Writes results.csv, changes.csv, failures.csv, report.xlsx and report.html into the run
    folder. failures.csv is the error file: one line per sheet row and scenario that did not end
    well (failed, conflict, not found, invalid, rollback conflict), the sheet row's cells first,
    then outcome, http_status and error. It is a sheet: `ivr-migrate run failures.csv` re-plans
    exactly those rows. A rollback-conflict line re-applies its rule when run, it does not undo
    it (its outcome cell says so): delete it unless the change should stay.
    """
    from migrate.engine.runfolder import check_writable
    from migrate.errors import ConfigError
    from migrate.reports import write_run_reports

    if finish_code is not None:
        from migrate.commands.finish import finish_reports

        finish_reports(Path(run), finish_code, to_stderr=to_stderr, then_print=then_print)
    run_dir = _run_dir(run)
    try:
        check_writable(run_dir, min_free=0)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc}: its reports cannot be rewritten there (status and show still read it); "
            "copy the folder to a writable disk and run report on the copy"
        ) from None
    files, summary = write_run_reports(run_dir)
    click.echo(summary.tally())
    for path in files.all():
        click.echo(f"  {path}")


@cli.command("inventory")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the files [default: reports/inventory-<date>-<time>].",
)
@connection_options(writes=False, seeds=True)
@handles_errors
def inventory_command(out: Path | None, net: NetOptions) -> None:
    """List every scenario of the account and what it holds (GET only).

    Prints the senders, hosts, audio URLs, numbers and voices found, with how many scenarios
    use each. Writes inventory.xlsx and inventory.csv (one row per scenario), one table per kind
    of value with the scenarios using each, and starter-rules.csv: one row per sender and host,
    to fill in and feed to plan.
    """
    from migrate.commands.inventory import inventory_command as take_inventory

    take_inventory(net, out)


def main() -> None:
    """Console-script entry point."""
    from migrate.commands.reportchild import HAND_OVER

    HAND_OVER[0] = True
    cli(prog_name="ivr-migrate")
