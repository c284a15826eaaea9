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
from click.exceptions import NoArgsIsHelpError

from migrate import __version__
from migrate.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, DEFAULT_WRITE_RATE

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


class OneLineUsageError(click.UsageError):
    """A click usage error shown as one line, like every other error (DESIGN §3: exit 2)."""

    def show(self, file: Any = None) -> None:
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


# -- the engine: plan, apply, run, retry, rollback, status -------------------------------------

#: ``--sandbox`` given without a folder: seed from the bundled examples.
BUNDLED_SEED = "<bundled>"


def connection_options(func: F) -> F:
    """Options of every command that talks to the API (DESIGN §3)."""
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
    for option in reversed(options):
        func = option(func)
    return func


def rail_options(func: F) -> F:
    """Safety rails of the commands that write."""
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
    for option in reversed(options):
        func = option(func)
    return func


class _Net:
    """The connection and output options of one invocation."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.base_url: str | None = options.pop("base_url")
        self.write_rate: str | None = options.pop("write_rate")
        self.read_rate: str | None = options.pop("read_rate")
        self.concurrency: int = options.pop("concurrency")
        self.timeout: float = options.pop("timeout")
        self.sandbox: str | None = options.pop("sandbox")
        self.as_json: bool = options.pop("as_json")
        self.quiet: bool = options.pop("quiet")
        self.progress: bool | None = options.pop("progress")

    @property
    def seed_dir(self) -> Path | None:
        return None if self.sandbox in (None, BUNDLED_SEED) else Path(str(self.sandbox))

    def say(self, text: str) -> None:
        """Human output: stdout, or stderr when stdout carries JSON."""
        click.echo(text, err=self.as_json)

    def renderer(self) -> Any:
        from migrate.engine.progress import PlainProgress, RichProgress

        if self.quiet or self.progress is False:
            return _NoProgress()
        if sys.stderr.isatty():
            return RichProgress()
        return PlainProgress()

    @contextmanager
    def connect(self, run_dir: Path, *, new: bool, base_url: str | None = None) -> Iterator[Any]:
        """A :class:`Connection` for this run; with --sandbox, the sandbox is serving meanwhile."""
        from migrate.config import DEFAULT_BASE_URL, DEFAULT_READ_RATE, Credentials, Rate
        from migrate.engine import Connection
        from migrate.engine.embedded import SANDBOX_READ_RATE, SANDBOX_WRITE_RATE, embedded_sandbox

        sandbox = self.sandbox is not None
        write_rate = Rate.parse(self.write_rate) if self.write_rate else None
        read_rate = Rate.parse(self.read_rate) if self.read_rate else None
        if not sandbox:
            credentials = Credentials.from_env()
            yield Connection(
                base_url or self.base_url or DEFAULT_BASE_URL,
                credentials,
                read_rate=read_rate or DEFAULT_READ_RATE,
                write_rate=write_rate or DEFAULT_WRITE_RATE,
                concurrency=self.concurrency,
                timeout=self.timeout,
            )
            return
        with embedded_sandbox(run_dir, self.seed_dir, new=new) as (url, key):
            yield Connection(
                url,
                Credentials.api_key(key),
                read_rate=read_rate or SANDBOX_READ_RATE,
                write_rate=write_rate or SANDBOX_WRITE_RATE,
                concurrency=self.concurrency,
                timeout=self.timeout,
                sandbox=True,
            )

    def precheck(self) -> None:
        """What can be checked before a run folder is made: rates, credentials, base URL."""
        from migrate.config import Credentials, Rate

        for text in (self.write_rate, self.read_rate):
            if text:
                Rate.parse(text)
        if self.sandbox is None:
            Credentials.from_env()
            if self.base_url is not None:
                # else a bad URL is found by the client, after plan made an empty run folder
                from migrate.client import check_base_url

                check_base_url(self.base_url)
        elif self.seed_dir is not None and not self.seed_dir.is_dir():
            from migrate.errors import ConfigError

            raise ConfigError(
                f"--sandbox {self.seed_dir}: not a folder of scenario JSON files (for the "
                "bundled examples, put --sandbox after the sheet or before another option)"
            )


class _NoProgress:
    def __call__(self, event: Any) -> None:
        return None

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _rails(canary: int | None, max_failures: str | None, limit: int | None) -> Any:
    from migrate.engine import ApplyOptions, FailureLimit

    return ApplyOptions(
        canary=canary,
        limit=limit,
        max_failures=FailureLimit.parse(max_failures) if max_failures else None,
    )


def _need_confirmation(yes: bool, action: str) -> None:
    """Without a terminal, writing needs --yes (checked before any request)."""
    if not yes and not sys.stdin.isatty():
        fail(f"{action} writes to the API: pass --yes to confirm without a terminal")


def _confirm(yes: bool, question: str) -> None:
    if yes:
        return
    if not click.confirm(question, default=False, err=True):
        click.echo("not confirmed: nothing was written", err=True)
        sys.exit(EXIT_ROWS_FAILED)


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


def _run_metadata(run_dir: Path) -> dict[str, str]:
    from migrate.engine import run_status

    return run_status(run_dir).metadata


def _eta(tally: Any, rate: Any) -> str:
    from migrate.engine.progress import duration

    return f"{tally.planned} write(s) at {rate}: about {duration(tally.eta_seconds or 0)}"


def _show_plan(net: _Net, tally: Any, rate: Any) -> None:
    net.say(f"plan: {tally.line()}")
    if tally.planned:
        net.say(_eta(tally, rate))


def _finish(
    net: _Net,
    tally: Any,
    command: str,
    extra: dict[str, Any] | None = None,
    *,
    quiet_tally: bool = False,
    reports: bool = True,
) -> None:
    """Write the reports, print the tally (and JSON), then exit with the code of DESIGN §3."""
    import json

    if not quiet_tally:
        net.say(tally.line())
    if tally.rate_limited:
        net.say(f"{tally.rate_limited} request(s) answered 429 (rate limited) and retried")
    run = tally.run_dir
    if tally.interrupted and command == "plan":
        net.say("interrupted: this plan is incomplete and cannot be applied; plan the sheet again")
    elif tally.interrupted:
        net.say(
            f"interrupted: the journal is consistent; continue with: ivr-migrate {command} {run}"
        )
    elif tally.stopped in ("canary", "limit"):
        left = tally.counts.get("planned", 0) + tally.counts.get("in_flight", 0)
        if left:
            net.say(
                f"{tally.stopped}: stopped after {sum(tally.this_run.values())} row(s); review "
                f"{run}, then continue with: ivr-migrate apply {run}"
            )
    elif tally.stopped:
        net.say(f"stopped: {tally.stopped}")
    if tally.counts.get("in_flight"):
        net.say(f"{tally.counts['in_flight']} row(s) in flight: run `ivr-migrate {command} {run}`")
    if reports:
        _write_reports(net, run)
    net.say(f"run folder: {run}")
    if net.as_json:
        data = tally.as_json()
        data.update(extra or {})
        click.echo(json.dumps(data, indent=2))
    if tally.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if tally.ok else EXIT_ROWS_FAILED)


def _write_reports(net: _Net, run: Path) -> None:
    """Rewrite the run's reports from its journal; a failure here never hides the tally.

    They are written by a child process (`ivr-migrate report RUN`): at 100,000 rows the report
    tables need about 200 MB, which must not add to the peak of a day-long run's own process.
    The child gets no credentials: it reads only the journal.
    """
    import os
    import subprocess

    from migrate.reports.write import REPORT_HTML

    env = {key: value for key, value in os.environ.items() if not key.startswith("INFOBIP_")}
    child = subprocess.run(
        [sys.executable, "-m", "migrate", "report", str(run)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if child.returncode != 0:
        why = (child.stderr.strip().splitlines() or ["no message"])[-1]
        net.say(f"warning: reports not written ({why}); retry with: ivr-migrate report {run}")
        return
    net.say(f"report: {run / REPORT_HTML}")


@cli.command("plan")
@click.argument("sheet_path", metavar="SHEET", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sheet", "sheet_name", metavar="NAME", help="Worksheet of an XLSX file.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder to create."
)
@connection_options
@handles_errors
def plan_command(
    sheet_path: Path, sheet_name: str | None, out: Path | None, **options: Any
) -> None:
    """Plan a sheet: read every target, apply the rules, validate; no write.

    Writes a run folder (journal, sheet copy) and prints counts and the ETA of the writes.
    Exits 0 when every target is planned or unchanged, 1 when some are invalid, missing or
    unreadable, 2 for a bad sheet or configuration.
    """
    from migrate.engine import plan_run, prepare_run

    net = _Net(options)
    net.precheck()
    prepared = prepare_run(sheet_path, sheet=sheet_name, out=out)
    with net.connect(prepared.run_dir, new=True) as connection, net.renderer() as progress:
        tally = plan_run(prepared, connection, progress=progress)
    _show_plan(net, tally, connection.write_rate)
    if tally.planned and not tally.interrupted:
        net.say(f"next: ivr-migrate apply {tally.run_dir}")
    _finish(net, tally, "plan", quiet_tally=True)


@cli.command("apply")
@click.argument("run", metavar="RUN")
@rail_options
@connection_options
@handles_errors
def apply_command(
    run: str,
    yes: bool,
    canary: int | None,
    max_failures: str | None,
    limit: int | None,
    **options: Any,
) -> None:
    """Apply a planned run (RUN: a run folder or a run id under reports/); resumes.

    Per row: re-read, refuse as conflict if it changed since the plan, store the pre-image and
    mark it in flight, PUT, verify. Running it again continues where it stopped.
    """
    from migrate.engine import apply_run, run_status

    net = _Net(options)
    run_dir = _writable_run_dir(run)
    rails = _rails(canary, max_failures, limit)
    _need_confirmation(yes, "apply")
    net.precheck()
    status = run_status(run_dir)
    todo = status.counts.get("planned", 0) + status.counts.get("in_flight", 0)
    base_url = status.metadata.get("base_url")
    with net.connect(run_dir, new=False, base_url=net.base_url or base_url) as connection:
        _confirm(yes, f"Write {todo} scenario(s) to {connection.base_url}?")
        with net.renderer() as progress:
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
    canary: int | None,
    max_failures: str | None,
    limit: int | None,
    **options: Any,
) -> None:
    """Plan a sheet, then apply it (asks for confirmation unless --yes)."""
    from migrate.engine import apply_run, plan_run, prepare_run

    net = _Net(options)
    rails = _rails(canary, max_failures, limit)
    _need_confirmation(yes, "run")
    net.precheck()
    prepared = prepare_run(sheet_path, sheet=sheet_name, out=out)
    with net.connect(prepared.run_dir, new=True) as connection:
        with net.renderer() as progress:
            planned = plan_run(prepared, connection, progress=progress)
        _show_plan(net, planned, connection.write_rate)
        if not yes and planned.planned and not planned.interrupted:
            # The operator reads the dry-run report before answering the question below.
            _write_reports(net, prepared.run_dir)
        if planned.interrupted or not planned.planned:
            if not planned.planned and not planned.interrupted:
                net.say("nothing to write")
            _finish(net, planned, "plan", quiet_tally=True)
        _confirm(yes, f"Write {planned.planned} scenario(s) to {connection.base_url}?")
        with net.renderer() as progress:
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
    run: str,
    all_rows: bool,
    yes: bool,
    canary: int | None,
    max_failures: str | None,
    limit: int | None,
    **options: Any,
) -> None:
    """Re-attempt the rows of RUN whose last outcome is a retryable failure."""
    from migrate.engine import retry_run

    net = _Net(options)
    run_dir = _writable_run_dir(run)
    rails = _rails(canary, max_failures, limit)
    _need_confirmation(yes, "retry")
    net.precheck()
    base_url = _run_metadata(run_dir).get("base_url")
    with net.connect(run_dir, new=False, base_url=net.base_url or base_url) as connection:
        _confirm(yes, f"Retry the failed rows of {run_dir} against {connection.base_url}?")
        with net.renderer() as progress:
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
def rollback_command(run: str, yes: bool, max_failures: str | None, **options: Any) -> None:
    """Restore the backed-up body of every row RUN updated.

    A row changed by someone else since is left alone (rollback_conflict).
    """
    from migrate.engine import rollback_run, run_status

    net = _Net(options)
    run_dir = _writable_run_dir(run)
    rails = _rails(None, max_failures, None)
    _need_confirmation(yes, "rollback")
    net.precheck()
    status = run_status(run_dir)
    base_url = status.metadata.get("base_url")
    with net.connect(run_dir, new=False, base_url=net.base_url or base_url) as connection:
        count = status.counts.get("updated", 0)
        _confirm(yes, f"Restore {count} scenario(s) on {connection.base_url}?")
        with net.renderer() as progress:
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

    status = run_status(_run_dir(run))
    # The same summary as the run's reports (report.xlsx, report.html).
    summary = summarise(report_data_from_run(status.run_dir), dry_run=status.phase == "plan")
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
def inventory_command(out: Path | None, **options: Any) -> None:
    """List every scenario of the account and what it holds (GET only).

    Writes inventory.xlsx and inventory.csv (one row per scenario), one table per kind of value
    (SMS senders, Call API hosts, audio URLs, numbers, Say voices) with the scenarios using
    each, and starter-rules.csv: one row per sender and host, to fill in and feed to plan.
    """
    import json
    import tempfile
    import time

    from migrate.config import DEFAULT_REPORTS_DIR
    from migrate.inventory import CATEGORIES, inventory_account, write_inventory
    from migrate.reports.inventory_tables import INVENTORY_XLSX, STARTER_CSV

    net = _Net(options)
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
    net.say(
        f"{len(inventory.scenarios)} scenarios, {actions} actions: "
        + ", ".join(f"{count} {category}" for category, count in distinct.items())
    )
    net.say(f"inventory: {folder / INVENTORY_XLSX} (and inventory*.csv)")
    net.say(
        f"starter sheet: {folder / STARTER_CSV}: fill in new values on the rows to change, "
        f"delete the others, then run: ivr-migrate plan {folder / STARTER_CSV}"
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
