"""Reliability: no credential is ever written or printed.

Every command runs as a real subprocess with a recognisable secret in its environment (an API
key, a Basic password, a Bearer token) against a sandbox account that accepts all three, through
success and failure paths: a 400 answered to a PUT, a 401 for a wrong (also recognisable) key.
Then everything printed (stdout, stderr) and everything written (every file under the run
folders, the inventory folder and the sandbox's own SQLite store, byte for byte, including
``journal.sqlite`` and its ``-wal``/``-shm``, and every member of every XLSX, unzipped) is
searched for the secrets, also in the forms they take on the wire (``user:password`` and its
base64): zero occurrences.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_engine_support import sandbox, write_sheet

from migrate.cli import cli as ivr_migrate
from migrate.sandbox import Account, RunningSandbox

READS = ["--read-rate", "2000/1s", "--timeout", "5", "--no-progress"]
FAST = ["--write-rate", "40/0.5s", *READS]
RENAME = [{"scenario_id": "*", "rule": "rename", "description": "{description} (secrets)"}]


@dataclass
class Secrets:
    key: str = field(default_factory=lambda: f"SECRETKEY-{secrets.token_hex(8)}")
    wrong_key: str = field(default_factory=lambda: f"SECRETKEY-WRONG-{secrets.token_hex(8)}")
    username: str = "migration-operator"
    password: str = field(default_factory=lambda: f"SECRETPASSWORD-{secrets.token_hex(8)}")
    token: str = field(default_factory=lambda: f"SECRETTOKEN-{secrets.token_hex(8)}")

    def needles(self) -> list[bytes]:
        basic = f"{self.username}:{self.password}".encode()
        values = [self.key, self.wrong_key, self.password, self.token]
        return [
            *(value.encode() for value in values),
            basic,
            base64.b64encode(basic),
            # the hex part alone, in case a secret were stored transformed or cut
            *(value.rsplit("-", 1)[1].encode() for value in values),
        ]


@dataclass
class World:
    running: RunningSandbox
    secrets: Secrets
    folder: Path
    #: Real subprocesses, or the same commands in process (click's runner: faster).
    subprocesses: bool = True
    printed: list[str] = field(default_factory=list)

    def env(self, scheme: str) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("INFOBIP_")}
        inherited["INFOBIP_BASE_URL"] = self.running.base_url
        s = self.secrets
        chosen = {
            "key": {"INFOBIP_API_KEY": s.key},
            "wrong-key": {"INFOBIP_API_KEY": s.wrong_key},
            "basic": {"INFOBIP_USERNAME": s.username, "INFOBIP_PASSWORD": s.password},
            "bearer": {"INFOBIP_TOKEN": s.token},
        }[scheme]
        return {**inherited, **chosen}

    def cli(self, scheme: str, *args: str, expect: int = 0) -> str:
        if self.subprocesses:
            result = subprocess.run(
                [sys.executable, "-m", "migrate", *args],
                env=self.env(scheme),
                cwd=self.folder,
                capture_output=True,
                text=True,
                timeout=120,
            )
            out, err, code = result.stdout, result.stderr, result.returncode
        else:
            env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("INFOBIP_")}
            env.update(self.env(scheme))
            invoked = CliRunner(env=env).invoke(ivr_migrate, list(args), catch_exceptions=False)
            out, err, code = invoked.stdout, invoked.stderr, invoked.exit_code
        self.printed += [out, err]
        assert "Traceback" not in err, err
        assert code == expect, (args, out, err)
        return out + err


@pytest.fixture(
    params=[
        pytest.param(False, id="in-process"),
        pytest.param(True, id="subprocess", marks=pytest.mark.slow),
    ]
)
def world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[World]:
    monkeypatch.chdir(tmp_path)
    s = Secrets()
    account = Account(
        "acct", api_keys=(s.key,), basic=((s.username, s.password),), tokens=(s.token,)
    )
    with sandbox(accounts=(account,), db_path=tmp_path / "sandbox.sqlite") as running:
        yield World(running, s, tmp_path, subprocesses=request.param)


def assert_nothing_leaked(world: World) -> None:
    needles = world.secrets.needles()
    for text in world.printed:
        for needle in needles:
            assert needle.decode() not in text, (needle, text)
    files = [path for path in world.folder.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    # the search covered what it must
    assert {"journal.sqlite", "sandbox.sqlite", "report.xlsx", "inventory.xlsx"} <= names, names
    searched = 0
    for path in files:
        blobs = [path.read_bytes()]
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as workbook:
                blobs += [workbook.read(member) for member in workbook.namelist()]
        for blob in blobs:
            searched += 1
            for needle in needles:
                assert needle not in blob, (needle, path)
    assert searched > len(files)  # xlsx members were searched too


def test_every_command_with_an_api_key_leaks_nothing(world: World) -> None:
    sheet = write_sheet(world.folder / "sheet.csv", RENAME)
    run = world.cli
    run("key", "--help")
    run("key", "rules")
    run("key", "rules", "sms-sender")
    run("key", "sandbox", "--help")
    run("key", "check", str(sheet))
    run("key", "plan", str(sheet), "--out", "run1", *READS)
    # a 400 for the first PUT: a permanent failure, with the server's error text journaled
    world.running.set_faults(sequence=(400,), methods={"PUT"})
    run("key", "apply", "run1", "--yes", *FAST, expect=1)
    run("key", "retry", "run1", "--yes", "--all", *FAST)
    run("key", "status", "run1")
    run("key", "status", "run1", "--json")
    run("key", "report", "run1")
    run("key", "rollback", "run1", "--yes", "--json", *FAST)
    run("key", "run", str(sheet), "--out", "run2", "--yes", "--json", *FAST)
    run("key", "inventory", "--out", "inventory", *READS)
    # a wrong key, also recognisable: 401 at the connection check, for a read and a write
    out = run("wrong-key", "plan", str(sheet), "--out", "run3", *READS, expect=2)
    assert "HTTP 401" in out
    out = run("wrong-key", "rollback", "run2", "--yes", *FAST, expect=2)
    assert "HTTP 401" in out
    assert world.running.put_counts()  # writes happened: the secrets were really used

    assert_nothing_leaked(world)


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_basic_password_and_bearer_token_leak_nothing(world: World, scheme: str) -> None:
    sheet = write_sheet(world.folder / "sheet.csv", RENAME)
    run = world.cli
    run(scheme, "plan", str(sheet), "--out", "run1", *READS)
    world.running.set_faults(sequence=(400,), methods={"PUT"})
    run(scheme, "apply", "run1", "--yes", *FAST, expect=1)
    run(scheme, "report", "run1")
    run(scheme, "rollback", "run1", "--yes", *FAST)
    run(scheme, "inventory", "--out", "inventory", *READS)
    assert world.running.put_counts()

    assert_nothing_leaked(world)
