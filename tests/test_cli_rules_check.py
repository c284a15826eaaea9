"""``ivr-migrate rules`` and ``ivr-migrate check``: offline commands over catalogue and sheets."""

from __future__ import annotations

import csv
import inspect
import io
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook  # type: ignore[import-untyped]
from test_cli_engine import NO_ENV

from migrate.catalogue_text import TYPE_HELP, plain
from migrate.cli import cli
from migrate.plugins import rule_catalogue
from transforms.rules.base import PARAM_TYPES

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "migrate" / "examples" / "demo-sheet.csv"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_rules_lists_every_rule_with_its_summary_params_and_example(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules"])
    assert result.exit_code == 0, result.output
    for rule in rule_catalogue().values():
        assert f"{rule.name}: {rule.summary}" in result.stdout
        for param in rule.params:
            assert f"{param.name} ({param.type}, " in result.stdout
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerows([list(rule.example_row()), list(rule.example_row().values())])
        header, values = out.getvalue().splitlines()
        assert f"    {header}\n    {values}\n" in result.stdout


def test_rules_name_prints_the_whole_docstring_and_every_parameter(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "sms-sender"])
    assert result.exit_code == 0, result.output
    rule = rule_catalogue()["sms-sender"]
    assert plain(inspect.cleandoc(rule.doc)) in result.stdout
    assert "Every sendSms at any depth gets 'new' as its 'from'" in result.stdout
    for param in rule.params:
        assert param.help in result.stdout
        assert f"example: {param.example}" in result.stdout
    assert "scenario_id,rule,new,old\n  *,sms-sender,NewBrand,OldBrand" in result.stdout


@pytest.mark.parametrize("name", sorted(rule_catalogue()))
def test_every_rule_renders_in_full(runner: CliRunner, name: str) -> None:
    result = runner.invoke(cli, ["rules", name])
    assert result.exit_code == 0, result.output
    assert plain(inspect.cleandoc(rule_catalogue()[name].doc)) in result.stdout
    # plain text, not reStructuredText: no ``literal`` and no :role:`target`
    assert "``" not in result.stdout and not re.search(r":[a-z]+:`", result.stdout)


def test_docstring_markup_becomes_plain_text() -> None:
    assert plain("gets ``new`` as its ``from``") == "gets 'new' as its 'from'"
    assert plain("through :func:`transforms.model.walk`.") == "through walk."
    assert plain("a :class:`~migrate.errors.SheetError`") == "a SheetError"


def test_rules_lists_an_installed_plugin_rule(
    runner: CliRunner, rule_plugin: Callable[[str, str, dict[str, str]], None]
) -> None:
    rule_plugin(
        "ivr_migrate_hello",
        "from transforms.rules.base import Rule\n\n"
        "HELLO = Rule('hello', lambda scenario, params: [], (), 'Say hello.\\n\\nDoes nothing.')\n",
        {"hello": "ivr_migrate_hello:HELLO"},
    )
    result = runner.invoke(cli, ["rules"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("11 rules.")
    assert "hello: Say hello.\n  parameters: none\n" in result.stdout
    assert runner.invoke(cli, ["rules", "hello"]).stdout.startswith("hello\n\nSay hello.")


def test_rules_shows_choices_and_ranges(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "voice"])
    assert "one of: female, male, FEMALE, MALE" in result.stdout
    assert "from 0.5 to 2" in result.stdout
    assert "Needs at least one of: language, voice, gender, speech-rate." in result.stdout


def test_every_parameter_type_is_explained() -> None:
    assert set(TYPE_HELP) == set(PARAM_TYPES)


def test_rules_unknown_name_suggests(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "sms-sendr"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: unknown rule 'sms-sendr': did you mean 'sms-sender'? "
        "(ivr-migrate rules lists them)\n"
    )


def test_rules_unknown_name_without_a_close_match_lists_the_rules(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "nope"])
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"error: unknown rule 'nope': the rules are {', '.join(rule_catalogue())}\n"
    )


def test_check_demo_sheet_prints_a_summary() -> None:
    result = CliRunner(env=NO_ENV).invoke(cli, ["check", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{DEMO}: 5 rows, no problems found",
        "  targets: 2 scenario ids, 2 selectors (*, name:Order status*) matched when planning",
        "  rows per rule: sms-sender 3, url 1, sms-text 1",
        f"Nothing was sent. To see what would change: ivr-migrate plan {DEMO}",
        "No credentials here: set INFOBIP_API_KEY first, or try the sheet on the embedded "
        f"sandbox: ivr-migrate plan {DEMO} --sandbox",
    ]
    assert result.stderr == ""


def test_check_bad_sheet_prints_every_problem_and_exits_2(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.csv").write_text(
        "scenario_id,rule,new,old\n"
        "*,sms-sendr,NewBrand,\n"
        "0B0458310896E39079FC9CFC65BF413,sms-sender,NewBrand,\n"
        "*,sms-sender,,OldBrand\n"
    )
    result = runner.invoke(cli, ["check", "bad.csv"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: bad.csv, row 2, column 'rule': unknown rule 'sms-sendr': did you mean "
        "'sms-sender'?",
        "error: bad.csv, row 3, column 'scenario_id': '0B0458310896E39079FC9CFC65BF413' is not a "
        "scenario id: ids are 32 hexadecimal characters (this one has 31), e.g. "
        "0B0458310896E39079FC9CFC65BF4138; or write * for every scenario or name:GLOB",
        "error: bad.csv, row 4, column 'new': rule sms-sender needs a value in column 'new' "
        "(the new SMS sender id)",
        "3 problems found; nothing was sent.",
    ]


def test_check_refuses_a_url_rule_that_writes_no_url(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("urls.csv").write_text("scenario_id,rule,find,replace\n*,url,https://,not a url\n")
    result = runner.invoke(cli, ["check", "urls.csv"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: urls.csv, row 2, column 'replace': find 'https://' is a URL scheme, so replace "
        "must be one too, followed by the start of a literal host if any (e.g. https://eu-), "
        "not 'not a url'\n"
    )


def test_check_missing_file_is_one_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["check", "missing.csv"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: missing.csv: no such file: check the path\n"


def test_check_xlsx_named_sheet(runner: CliRunner, tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active.title = "Notes"
    rules = workbook.create_sheet("Rules")
    rules.append(["scenario_id", "rule", "new"])
    rules.append(["*", "sms-sender", "NewBrand"])
    workbook.save(tmp_path / "rules.xlsx")
    path = str(tmp_path / "rules.xlsx")
    result = runner.invoke(cli, ["check", path, "--sheet", "Rules"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: 1 row, no problems found\n")
    wrong = runner.invoke(cli, ["check", path, "--sheet", "Rulez"])
    assert wrong.exit_code == 2
    assert (
        wrong.stderr
        == f"error: {path}: has no sheet named 'Rulez': its sheets are 'Notes', 'Rules'\n"
    )


def test_help_lists_check_and_rules(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    assert "check" in result.stdout and "rules" in result.stdout
    for command in ("check", "rules"):
        assert runner.invoke(cli, [command, "--help"]).exit_code == 0


def test_importing_the_cli_does_not_import_pandas_or_openpyxl() -> None:
    code = (
        "import migrate.cli, sys; "
        "loaded = [m for m in ('pandas', 'openpyxl') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_checking_a_csv_sheet_does_not_import_pandas_or_openpyxl() -> None:
    code = (
        "import sys; from migrate.sheet import read_sheet; "
        f"read_sheet({str(DEMO)!r}); "
        "loaded = [m for m in ('pandas', 'openpyxl') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
