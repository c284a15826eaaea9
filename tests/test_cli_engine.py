"""The engine's commands: exit codes, one-line errors, --sandbox runs, and no credential leaks."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_engine_support import MIGRATION_SHEET, sandbox, write_sheet

from migrate.cli import cli
from migrate.sandbox import Account

DEMO_SHEET = Path(__file__).resolve().parent.parent / "migrate" / "examples" / "demo-sheet.csv"
KEY = "k3y-0f-th3-t3st-acc0unt-5ecret"
NO_ENV: dict[str, str | None] = {
    "INFOBIP_API_KEY": None,
    "INFOBIP_TOKEN": None,
    "INFOBIP_IBSSO_TOKEN": None,
    "INFOBIP_USERNAME": None,
    "INFOBIP_PASSWORD": None,
    "INFOBIP_BASE_URL": None,
}
#: Options of every networked command; plan and inventory take no --write-rate (they only read).
READS = ["--read-rate", "2000/1s", "--timeout", "2", "--no-progress"]
FAST = ["--write-rate", "40/0.5s", *READS]


def invoke(*args: str, key: str | None = KEY) -> Result:
    env = dict(NO_ENV)
    if key is not None:
        env["INFOBIP_API_KEY"] = key
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def one_line_error(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return lines[0]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_credentials_fails_before_anything(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", MIGRATION_SHEET)
    result = invoke("plan", str(sheet), "--out", str(tmp_path / "run"), key=None)
    assert result.exit_code == 2
    assert "no credentials" in one_line_error(result)
    assert not (tmp_path / "run").exists()


def test_unreachable_host_fails_fast_with_one_line(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", MIGRATION_SHEET)
    url = f"http://127.0.0.1:{closed_port()}"
    result = invoke("plan", str(sheet), "--out", str(tmp_path / "run"), "--base-url", url)
    assert result.exit_code == 2
    assert f"cannot reach {url}" in one_line_error(result)
    assert not (tmp_path / "run").exists()


def test_wrong_key_fails_fast_with_one_line(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", MIGRATION_SHEET)
    with sandbox() as running:
        result = invoke(
            "plan", str(sheet), "--out", str(tmp_path / "run"), "--base-url", running.base_url,
            key="not-the-key",
        )  # fmt: skip
        assert result.exit_code == 2
        assert "refused the credentials (HTTP 401)" in one_line_error(result)
        assert "not-the-key" not in result.output


def test_bad_sheet_exits_2_before_any_request(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", [{"scenario_id": "*", "rule": "sms-sendr"}])
    with sandbox() as running:
        result = invoke("plan", str(sheet), "--base-url", running.base_url)
        assert result.exit_code == 2
        assert "sms-sendr" in result.stderr
        assert running.request_log() == []


def test_bad_rail_value_exits_2(tmp_path: Path) -> None:
    result = invoke("apply", str(tmp_path), "--yes", "--max-failures", "lots")
    assert result.exit_code == 2
    assert "error:" in result.stderr


def test_full_cycle_exit_codes_and_no_credential_anywhere(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "s.csv", MIGRATION_SHEET)
    run_dir = tmp_path / "run"
    account = Account("acme", api_keys=(KEY,))
    outputs: list[str] = []
    with sandbox(accounts=(account,), generate=14) as running:
        base = ["--base-url", running.base_url, *FAST]

        planned = invoke("plan", str(sheet), "--out", str(run_dir), "--base-url",
                         running.base_url, *READS)  # fmt: skip
        outputs.append(planned.output)
        assert planned.exit_code == 0, planned.output
        assert "plan: 9 planned, 12 unchanged" in planned.stdout
        assert f"next: ivr-migrate apply {run_dir} --base-url {running.base_url}" in planned.stdout
        assert_reports(run_dir, title="Dry-run report")

        unconfirmed = invoke("apply", str(run_dir), *base)
        outputs.append(unconfirmed.output)
        assert unconfirmed.exit_code == 2
        assert "--yes" in one_line_error(unconfirmed)

        conflicted = running.scenarios()[0]["id"]
        running.edit_scenario(conflicted, {"description": "edited meanwhile"})
        applied = invoke("apply", str(run_dir), "--yes", "--json", *base)
        outputs.append(applied.output)
        assert applied.exit_code == 1, applied.output
        tally = json.loads(applied.stdout)
        assert tally["counts"]["updated"] == 8 and tally["counts"]["conflict"] == 1
        assert "8 updated, 12 unchanged, 1 conflict" in applied.stderr
        assert len(running.put_counts()) == 8
        assert_reports(run_dir, title="Run report")
        assert (run_dir / "failures.csv").read_text().count(conflicted) >= 1

        status = invoke("status", str(run_dir), "--json")
        outputs.append(status.output)
        assert status.exit_code == 0
        assert json.loads(status.stdout)["counts"]["conflict"] == 1
        text = invoke("status", str(run_dir))
        assert "8 updated, 12 unchanged, 1 conflict" in text.stdout

        rolled = invoke("rollback", str(run_dir), "--yes", *base)
        outputs.append(rolled.output)
        assert rolled.exit_code == 0, rolled.output
        assert "8 rolled back" in rolled.stdout

    for output in outputs:
        assert KEY not in output
    files = [path for path in run_dir.rglob("*") if path.is_file()]
    assert {"journal.sqlite", "sheet.csv"} <= {path.name for path in files}
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path


REPORT_FILES = ("results.csv", "changes.csv", "failures.csv", "report.xlsx", "report.html")


def assert_reports(run_dir: Path, *, title: str) -> None:
    """Every command that changes a run's journal leaves its five reports beside it."""
    for name in REPORT_FILES:
        assert (run_dir / name).is_file(), name
    assert title in (run_dir / "report.html").read_text(encoding="utf-8")


def test_run_with_the_embedded_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--sandbox", "--yes", str(DEMO_SHEET), key=None)

    assert result.exit_code == 0, result.output
    assert "3 updated, 4 unchanged" in result.stdout
    run_line = next(line for line in result.stdout.splitlines() if line.startswith("run folder:"))
    run_dir = tmp_path / run_line.split(": ", 1)[1]
    assert run_dir.parent == tmp_path / "reports"
    assert (run_dir / "sandbox.sqlite").is_file()
    assert_reports(run_dir, title="Run report")
    assert f"report: {run_line.split(': ', 1)[1]}/report.html" in result.stdout

    needs_sandbox = invoke("rollback", run_dir.name, "--yes", key="some-key")
    assert needs_sandbox.exit_code == 2
    assert "--sandbox" in one_line_error(needs_sandbox)

    # a later command on the run reopens the sandbox as the run left it
    rolled = invoke("rollback", run_dir.name, "--yes", "--sandbox", key=None)
    assert rolled.exit_code == 0, rolled.output
    assert "3 rolled back" in rolled.stdout
    again = invoke("apply", str(run_dir), "--yes", "--sandbox", key=None)
    assert again.exit_code == 0 and "3 rolled back, 4 unchanged" in again.stdout


def test_sandbox_is_a_flag_before_the_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("plan", "--sandbox", str(DEMO_SHEET), key=None)
    assert result.exit_code == 0, result.output
    assert "plan: 3 planned, 4 unchanged" in result.stdout


def test_sandbox_seed_folder_seeds_the_run(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    source = Path(__file__).resolve().parent.parent / "migrate" / "seed"
    for name in ("03-order-status-lookup.json", "11-city-weather-broadcast.json"):
        (seed / name).write_bytes((source / name).read_bytes())
    out = tmp_path / "run"
    result = invoke("plan", str(DEMO_SHEET), "--sandbox", "--sandbox-seed", str(seed),
                    "--out", str(out), key=None)  # fmt: skip
    # two scenarios instead of the bundled seven: the id row of the demo sheet is not found
    assert result.exit_code == 1, result.output
    assert "plan: 2 planned, 1 not found" in result.stdout


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (
            ["--sandbox", "--sandbox-seed", "no-such-dir"],
            "--sandbox-seed no-such-dir: not a folder",
        ),
        (
            ["--sandbox-seed", "seed"],
            "--sandbox-seed seed seeds the embedded sandbox: add --sandbox",
        ),
    ],
)
def test_sandbox_seed_mistakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], phrase: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed").mkdir()
    result = invoke("plan", str(DEMO_SHEET), *args, key=None)
    assert result.exit_code == 2
    assert phrase in one_line_error(result)
    assert not (tmp_path / "reports").exists()


def test_from_the_console_the_command_becomes_its_report_writer(tmp_path: Path) -> None:
    # The console entry point hands its process over to `report --finish` (os.execve): the
    # reports never share the machine with the command's own memory (DESIGN §9, scale).
    import subprocess
    import sys

    run_dir = tmp_path / "run"
    probe = (
        "import os, sys\n"
        "real = os.execve\n"
        "def execve(path, argv, env):\n"
        "    sys.stderr.write('HANDOVER ' + ' '.join(argv[1:5]) + '\\n')\n"
        "    real(path, argv, env)\n"
        "os.execve = execve\n"
        "from migrate.cli import main\n"
        f"sys.argv = ['ivr-migrate', 'run', {str(DEMO_SHEET)!r}, '--sandbox', '--yes',"
        f" '--out', {str(run_dir)!r}, '--json', '--no-progress']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "HANDOVER -m migrate report " + str(run_dir) in done.stderr
    assert json.loads(done.stdout)["counts"]["updated"] == 3
    assert "report: " in done.stderr and (run_dir / "report.html").is_file()
