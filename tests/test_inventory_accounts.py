"""The inventory of several accounts (issue 14.7): taken at once, written into one folder with
an account column, and one starter sheet whose rows ``plan`` reads with their accounts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from test_inventory import SCENARIO, SEED_HOSTS, SEED_SENDERS, seed_scenarios

from migrate.accounts import AccountSpec
from migrate.config import Credentials, Rate
from migrate.errors import ConfigError, SheetError
from migrate.inventory import HOSTS, SENDERS, Inventory, build_inventory, inventory_accounts
from migrate.reports.inventory_tables import (
    INVENTORY_CSV,
    INVENTORY_XLSX,
    STARTER_CSV,
    USES_CSV,
    table_csv,
    write_inventories,
    write_inventory,
)
from migrate.sandbox import SandboxConfig
from migrate.sandbox.accounts import start_accounts_sandbox
from migrate.sheet import check_accounts, read_sheet

FAST_READS = Rate(2000, 1.0)


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture
def inventories() -> dict[str, Inventory]:
    return {"eu": build_inventory(seed_scenarios()), "us": build_inventory([SCENARIO])}


def test_the_tables_of_several_accounts_share_one_folder_with_an_account_column(
    tmp_path: Path, inventories: dict[str, Inventory]
) -> None:
    paths = write_inventories(tmp_path, inventories)
    assert sorted(p.name for p in paths) == sorted(
        p.name for p in write_inventory(tmp_path / "one", inventories["eu"])
    )
    scenarios = read_csv(tmp_path / INVENTORY_CSV)
    assert list(scenarios.columns[:3]) == ["account", "id", "name"]
    assert list(scenarios["account"]) == ["eu"] * 7 + ["us"]
    assert list(scenarios["id"]) == [e.id for inv in inventories.values() for e in inv.scenarios]
    # a kind only one account uses is a column of both, counted 0 where it is absent
    assert "capture" not in inventories["us"].kinds_present()
    assert scenarios["capture"].iloc[-1] == "0"
    senders = read_csv(tmp_path / table_csv(SENDERS))
    assert list(senders.columns[:2]) == ["account", "value"]
    assert set(zip(senders["account"], senders["value"], strict=True)) == {
        (name, value) for name, inv in inventories.items() for value in inv.values(SENDERS)
    }
    uses = read_csv(tmp_path / USES_CSV)
    assert list(uses["account"]) == [name for name, inv in inventories.items() for _ in inv.uses]
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    summary = list(load_workbook(tmp_path / INVENTORY_XLSX)["summary"].iter_rows(values_only=True))
    counts = [row[0] for row in summary].index("Counts")
    assert summary[counts + 1][:3] == ("figure", "eu", "us")
    assert summary[counts + 2][:3] == ("scenarios", 7, 1)


def test_one_starter_sheet_whose_rows_plan_reads_with_their_accounts(
    tmp_path: Path, inventories: dict[str, Inventory]
) -> None:
    write_inventories(tmp_path, inventories)
    starter = read_csv(tmp_path / STARTER_CSV)
    assert list(starter.columns[:4]) == ["#todo", "account", "scenario_id", "rule"]
    # as written no row can run, each refused on its own line
    with pytest.raises(SheetError) as refused:
        read_sheet(tmp_path / STARTER_CSV)
    assert refused.value.total == len(starter)
    filled = starter.copy()
    filled.loc[filled["rule"] == "sms-sender", "new"] = "NewBrand"
    filled.loc[filled["rule"] == "url", "replace"] = "https://new.example"
    filled.to_csv(tmp_path / "filled.csv", index=False, encoding="utf-8-sig")
    rows = read_sheet(tmp_path / "filled.csv")
    check_accounts(rows, {"eu", "us"}, "filled.csv")
    us_hosts = {"https://hooks.example.com", "http://127.0.0.1:8080"}
    assert {(r.account, r.rule, r.cells.get("old") or r.cells["find"]) for r in rows} == {
        *(("eu", "sms-sender", value) for value in SEED_SENDERS),
        *(("eu", "url", value) for value in SEED_HOSTS),
        ("us", "sms-sender", "OldBrand"),
        *(("us", "url", value) for value in us_hosts),
    }
    with pytest.raises(SheetError):
        check_accounts(rows, {"eu"}, "filled.csv")


def test_one_accounts_inventory_is_written_as_before(
    tmp_path: Path, inventories: dict[str, Inventory]
) -> None:
    before = write_inventory(tmp_path / "before", inventories["us"])
    after = write_inventories(tmp_path / "after", {"us": inventories["us"]})
    for old, new in zip(before, after, strict=True):
        if old.suffix == ".csv":
            assert new.read_bytes() == old.read_bytes(), old.name


def test_inventory_accounts_reads_each_account_of_the_sandbox() -> None:
    config = SandboxConfig(write_rate=None, read_rate=Rate(500, 1.0))
    with start_accounts_sandbox(["eu", "us"], config) as sandbox:
        only_us = {"name": "US only", "script": [{"sendSms": {"from": "OnlyUS", "to": "1"}}]}
        sandbox.add_scenario(only_us, account="us")
        accounts = [
            AccountSpec(name, sandbox.base_url, sandbox.credentials(name)) for name in ("eu", "us")
        ]
        seen: list[tuple[str, int]] = []
        found = inventory_accounts(
            accounts, read_rate=FAST_READS, progress=lambda name, n: seen.append((name, n))
        )
        stored = {name: sandbox.scenario_count(account=name) for name in ("eu", "us")}
    assert list(found) == ["eu", "us"]
    assert {name: len(inv.scenarios) for name, inv in found.items()} == stored == {"eu": 7, "us": 8}
    assert set(found["eu"].values(SENDERS)) == SEED_SENDERS
    assert set(found["us"].values(SENDERS)) == SEED_SENDERS | {"OnlyUS"}
    assert set(found["us"].values(HOSTS)) == SEED_HOSTS
    assert [n for name, n in seen if name == "us"] == list(range(1, 9))


def test_refused_credentials_name_the_account() -> None:
    config = SandboxConfig(write_rate=None, read_rate=Rate(500, 1.0))
    with start_accounts_sandbox(["eu"], config) as sandbox:
        accounts = [
            AccountSpec("eu", sandbox.base_url, sandbox.credentials("eu")),
            AccountSpec("us", sandbox.base_url, Credentials.api_key("not-a-key-of-this-sandbox")),
        ]
        with pytest.raises(ConfigError) as refused:
            inventory_accounts(accounts, read_rate=FAST_READS)
    assert str(refused.value).startswith(
        f"account 'us': {sandbox.base_url} refused its credentials"
    )
    assert "not-a-key" not in str(refused.value)
