"""Many accounts in one run, through the command line: the accounts file, the account column,
one journal and one report for both, per-account narrowing, and no credential anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_engine_support import write_sheet

from migrate.cli import cli
from migrate.config import Rate
from migrate.sandbox import RunningSandbox, SandboxConfig
from migrate.sandbox.accounts import start_accounts_sandbox

ACCOUNTS = ("eu", "us")
WINDOW = Rate(4, 1.0)
FAST = ["--write-rate", "4/1s", "--read-rate", "2000/1s", "--timeout", "3", "--no-progress"]
NO_ENV: dict[str, str | None] = {
    name: None
    for name in (
        "INFOBIP_API_KEY",
        "INFOBIP_TOKEN",
        "INFOBIP_IBSSO_TOKEN",
        "INFOBIP_USERNAME",
        "INFOBIP_PASSWORD",
        "INFOBIP_BASE_URL",
    )
}


@pytest.fixture
def running() -> Iterator[RunningSandbox]:
    with start_accounts_sandbox(ACCOUNTS, SandboxConfig(write_rate=WINDOW)) as served:
        yield served


def accounts_toml(path: Path, running: RunningSandbox) -> Path:
    lines = []
    for name in ACCOUNTS:
        lines += [
            f"[accounts.{name}]",
            f'base_url = "{running.base_url}"',
            f'api_key_env = "{name.upper()}_KEY"',
            'write_rate = "4/1s"',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def keys(running: RunningSandbox) -> dict[str, str]:
    return {
        f"{name.upper()}_KEY": running.endpoint(name).env()["INFOBIP_API_KEY"] for name in ACCOUNTS
    }


def invoke(running: RunningSandbox, *args: str) -> Result:
    env = {**NO_ENV, **keys(running)}
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def sheet_for_both(tmp_path: Path) -> Path:
    rows = [
        {"account": name, "scenario_id": "*", "rule": "rename", "description": f"({name})"}
        for name in ACCOUNTS
    ]
    return write_sheet(tmp_path / "both.csv", rows)


def test_one_sheet_two_accounts_one_run_one_report(running: RunningSandbox, tmp_path: Path) -> None:
    file = accounts_toml(tmp_path / "accounts.toml", running)
    run_dir = tmp_path / "run"
    checked = invoke(running, "check", str(sheet_for_both(tmp_path)), "--accounts", str(file))
    assert checked.exit_code == 0, checked.output
    result = invoke(
        running, "run", str(sheet_for_both(tmp_path)), "--yes", "--accounts", str(file),
        "--out", str(run_dir), "--json", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    tally = json.loads(result.stdout)
    assert tally["counts"]["updated"] == 14
    assert {name: part["counts"]["updated"] for name, part in tally["accounts"].items()} == {
        "eu": 7,
        "us": 7,
    }
    log = running.request_log()
    assert [entry for entry in log if entry.status == 429] == []
    for name in ACCOUNTS:
        assert set(running.put_counts(name).values()) == {1}
    results = (run_dir / "results.csv").read_text(encoding="utf-8-sig")
    assert results.splitlines()[0].startswith("account,")
    assert sum(line.startswith("eu,") for line in results.splitlines()) == 7

    shown = invoke(running, "show", str(run_dir), "--account", "us", "--json")
    assert shown.exit_code == 0, shown.output
    assert {row["account"] for row in json.loads(shown.stdout)["scenarios"]} == {"us"}
    status = invoke(running, "status", str(run_dir), "--account", "eu", "--json")
    assert json.loads(status.stdout)["counts"]["updated"] == 7

    rolled = invoke(
        running, "rollback", str(run_dir), "--yes", "--accounts", str(file),
        "--account", "us", *FAST,
    )  # fmt: skip
    assert rolled.exit_code == 0, rolled.output
    again = json.loads(invoke(running, "status", str(run_dir), "--json").stdout)
    assert again["counts"]["rolled_back"] == 7 and again["counts"]["updated"] == 7

    secrets = list(keys(running).values())
    outputs = checked.output + result.output + shown.output + status.output + rolled.output
    for path in run_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(secret.encode() in data for secret in secrets), path
    assert not any(secret in outputs for secret in secrets)


def test_a_secret_in_the_accounts_file_is_refused_and_nothing_is_sent(
    running: RunningSandbox, tmp_path: Path
) -> None:
    file = tmp_path / "accounts.toml"
    file.write_text(
        f'[accounts.eu]\nbase_url = "{running.base_url}"\napi_key = "the-real-key-123"\n',
        encoding="utf-8",
    )
    result = invoke(
        running, "plan", str(sheet_for_both(tmp_path)), "--accounts", str(file),
        "--out", str(tmp_path / "run"), "--read-rate", "2000/1s",
    )  # fmt: skip
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "would hold a secret" in lines[0]
    assert "the-real-key-123" not in result.output
    assert running.request_log() == []
    assert not (tmp_path / "run").exists()


def test_several_accounts_need_the_account_column(running: RunningSandbox, tmp_path: Path) -> None:
    file = accounts_toml(tmp_path / "accounts.toml", running)
    sheet = write_sheet(
        tmp_path / "plain.csv", [{"scenario_id": "*", "rule": "rename", "name": "x"}]
    )
    result = invoke(running, "check", str(sheet), "--accounts", str(file))
    assert result.exit_code == 2
    assert "add an account column" in result.stderr
    assert running.request_log() == []


def test_a_multi_account_rehearsal_on_the_embedded_sandbox(tmp_path: Path) -> None:
    file = tmp_path / "ivr-migrate.toml"
    file.write_text(
        "\n".join(
            f'[accounts.{name}]\nbase_url = "https://{name}.api.example"\n'
            f'api_key_env = "{name.upper()}_KEY_NOT_NEEDED"\n'
            for name in ACCOUNTS
        ),
        encoding="utf-8",
    )
    run_dir = tmp_path / "rehearsal"
    result = CliRunner(env=dict(NO_ENV)).invoke(
        cli,
        ["run", str(sheet_for_both(tmp_path)), "--sandbox", "--yes", "--accounts", str(file),
         "--out", str(run_dir), "--json", "--no-progress"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    tally = json.loads(result.stdout)
    assert set(tally["accounts"]) == set(ACCOUNTS)
    assert all(part["counts"]["updated"] == 7 for part in tally["accounts"].values())


def test_a_run_and_the_accounts_given_must_agree(running: RunningSandbox, tmp_path: Path) -> None:
    file = accounts_toml(tmp_path / "accounts.toml", running)
    run_dir = tmp_path / "run"
    planned = invoke(
        running, "plan", str(sheet_for_both(tmp_path)), "--accounts", str(file),
        "--out", str(run_dir), "--read-rate", "2000/1s",
    )  # fmt: skip
    assert planned.exit_code == 0, planned.output
    env = {**NO_ENV, **keys(running), "INFOBIP_API_KEY": keys(running)["EU_KEY"]}
    without = CliRunner(env=env).invoke(
        cli, ["apply", str(run_dir), "--yes", "--base-url", running.base_url, *FAST],
        catch_exceptions=False,
    )  # fmt: skip
    assert without.exit_code == 2
    assert "planned over the accounts eu, us: pass --accounts FILE" in without.stderr
    assert running.put_counts("eu") == {} and running.put_counts("us") == {}
