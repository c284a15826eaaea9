"""Many accounts in one run: the accounts file, and plan and apply over two sandbox accounts
that each count a strict write window, at once, in one journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_engine_support import FAST_READS, FAST_RETRY, NO_SIGNALS, write_sheet

from migrate.accounts import find_accounts_file, read_accounts
from migrate.config import Rate
from migrate.engine import Connection, apply_run, plan_run, prepare_run
from migrate.errors import ConfigError, SheetError
from migrate.journal import JOURNAL_FILE, Journal
from migrate.sandbox import RunningSandbox, SandboxConfig
from migrate.sandbox.accounts import start_accounts_sandbox
from migrate.sheet import check_accounts, read_sheet
from migrate.vocabulary import RowState

WINDOW = Rate(4, 1.0)
ACCOUNTS = ("eu", "us")


# -- the accounts file ------------------------------------------------------------------------


def accounts_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ivr-migrate.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
[accounts.eu]
base_url = "https://EU.api.infobip.example/"
api_key_env = "EU_KEY"
write_rate = "6/min"

[accounts.us]
base_url = "https://us.api.infobip.example"
username_env = "US_USER"
password_env = "US_PASSWORD"
"""


def test_an_accounts_file_names_each_account_and_where_its_credential_is(tmp_path: Path) -> None:
    env = {"EU_KEY": "eu-secret-key", "US_USER": "ops", "US_PASSWORD": "us-secret-pw"}
    accounts = read_accounts(accounts_file(tmp_path, GOOD), env)
    assert list(accounts) == ["eu", "us"]
    eu, us = accounts["eu"].credentials, accounts["us"].credentials
    assert eu is not None and eu.authorization() == "App eu-secret-key"
    assert us is not None and us.scheme == "Basic"
    assert accounts["eu"].write_rate == Rate(6, 60)
    assert "secret" not in repr(accounts)
    assert find_accounts_file(None, tmp_path) == tmp_path / "ivr-migrate.toml"
    assert find_accounts_file(None, tmp_path / "elsewhere") is None


EU = '[accounts.eu]\nbase_url = "https://x.example"\n'
KEY = 'api_key_env = "EU_KEY"\n'


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (EU + 'api_key = "abc123"\n', "would hold a secret"),
        (EU + 'password = "pw"\n', "would hold a secret"),
        (EU + 'api_key_env = "NOT_SET_ANYWHERE"\n', "NOT_SET_ANYWHERE is not set"),
        (EU + KEY + 'colour = "red"\n', "unknown key 'colour'"),
        (EU + KEY + "[accounts.eu]\n", "not valid TOML"),
        ('[accounts.eu]\nbase_url = "ftp://x.example"\n' + KEY, "account 'eu'"),
        (EU + KEY + 'write_rate = "fast"\n', "cannot read rate"),
        (EU + 'api_key_env = "the key itself!"\n', "NAME of an environment variable"),
        (EU, "name the variable"),
        ("", "no [accounts.NAME] table"),
    ],
    ids=["key-in-file", "password-in-file", "missing-variable", "unknown-key", "duplicate-name",
         "bad-url", "bad-rate", "value-as-variable", "no-credential", "empty"],
)  # fmt: skip
def test_a_bad_accounts_file_is_one_line_naming_the_account_and_the_fix(
    tmp_path: Path, text: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        read_accounts(accounts_file(tmp_path, text), {"EU_KEY": "k"})
    message = str(caught.value)
    assert words in message and "\n" not in message
    assert "abc123" not in message and "pw" not in message.split(":")[-1]


def test_the_sheet_names_accounts_of_the_file(tmp_path: Path) -> None:
    both = write_sheet(
        tmp_path / "both.csv",
        [
            {"account": "eu", "scenario_id": "*", "rule": "rename", "name": "{name} 2"},
            {"account": "uss", "scenario_id": "*", "rule": "rename", "name": "{name} 3"},
        ],
    )
    rows = read_sheet(both)
    with pytest.raises(SheetError) as caught:
        check_accounts(rows, {"eu", "us"}, str(both))
    assert "row 3" in str(caught.value) and "did you mean 'us'" in str(caught.value)
    plain = read_sheet(
        write_sheet(tmp_path / "plain.csv", [{"scenario_id": "*", "rule": "rename", "name": "x"}])
    )
    check_accounts(plain, {"eu"}, "plain.csv")  # one account: every row is its
    with pytest.raises(SheetError, match="add an account column"):
        check_accounts(plain, {"eu", "us"}, "plain.csv")
    with pytest.raises(SheetError, match="no accounts file was given"):
        check_accounts(rows, set(), str(both))


# -- two accounts, one run --------------------------------------------------------------------


def connection(running: RunningSandbox, name: str, **overrides: Any) -> Connection:
    endpoint = running.endpoint(name)
    values: dict[str, Any] = {
        "read_rate": FAST_READS,
        "write_rate": WINDOW,
        "concurrency": 4,
        "timeout": 3.0,
        "retry": FAST_RETRY,
        "account": name,
    }
    values.update(overrides)
    return Connection(endpoint.base_url, endpoint.credentials, **values)


def two_account_plan(tmp_path: Path, running: RunningSandbox) -> Path:
    rows = [
        {"account": name, "scenario_id": "*", "rule": "rename", "description": f"({name})"}
        for name in ACCOUNTS
    ]
    prepared = prepare_run(write_sheet(tmp_path / "sheet.csv", rows), out=tmp_path / "run")
    tally = plan_run(
        prepared, [connection(running, name) for name in ACCOUNTS], handle_signals=False
    )
    assert tally.counts[RowState.PLANNED] == 14, tally.as_json()
    assert {name: part.planned for name, part in tally.accounts.items()} == {"eu": 7, "us": 7}
    # each account writes within its own window, at once: the slowest account sets the ETA
    assert tally.eta_seconds == pytest.approx(7 * WINDOW.interval)
    return prepared.run_dir


def test_two_accounts_are_written_at_once_each_within_its_own_window(tmp_path: Path) -> None:
    with start_accounts_sandbox(ACCOUNTS, SandboxConfig(write_rate=WINDOW)) as running:
        run_dir = two_account_plan(tmp_path, running)
        tally = apply_run(run_dir, [connection(running, n) for n in ACCOUNTS], NO_SIGNALS)

        assert tally.ok and tally.counts[RowState.UPDATED] == 14, tally.as_json()
        log = running.request_log()
        assert [entry for entry in log if entry.status == 429] == []
        puts = {
            name: sorted(e.time for e in log if e.method == "PUT" and e.account == name)
            for name in ACCOUNTS
        }
        assert all(len(times) == 7 for times in puts.values())
        # the two accounts' writes overlap in time: neither waited for the other
        assert puts["eu"][0] < puts["us"][-1] and puts["us"][0] < puts["eu"][-1]
        for name in ACCOUNTS:
            assert set(running.put_counts(name).values()) == {1}
        with Journal.open(run_dir / JOURNAL_FILE) as journal:
            assert {row.account for row in journal.rows(bodies=False)} == set(ACCOUNTS)
            assert journal.counts("eu")[RowState.UPDATED] == 7


def test_one_account_refusing_its_key_fails_its_rows_only(tmp_path: Path) -> None:
    with start_accounts_sandbox(ACCOUNTS, SandboxConfig(write_rate=WINDOW)) as running:
        run_dir = two_account_plan(tmp_path, running)
        eu = connection(running, "eu")
        us = connection(running, "us")
        from migrate.config import Credentials

        revoked = Connection(
            us.base_url, Credentials.api_key("revoked-key"), read_rate=FAST_READS,
            write_rate=WINDOW, concurrency=4, timeout=3.0, retry=FAST_RETRY, account="us",
        )  # fmt: skip
        tally = apply_run(run_dir, [eu, revoked], NO_SIGNALS)

        assert tally.accounts["eu"].counts[RowState.UPDATED] == 7
        assert tally.accounts["us"].stopped is not None
        assert "refused the credentials" in tally.accounts["us"].stopped
        assert tally.stopped is not None and tally.stopped.startswith("us: ")
        assert running.put_counts("us") == {}
        assert not tally.ok or tally.counts[RowState.PLANNED] == 7
