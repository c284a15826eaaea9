"""Sandbox storage: SQLite across restarts, seeding from a folder, generated clones."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from migrate.errors import ConfigError
from migrate.sandbox import Account, RunningSandbox, SandboxConfig, start_sandbox
from migrate.sandbox.seeding import bundled_seed_dir

ROOT = "/voice/ivr/1/scenarios"
WELCOME_ID = "0B0458310896E39079FC9CFC65BF4138"
HOTLINE_ID = "B8442ED12B2940E53ACE6946EC602B82"
KEY = "storage-test-key"
ACCOUNT = Account("storage", api_keys=(KEY,))
HTTP = requests.Session()


def call(sandbox: RunningSandbox, method: str, path: str = "", **kwargs: Any) -> Any:
    response = HTTP.request(
        method,
        sandbox.base_url + ROOT + path,
        headers={"Authorization": f"App {KEY}"},
        timeout=10,
        **kwargs,
    )
    assert response.status_code == 200, response.text
    return response.json() if response.content else None


def every_page(sandbox: RunningSandbox, page_size: int = 50) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while batch := call(sandbox, "GET", params={"page": page, "pageSize": page_size}):
        found += batch
        page += 1
    return found


def test_sqlite_keeps_every_change_across_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(accounts=(ACCOUNT,), db_path=tmp_path / "sandbox.sqlite")
    with start_sandbox(config) as sandbox:
        welcome = call(sandbox, "GET", f"/{WELCOME_ID}")
        renamed = call(sandbox, "PUT", f"/{WELCOME_ID}", json={**welcome, "name": "Renamed"})
        created = call(sandbox, "POST", json={"name": "New", "script": ["hangup"]})
        call(sandbox, "DELETE", f"/{HOTLINE_ID}")
        before = every_page(sandbox)

    with start_sandbox(config) as sandbox:
        after = every_page(sandbox)
        assert after == before
        assert call(sandbox, "GET", f"/{WELCOME_ID}") == renamed
        assert call(sandbox, "GET", f"/{created['id']}") == created
        assert sandbox.scenario(HOTLINE_ID) is None  # deleted stays deleted: no re-seeding

        again = call(sandbox, "PUT", f"/{WELCOME_ID}", json={**welcome, "name": "Again"})
        assert again["updateTime"] > renamed["updateTime"]


def test_each_account_gets_its_own_rows_in_one_sqlite_file(tmp_path: Path) -> None:
    other = Account("other", api_keys=("other-key",), seeded=False)
    config = SandboxConfig(accounts=(ACCOUNT, other), db_path=tmp_path / "two.sqlite")
    with start_sandbox(config) as sandbox:
        sandbox.edit_scenario(WELCOME_ID, {"name": "Edited by storage"})
        sandbox.add_scenario({"name": "Other's", "script": ["hangup"]}, account="other")

    with start_sandbox(config) as sandbox:
        assert [s["name"] for s in sandbox.scenarios(account="other")] == ["Other's"]
        assert sandbox.scenario(WELCOME_ID)["name"] == "Edited by storage"  # type: ignore[index]
        assert sandbox.scenario(WELCOME_ID, account="other") is None


def test_seeding_from_a_folder_keeps_ids_and_timestamps(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    one = {
        "id": "A" * 32,
        "name": "One",
        "createTime": "2024-01-02T03:04:05.678+0000",
        "updateTime": None,
        "lastUsageDate": "2025-05-05",
        "script": [{"say": "one"}, "hangup"],
        "notifyUrl": "https://hooks.example.org/one",
    }
    two = {"name": "Two, no id", "script": ["hangup"], "createTime": "2024-02-01T00:00:00+01:00"}
    (seeds / "one.json").write_text(json.dumps(one), encoding="utf-8")
    (seeds / "more.json").write_text(json.dumps([two]), encoding="utf-8")
    (seeds / "notes.txt").write_text("not a scenario", encoding="utf-8")

    with start_sandbox(SandboxConfig(accounts=(ACCOUNT,), seed_dir=seeds)) as sandbox:
        found = every_page(sandbox)

    assert [s["name"] for s in found] == ["One", "Two, no id"]
    assert found[0] == one
    assert re.fullmatch(r"[0-9A-F]{32}", found[1]["id"])
    assert found[1]["createTime"] == "2024-02-01T00:00:00+01:00"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"bad.json": "{not json"}, "cannot read seed file"),
        ({"bad.json": '{"name": "no script"}'}, "script"),
        ({"bad.json": '{"id": "short", "name": "x", "script": []}'}, "32 upper-case hex"),
        ({"a.json": json.dumps({"id": "B" * 32, "name": "x", "script": []})} | {
            "b.json": json.dumps({"id": "B" * 32, "name": "y", "script": []})
        }, "duplicate"),
    ],
)  # fmt: skip
def test_a_bad_seed_folder_is_refused_before_serving(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError, match=message):
        start_sandbox(SandboxConfig(seed_dir=tmp_path))


def test_a_missing_seed_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        start_sandbox(SandboxConfig(seed_dir=tmp_path / "absent"))


def test_no_seed_starts_empty() -> None:
    with start_sandbox(SandboxConfig(accounts=(ACCOUNT,), seed_dir=None)) as sandbox:
        assert call(sandbox, "GET") == []


def test_generated_clones_page_like_real_scenarios() -> None:
    config = SandboxConfig(accounts=(ACCOUNT,), generate=60)
    with start_sandbox(config) as sandbox:
        found = every_page(sandbox, page_size=50)
        welcome_clone = next(s for s in found if s["name"] == "Multilingual welcome menu #0001")

    seeded = len(list(bundled_seed_dir().glob("*.json")))
    assert len(found) == seeded + 60
    assert len({s["id"] for s in found}) == len(found)
    assert all(re.fullmatch(r"[0-9A-F]{32}", s["id"]) for s in found)
    assert welcome_clone["id"] != WELCOME_ID
    welcome = next(s for s in found if s["id"] == WELCOME_ID)
    assert welcome_clone["script"] == welcome["script"]
    assert welcome_clone["updateTime"] is None


def test_generated_ids_are_the_same_on_every_start() -> None:
    def ids() -> list[str]:
        config = SandboxConfig(accounts=(ACCOUNT,), generate=10, random_seed=3)
        with start_sandbox(config) as sandbox:
            return [s["id"] for s in sandbox.scenarios()]

    assert ids() == ids()


def test_a_put_to_a_clone_leaves_its_source_and_siblings_alone() -> None:
    config = SandboxConfig(accounts=(ACCOUNT,), generate=14, write_rate=None)
    with start_sandbox(config) as sandbox:
        clones = [s for s in sandbox.scenarios() if s["name"].startswith("Multilingual")]
        target = clones[1]

        call(sandbox, "PUT", f"/{target['id']}", json={**target, "script": ["hangup"]})

        scripts = [sandbox.scenario(s["id"])["script"] for s in clones]  # type: ignore[index]
        assert scripts[1] == ["hangup"]
        assert all(script == clones[0]["script"] for i, script in enumerate(scripts) if i != 1)


def test_a_portal_edit_bumps_update_time_without_counting_a_put() -> None:
    with start_sandbox(SandboxConfig(accounts=(ACCOUNT,))) as sandbox:
        before = call(sandbox, "GET", f"/{WELCOME_ID}")

        edited = sandbox.edit_scenario(WELCOME_ID, {"description": "Changed in the portal"})

        assert edited["description"] == "Changed in the portal"
        assert edited["updateTime"] > before["updateTime"]
        assert edited["script"] == before["script"]
        assert call(sandbox, "GET", f"/{WELCOME_ID}") == edited
        assert sandbox.put_counts() == {}
        with pytest.raises(KeyError):
            sandbox.edit_scenario("F" * 32, {"name": "x"})
