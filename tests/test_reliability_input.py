"""Reliability: bad input through the command line exits 2, says so clearly, and sends nothing.

Every case runs the real CLI (click's test runner, in process) with credentials and the base URL
of a live sandbox in the environment, so that a request would be sent if the check let it
through; the sandbox's request log must stay empty. Each case asserts exit code 2, the number
of lines on stderr (one, or a sheet's problem lines plus the summary line), no traceback, and
the key phrase of the message.

The malformed sheets are the corpus of ``test_sheet_corpus.py`` (each with its exact messages),
here run through ``plan``; the configurations (rates, concurrency, timeout, base URL,
credentials, rails, run folders) are listed below.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_cli_engine import NO_ENV
from test_engine_support import sandbox
from test_sheet_corpus import CORPUS
from test_sheet_corpus import Case as SheetCase

from migrate.cli import cli
from migrate.sandbox import Account, RunningSandbox

KEY = "reliability-input-key"
GOOD_SHEET = "scenario_id,rule,description\n*,rename,{description} (input)\n"


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    with sandbox(accounts=(Account("acct", api_keys=(KEY,)),)) as served:
        yield served


@pytest.fixture(scope="module")
def planned_run(running: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run planned once for the module (the cases fail before they could touch it)."""
    folder = tmp_path_factory.mktemp("planned")
    (folder / "good.csv").write_text(GOOD_SHEET, encoding="utf-8")
    run_dir = folder / "run"
    planned = cli_invoke(
        "plan", str(folder / "good.csv"), "--out", str(run_dir), env=environment(running),
    )  # fmt: skip
    assert planned.exit_code == 0, planned.output
    return run_dir


@pytest.fixture
def world(
    running: RunningSandbox, planned_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """tmp_path as working directory, with a good sheet, a planned run and odd folders."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "planned").symlink_to(planned_run, target_is_directory=True)
    (tmp_path / "good.csv").write_text(GOOD_SHEET, encoding="utf-8")
    (tmp_path / "empty").mkdir()
    (tmp_path / "nonempty").mkdir()
    (tmp_path / "nonempty" / "notes.txt").write_text("someone's files")
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "journal.sqlite").write_bytes(os.urandom(8192))
    damaged(planned_run, tmp_path / "no-attempts", "DROP TABLE attempts")
    damaged(planned_run, tmp_path / "odd-state", "UPDATE rows SET state = 'frozen' WHERE id = 1")
    running.reset_log()
    yield tmp_path
    # the point of every case: nothing reached the API
    assert running.request_log() == []


def damaged(run_dir: Path, copy: Path, sql: str) -> None:
    """A copy of a planned run whose journal was damaged by ``sql``."""
    shutil.copytree(run_dir, copy)
    with sqlite3.connect(copy / "journal.sqlite") as db:
        db.execute(sql)
    db.close()


def cli_invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def environment(running: RunningSandbox, **changes: str | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        **NO_ENV,
        "INFOBIP_API_KEY": KEY,
        "INFOBIP_BASE_URL": running.base_url,
    }
    env.update(changes)
    return env


def error_lines(result: Result) -> list[str]:
    assert "Traceback" not in result.output
    assert result.exit_code == 2, result.output
    return [line for line in result.stderr.splitlines() if line.strip()]


# -- the malformed-sheet corpus, through `plan` ---------------------------------------------


WEBHOOK_PLUGIN = """
from transforms.rules.base import Param, Rule

WEBHOOK = Rule(
    "webhook",
    lambda scenario, params: [],
    (Param("endpoint", "url", True, "the new webhook URL", "https://hooks.example"),),
    "Test plugin: set a webhook URL.",
)
"""


@pytest.fixture
def webhook_plugin(rule_plugin: Callable[[str, str, dict[str, str]], None]) -> None:
    """The corpus's plugin rule with a URL parameter (its messages list it), installed for real."""
    rule_plugin("ivr_migrate_webhook", WEBHOOK_PLUGIN, {"webhook": "ivr_migrate_webhook:WEBHOOK"})


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
@pytest.mark.usefixtures("webhook_plugin")
def test_malformed_sheet_through_plan(
    case: SheetCase, world: Path, running: RunningSandbox
) -> None:
    case.write(world / case.file)
    args = ["plan", case.file, "--out", "run"]
    if case.sheet is not None:
        args += ["--sheet", case.sheet]
    lines = error_lines(cli_invoke(*args, env=environment(running)))
    expected = [f"error: {message}" for message in case.expected]
    if len(case.expected) > 1:
        expected.append(f"{len(case.expected)} problems found; nothing was sent.")
    assert lines == expected
    assert not (world / "run").exists()


# -- sheets too big, missing, unreadable ----------------------------------------------------


def test_one_million_rows_of_one_column(world: Path, running: RunningSandbox) -> None:
    with (world / "ids.csv").open("w") as handle:
        handle.write("scenario_id\n")
        handle.writelines(f"{i:032X}\n" for i in range(1_000_000))
    lines = error_lines(cli_invoke("plan", "ids.csv", env=environment(running)))
    assert len(lines) == 1
    assert "more than 200,000 rows" in lines[0]


@pytest.mark.parametrize(
    ("sheet", "phrase"),
    [("missing.csv", "no sheet at missing.csv"), ("empty", "is a directory")],
    ids=["path-does-not-exist", "a-directory"],
)
@pytest.mark.parametrize("command", ["check", "plan", "run"])
def test_sheet_path_that_is_not_a_file(
    world: Path, running: RunningSandbox, sheet: str, phrase: str, command: str
) -> None:
    extra = ["--yes"] if command == "run" else []
    lines = error_lines(cli_invoke(command, sheet, *extra, env=environment(running)))
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    assert sheet in lines[0]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("check", "secret.csv: cannot read the file (permission denied): check its permissions"),
        ("plan", "Invalid value for 'SHEET': File 'secret.csv' is not readable."),
    ],
)
def test_sheet_without_read_permission(
    world: Path, running: RunningSandbox, command: str, message: str
) -> None:
    """A sheet chmod 000. Root reads it anyway (CAP_DAC_OVERRIDE): as root, the CLI runs in a
    subprocess without that capability (``setpriv``), which is what an operator's account is."""
    sheet = world / "secret.csv"
    sheet.write_text(GOOD_SHEET)
    sheet.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: chmod 000 cannot stop root reading")
        prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFOBIP_")}
    env.update(INFOBIP_API_KEY=KEY, INFOBIP_BASE_URL=running.base_url)
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "migrate", command, "secret.csv"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    sheet.chmod(0o600)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), lines
    assert not (world / "reports").exists()


# -- configurations ----------------------------------------------------------------------------


@dataclass
class Bad:
    id: str
    args: list[str]
    phrase: str
    env: dict[str, str | None] = field(default_factory=dict)
    #: Text that must not appear anywhere in the output (a key in a URL, a header injection).
    hidden: str | None = None


RATE = "N/PERIOD, e.g. 6/min"
URL_FORM = "must be https://HOST"
NO_CREDENTIALS = "no credentials: set INFOBIP_API_KEY"
BASIC = "set both INFOBIP_USERNAME and INFOBIP_PASSWORD"
NO_RUN = "no run "
CORRUPT = "cannot open the journal corrupt/journal.sqlite: file is not a database"
NO_KEY: dict[str, str | None] = {"INFOBIP_API_KEY": None}
MISSING_TABLE = "is damaged: table attempts is missing; restore the run folder from a backup"
UNKNOWN_STATE = "is damaged: row 1 has the unknown state 'frozen'"

CONFIGURATIONS = [
    Bad("write-rate-zero", ["run", "good.csv", "--yes", "--write-rate", "0/min"], "at least 1"),
    Bad("write-rate-fortnight", ["run", "good.csv", "--yes", "--write-rate", "6/fortnight"], RATE),
    Bad("write-rate-abc", ["apply", "planned", "--yes", "--write-rate", "abc"], RATE),
    Bad("write-rate-on-plan", ["plan", "good.csv", "--write-rate", "6/min"], "No such option"),
    Bad("write-rate-empty-period", ["run", "good.csv", "--yes", "--write-rate", "6/"], RATE),
    Bad("read-rate-zero-period", ["plan", "good.csv", "--read-rate", "5/0s"], "positive period"),
    Bad("read-rate-negative", ["plan", "good.csv", "--read-rate", "-5/s"], "rate '-5/s'"),
    Bad("concurrency-0", ["plan", "good.csv", "--concurrency", "0"], "'--concurrency': 0 is"),
    Bad("concurrency--1", ["plan", "good.csv", "--concurrency", "-1"], "'--concurrency': -1 is"),
    Bad("concurrency-abc", ["plan", "good.csv", "--concurrency", "abc"], "not a valid integer"),
    Bad("timeout-0", ["plan", "good.csv", "--timeout", "0"], "'--timeout': 0.0 is not in"),
    Bad("timeout-negative", ["plan", "good.csv", "--timeout", "-1"], "'--timeout': -1.0 is not"),
    Bad("timeout-abc", ["plan", "good.csv", "--timeout", "abc"], "'--timeout': 'abc' is not"),
    Bad("base-url-ftp", ["plan", "good.csv", "--base-url", "ftp://example.com"], URL_FORM),
    Bad(
        "base-url-http-remote",
        ["plan", "good.csv", "--base-url", "http://api.example.com"],
        "http:// is only allowed for 127.0.0.1",
    ),
    Bad("base-url-garbage", ["plan", "good.csv", "--base-url", "not a url"], URL_FORM),
    Bad("base-url-no-host", ["plan", "good.csv", "--base-url", "https://"], URL_FORM),
    Bad(
        "base-url-env-remote-http",
        ["run", "good.csv", "--yes"],
        "http:// is only allowed",
        {"INFOBIP_BASE_URL": "http://10.1.2.3:8080"},
    ),
    Bad(
        "base-url-with-credentials",
        ["plan", "good.csv", "--base-url", "https://user:pw@api.example.com"],
        "must not carry credentials",
    ),
    Bad(
        "base-url-with-a-path",
        ["plan", "good.csv", "--base-url", "https://api.example.com/voice/ivr/1"],
        "must not have a path: give the account's base URL, https://api.example.com",
    ),
    Bad(
        "base-url-with-a-key-in-its-query",
        ["plan", "good.csv", "--base-url", "https://api.example.com/?apikey=Q-S3CR3T"],
        "must not have a query string or a fragment (not shown: it may hold a key)",
        hidden="Q-S3CR3T",
    ),
    Bad(
        "base-url-env-with-a-key-in-its-fragment",
        ["apply", "planned", "--yes"],
        "must not have a query string or a fragment",
        {"INFOBIP_BASE_URL": "https://api.example.com#F-S3CR3T"},
        hidden="F-S3CR3T",
    ),
    Bad(
        "base-url-without-scheme",
        ["plan", "good.csv", "--base-url", "xxxxx.api.infobip.com"],
        "'xxxxx.api.infobip.com' has no scheme: write https://xxxxx.api.infobip.com",
    ),
    Bad(
        "api-key-with-a-line-break",
        ["plan", "good.csv"],
        "INFOBIP_API_KEY holds a character an HTTP header cannot carry",
        {"INFOBIP_API_KEY": "KEY\nX-Evil: 1"},
        hidden="X-Evil",
    ),
    Bad(
        "api-key-with-a-line-break-apply",
        ["apply", "planned", "--yes"],
        "INFOBIP_API_KEY holds a character",
        {"INFOBIP_API_KEY": "KEY\r\nX-Evil: 1"},
        hidden="X-Evil",
    ),
    Bad(
        "token-with-a-tab-inventory",
        ["inventory", "--out", "inv"],
        "INFOBIP_TOKEN holds a character",
        {"INFOBIP_API_KEY": None, "INFOBIP_TOKEN": "abc\tdef"},
    ),
    Bad("out-is-dev-null", ["plan", "good.csv", "--out", "/dev/null"], "--out /dev/null is not a"),
    Bad("run-out-is-dev-null", ["run", "good.csv", "--yes", "--out", "/dev/null"], "/dev/null"),
    Bad("inventory-out-is-dev-null", ["inventory", "--out", "/dev/null"], "/dev/null is not a"),
    Bad("no-credentials-plan", ["plan", "good.csv"], NO_CREDENTIALS, NO_KEY),
    Bad("no-credentials-apply", ["apply", "planned", "--yes"], NO_CREDENTIALS, NO_KEY),
    Bad("no-credentials-inventory", ["inventory", "--out", "inv"], NO_CREDENTIALS, NO_KEY),
    Bad("empty-api-key", ["plan", "good.csv"], NO_CREDENTIALS, {"INFOBIP_API_KEY": ""}),
    Bad(
        "basic-username-only",
        ["plan", "good.csv"],
        BASIC,
        {"INFOBIP_API_KEY": None, "INFOBIP_USERNAME": "operator"},
    ),
    Bad(
        "basic-password-only",
        ["apply", "planned", "--yes"],
        BASIC,
        {"INFOBIP_API_KEY": None, "INFOBIP_PASSWORD": "pw"},
    ),
    Bad("max-failures-garbage", ["apply", "planned", "--yes", "--max-failures", "lots"], "lots"),
    Bad("max-failures-negative", ["apply", "planned", "--yes", "--max-failures", "-3"], "-3"),
    Bad("max-failures-percent", ["run", "good.csv", "--yes", "--max-failures", "150%"], "150%"),
    Bad("canary-negative", ["apply", "planned", "--yes", "--canary", "-1"], "'--canary': -1"),
    Bad("canary-zero", ["run", "good.csv", "--yes", "--canary", "0"], "'--canary': 0"),
    Bad("limit-zero", ["apply", "planned", "--yes", "--limit", "0"], "'--limit': 0"),
    Bad("apply-without-yes", ["apply", "planned"], "pass --yes to confirm"),
    Bad("run-without-yes", ["run", "good.csv"], "pass --yes to confirm"),
    Bad("rollback-without-yes", ["rollback", "planned"], "pass --yes to confirm"),
    Bad("apply-no-such-run", ["apply", "no-such-run", "--yes"], NO_RUN + "'no-such-run'"),
    Bad("apply-empty-folder", ["apply", "empty", "--yes"], NO_RUN + "'empty'"),
    Bad("apply-corrupt-journal", ["apply", "corrupt", "--yes"], CORRUPT),
    Bad("retry-corrupt-journal", ["retry", "corrupt", "--yes"], CORRUPT),
    Bad("rollback-no-such-run", ["rollback", "nope", "--yes"], NO_RUN + "'nope'"),
    Bad("status-empty-folder", ["status", "empty"], NO_RUN + "'empty'"),
    Bad("status-corrupt-journal", ["status", "corrupt"], CORRUPT),
    Bad("report-no-such-run", ["report", "nope"], NO_RUN + "'nope'"),
    Bad("report-corrupt-journal", ["report", "corrupt"], CORRUPT),
    Bad("apply-missing-table", ["apply", "no-attempts", "--yes"], MISSING_TABLE),
    Bad("status-missing-table", ["status", "no-attempts"], MISSING_TABLE),
    Bad("show-missing-table", ["show", "no-attempts"], MISSING_TABLE),
    Bad("report-missing-table", ["report", "no-attempts"], MISSING_TABLE),
    Bad("apply-unknown-state", ["apply", "odd-state", "--yes"], UNKNOWN_STATE),
    Bad("retry-unknown-state", ["retry", "odd-state", "--yes", "--all"], UNKNOWN_STATE),
    Bad("rollback-unknown-state", ["rollback", "odd-state", "--yes"], UNKNOWN_STATE),
    Bad("status-unknown-state", ["status", "odd-state", "--json"], UNKNOWN_STATE),
    Bad("show-unknown-state", ["show", "odd-state"], UNKNOWN_STATE),
    Bad("out-is-a-file", ["plan", "good.csv", "--out", "a-file"], "'a-file' is a file"),
    Bad("out-not-empty", ["plan", "good.csv", "--out", "nonempty"], "nonempty is not empty"),
    Bad("out-under-a-file", ["plan", "good.csv", "--out", "a-file/run"], "a-file/run"),
    Bad(
        "sandbox-seed-is-a-file",
        ["plan", "good.csv", "--sandbox", "--sandbox-seed", "a-file"],
        "--sandbox-seed a-file: not a folder",
    ),
    Bad("unknown-option", ["plan", "good.csv", "--bogus"], "No such option '--bogus'"),
    Bad("missing-argument", ["plan"], "Missing argument 'SHEET'"),
    Bad("unknown-command", ["aply", "planned"], "No such command 'aply'"),
    Bad("unknown-rule-in-rules", ["rules", "sms-sendr"], "unknown rule 'sms-sendr'"),
    Bad("csv-with-sheet-option", ["check", "good.csv", "--sheet", "Rules"], "has no sheet"),
]


@pytest.mark.parametrize("bad", CONFIGURATIONS, ids=[b.id for b in CONFIGURATIONS])
def test_bad_configuration(bad: Bad, world: Path, running: RunningSandbox) -> None:
    result = cli_invoke(*bad.args, env=environment(running, **bad.env))
    lines = error_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    assert bad.phrase in lines[0], lines
    assert result.stdout == ""
    if bad.hidden is not None:
        assert bad.hidden not in result.output
    # no run folder was left behind by a configuration refused at the start
    made = {p.name for p in world.iterdir()}
    assert made <= {*FOLDERS, "good.csv", "a-file", "planned"}, made


FOLDERS = {"empty", "nonempty", "corrupt", "no-attempts", "odd-state"}


def test_the_bad_input_suite_is_large() -> None:
    assert len(CORPUS) + len(CONFIGURATIONS) + 7 >= 40
