"""ivr-migrate inventory: the tables, the starter sheet, and an account on the sandbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from migrate.errors import SheetError
from migrate.inventory import (
    AUDIO,
    HOSTS,
    NUMBERS,
    SENDERS,
    VOICES,
    Inventory,
    build_inventory,
    take_inventory,
    url_host,
)
from migrate.reports.inventory_tables import MAX_LISTED, STARTER_CSV, table_csv, write_inventory
from migrate.reports.safety import is_formula_like
from migrate.sandbox import bundled_seed_dir
from migrate.sheet import read_sheet

SEED_SENDERS = {"Nordlicht", "AuroraBank", "4930123456", "SakuraWx"}
SEED_HOSTS = {
    "https://routing.example-telecom.hr",
    "https://orders.nordlicht-outdoor.example",
    "https://voicemail.kovac-partners.example",
    "https://surveys.telefonia-andina.example",
    "https://auth.aurora-bank.example",
}


def seed_scenarios() -> list[dict[str, Any]]:
    return [json.loads(p.read_text("utf-8")) for p in sorted(bundled_seed_dir().glob("*.json"))]


def json_values(node: Any, key: str) -> Iterator[Any]:
    """Every value stored under ``key`` anywhere in a JSON document (no script model)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from json_values(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from json_values(item, key)


def seed_expectation() -> tuple[set[str], set[str]]:
    """Senders and hosts of the seed data, found by a plain JSON scan."""
    senders, hosts = set(), set()
    for scenario in seed_scenarios():
        for sms in json_values(scenario, "sendSms"):
            senders.add(sms["from"])
        for url in json_values(scenario, "request"):
            scheme, rest = url.split("://", 1)
            hosts.add(f"{scheme}://{rest.split('/', 1)[0]}")
    return senders, hosts


def test_the_plain_scan_agrees_with_the_literal_lists() -> None:
    assert seed_expectation() == (SEED_SENDERS, SEED_HOSTS)


def test_seed_inventory_finds_every_sender_and_host() -> None:
    inventory = build_inventory(seed_scenarios())
    assert set(inventory.values(SENDERS)) == SEED_SENDERS
    assert set(inventory.values(HOSTS)) == SEED_HOSTS
    assert set(inventory.values(AUDIO)) == {
        "https://cdn.helios-solar.example/ivr/hold-music-30s.mp3",
        "https://media.sakura-weather.example/forecast/${forecastDate}/${city}.mp3",
    }
    assert set(inventory.values(NUMBERS)) == {
        "61290001111",
        "61290002222",
        "61390003333",
        "61412345678",
        "61290000000",
    }
    assert "ja / Mizuki / female" in inventory.values(VOICES)
    assert len(inventory.scenarios) == 7


SCENARIO: dict[str, Any] = {
    "id": "AB" * 16,
    "name": "=HYPERLINK(\"http://evil.example\")",
    "lastUsageDate": "2026-02-01",
    "notifyUrl": "https://hooks.example.com/ivr?x=1",
    "script": [
        {"dial": "+41793026727", "options": {
            "senderId": "41790000000",
            "customRingback": {"ringingAudio": {"type": "URL", "fileUrl": "https://cdn.example/r.mp3"},
                               "failedAudio": {"type": "FILE", "fileId": "abc"}}}},
        {"if": "${x == 1}", "then": [
            {"sendSms": {"from": "OldBrand", "to": "41791112233", "text": "hi"}},
            {"sendSms": {"from": "${brand}", "to": "${from}", "text": "hi"}},
            {"request": "https://${crmHost}/api", "options": {"method": "GET"}},
            {"request": "${baseUrl}/path", "options": {"method": "GET"}},
            {"request": "http://127.0.0.1:8080/x", "options": {"method": "GET"}},
        ], "else": [
            {"dialToMany": [{"number": "41790000001"}, {"numbers": "41790000002, 41790000003"}],
             "options": {"senderId": "41790000000"}},
        ]},
        {"say": "hello", "options": {"language": "en", "voice": {"name": "Joanna"}}},
        {"say": "plain"},
        "hangup",
    ],
}  # fmt: skip


def test_every_category_and_path() -> None:
    inventory = build_inventory([SCENARIO])
    assert inventory.values(SENDERS) == ["OldBrand", "${brand}"]
    assert inventory.tables[SENDERS]["${brand}"].literal is False
    assert inventory.values(HOSTS) == [
        "https://hooks.example.com",
        "https://${crmHost}",
        "${baseUrl}",
        "http://127.0.0.1:8080",
    ]
    assert inventory.values(AUDIO) == ["https://cdn.example/r.mp3"]
    assert inventory.values(NUMBERS) == [
        "+41793026727",
        "41790000000",
        "41791112233",
        "41790000001",
        "41790000002",
        "41790000003",
    ]
    sender_id = inventory.tables[NUMBERS]["41790000000"]
    assert sender_id.uses == 2 and sender_id.used_as == {"senderId": 2}
    assert inventory.values(VOICES) == ["en / Joanna / -"]
    paths = {(use.category, use.value): use.path for use in inventory.uses}
    assert paths[(SENDERS, "OldBrand")] == "script[1].if.then[0].sendSms.from"
    assert paths[(NUMBERS, "41790000001")] == "script[1].if.else[0].dialToMany[0].number"
    assert paths[(AUDIO, "https://cdn.example/r.mp3")] == (
        "script[0].options.customRingback.ringingAudio.fileUrl"
    )
    entry = inventory.scenarios[0]
    assert entry.kinds == {
        "dial": 1,
        "if": 1,
        "sendSms": 2,
        "request": 3,
        "dialToMany": 1,
        "say": 2,
        "hangup": 1,
    }
    assert entry.actions == 11 and entry.last_used == "2026-02-01"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://crm.example/${id}", "https://crm.example"),
        ("https://crm.example:8443?x=1", "https://crm.example:8443"),
        ("https://${host}/x", "https://${host}"),
        ("${base}/x", "${base}"),
        ("HTTP://Old.Example", "HTTP://Old.Example"),
    ],
)
def test_url_host(url: str, host: str) -> None:
    assert url_host(url) == host


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_written_files_and_tables(tmp_path: Path) -> None:
    inventory = build_inventory([*seed_scenarios(), SCENARIO])
    paths = write_inventory(tmp_path, inventory)
    assert sorted(p.name for p in paths) == sorted(
        [
            "inventory.csv",
            "inventory.xlsx",
            "inventory-uses.csv",
            STARTER_CSV,
            *(table_csv(c) for c in (SENDERS, HOSTS, AUDIO, NUMBERS, VOICES)),
        ]
    )
    scenarios = read_csv(tmp_path / "inventory.csv")
    assert list(scenarios.columns[:7]) == [
        "id",
        "name",
        "description",
        "last_used",
        "created",
        "last_updated",
        "actions",
    ]
    assert len(scenarios) == 8
    assert scenarios["name"].iloc[-1] == "'" + SCENARIO["name"]
    assert scenarios["sendSms"].iloc[-1] == "2"
    senders = read_csv(tmp_path / table_csv(SENDERS))
    assert set(senders["value"]) == SEED_SENDERS | {"OldBrand", "${brand}"}
    nordlicht = senders[senders["value"] == "Nordlicht"].iloc[0]
    assert (nordlicht["scenarios"], nordlicht["uses"]) == ("1", "1")
    assert nordlicht["scenario_names"] == "Order status lookup"
    assert nordlicht["example_path"] == "script[3].if.then[2].sendSms.from"
    numbers = read_csv(tmp_path / table_csv(NUMBERS))
    assert "+41793026727" in set(numbers["value"])  # E.164 kept as it is
    voices = read_csv(tmp_path / table_csv(VOICES))
    assert list(voices.columns[:4]) == ["value", "language", "voice", "gender"]
    uses = read_csv(tmp_path / "inventory-uses.csv")
    assert len(uses) == len(inventory.uses)
    for path in paths:
        if path.suffix == ".csv":
            for value in read_csv(path).to_numpy().ravel():
                assert not is_formula_like(value), (path.name, value)
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    book = load_workbook(tmp_path / "inventory.xlsx")
    assert book.sheetnames == [
        "summary",
        "scenarios",
        "senders",
        "hosts",
        "audio",
        "numbers",
        "voices",
        "uses",
        "starter-rules",
    ]
    assert book["senders"].freeze_panes == "A2"


def test_starter_rows_must_be_filled_in_before_plan_accepts_them(tmp_path: Path) -> None:
    inventory = build_inventory(seed_scenarios())
    write_inventory(tmp_path, inventory)
    starter = tmp_path / STARTER_CSV
    frame = read_csv(starter)
    assert list(frame.columns) == [
        "#todo",
        "scenario_id",
        "rule",
        "old",
        "new",
        "find",
        "replace",
        "note",
    ]
    senders = frame[frame["rule"] == "sms-sender"]
    hosts = frame[frame["rule"] == "url"]
    assert set(senders["old"]) == SEED_SENDERS and set(senders["new"]) == {""}
    assert set(hosts["find"]) == SEED_HOSTS and set(hosts["replace"]) == {""}
    assert set(frame["scenario_id"]) == {"*"}
    # As written, no row can run: plan refuses the sheet and names every empty cell.
    with pytest.raises(SheetError) as refused:
        read_sheet(starter)
    assert len(refused.value.problems) == len(frame)
    assert {p.column for p in refused.value.problems} == {"new", "replace"}
    # Filled in for one sender, the other rows deleted: exactly that rule runs.
    filled = frame[frame["old"] == "Nordlicht"].copy()
    filled["new"] = "NordBrand"
    filled.to_csv(tmp_path / "filled.csv", index=False, encoding="utf-8-sig")
    rows = read_sheet(tmp_path / "filled.csv")
    assert [(str(r.target), r.rule, r.params) for r in rows] == [
        ("*", "sms-sender", {"old": "Nordlicht", "new": "NordBrand"})
    ]


def test_long_scenario_lists_are_capped_in_cells(tmp_path: Path) -> None:
    many = [{**SCENARIO, "id": f"{n:032X}", "name": f"copy {n}"} for n in range(MAX_LISTED + 10)]
    inventory = build_inventory(many)
    write_inventory(tmp_path, inventory)
    senders = read_csv(tmp_path / table_csv(SENDERS))
    ids = senders[senders["value"] == "OldBrand"]["scenario_ids"].item()
    assert ids.count(";") == MAX_LISTED
    assert ids.endswith("… and 10 more (see inventory-uses.csv)")


class PagedSource:
    """An in-memory stand-in for the client: pages, and search items without scripts."""

    def __init__(self, scenarios: list[dict[str, Any]]) -> None:
        self.scenarios = {s["id"]: s for s in scenarios}
        self.gets: list[str] = []

    async def iter_scenarios(self) -> Any:
        for scenario in self.scenarios.values():
            yield {k: v for k, v in scenario.items() if k != "script"}

    async def get_scenario(self, scenario_id: str) -> dict[str, Any]:
        self.gets.append(scenario_id)
        return self.scenarios[scenario_id]


def test_search_items_without_script_are_read_one_by_one() -> None:
    source = PagedSource(seed_scenarios())
    seen: list[int] = []
    inventory: Inventory = asyncio.run(take_inventory(source, progress=seen.append))
    assert source.gets == list(source.scenarios)
    assert set(inventory.values(SENDERS)) == SEED_SENDERS
    assert seen == list(range(1, 8))


@pytest.mark.parametrize("clones", [0, 120])
def test_inventory_of_the_seeded_sandbox_lists_every_sender_and_host(clones: int) -> None:
    from migrate.config import Rate
    from migrate.inventory import inventory_account
    from migrate.sandbox import SandboxConfig, start_sandbox

    config = SandboxConfig(write_rate=None, read_rate=Rate(200, 1.0), generate=clones)
    with start_sandbox(config) as sandbox:
        inventory = inventory_account(
            sandbox.base_url, sandbox.credentials(), read_rate=Rate(100, 1.0)
        )
        log = sandbox.request_log()
        stored = sandbox.scenario_count()
    senders, hosts = seed_expectation()
    assert set(inventory.values(SENDERS)) == senders == SEED_SENDERS
    assert set(inventory.values(HOSTS)) == hosts == SEED_HOSTS
    assert len(inventory.scenarios) == stored == 7 + clones
    assert len({entry.id for entry in inventory.scenarios}) == stored
    assert {entry.method for entry in log} == {"GET"}
    assert all(entry.status == 200 for entry in log)


def test_a_missing_value_is_an_empty_cell_not_a_quoted_dash(tmp_path: Path) -> None:
    scenario = {
        "id": "A" * 32,
        "name": "Voices",
        "script": [
            {"say": "hi", "options": {"voice": {"name": "Joanna", "gender": "female"}}},
            {"say": "hallo", "options": {"language": "de"}},
        ],
    }
    write_inventory(tmp_path, build_inventory([scenario]))
    voices = read_csv(tmp_path / table_csv(VOICES)).set_index("value")
    columns = ["language", "voice", "gender"]
    assert list(voices.loc["(none) / Joanna / female", columns]) == [
        "",
        "Joanna",
        "female",
    ]
    assert list(voices.loc["de / (none) / (none)", columns]) == [
        "de",
        "",
        "",
    ]
    for path in tmp_path.glob("*.csv"):
        assert "'-" not in path.read_text(encoding="utf-8-sig"), path.name
