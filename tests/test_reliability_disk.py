"""Reliability: a run folder on a full or read-only filesystem fails clearly before any write.

Realistic filesystems, not patched calls: a small ``tmpfs`` mounted for the test (less free
space than the journal needs, or filled to the last byte), and the same ``tmpfs`` remounted
read-only (``chmod`` does not stop root; a read-only mount stops everyone). Mounting needs
root (CAP_SYS_ADMIN): elsewhere these tests skip, and the folder-in-place-of-a-file cases of
``test_reliability_input.py`` still run.

Every case: exit 2, one line on stderr naming the problem, and the sandbox saw no PUT (for
``apply``, ``retry`` and ``rollback`` no request at all: the run folder is checked first).
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_engine_support import sandbox, write_sheet

from migrate.cli import cli
from migrate.engine.runfolder import MIN_FREE_BYTES
from migrate.sandbox import Account, RunningSandbox

KEY = "reliability-disk-key"
READS = ["--read-rate", "2000/1s", "--timeout", "5", "--no-progress"]
FAST = ["--write-rate", "40/0.5s", *READS]
RENAME = [{"scenario_id": "*", "rule": "rename", "description": "{description} (disk)"}]


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    with sandbox(accounts=(Account("acct", api_keys=(KEY,)),)) as served:
        yield served


def mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def small_fs(tmpfs: Callable[[str], Path]) -> Path:
    """A 4 MB tmpfs: it works, but has far less free space than a journal may need."""
    return tmpfs("4m")


def invoke(running: RunningSandbox, *args: str) -> Result:
    env = {"INFOBIP_API_KEY": KEY, "INFOBIP_BASE_URL": running.base_url}
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert "Traceback" not in result.output
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def fill(folder: Path) -> None:
    """Write until the filesystem refuses: no space left at all."""
    with open(folder / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 16))
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    assert shutil.disk_usage(folder).free < (1 << 16)


def plan_elsewhere(running: RunningSandbox, tmp_path: Path, into: Path) -> Path:
    """Plan on the normal disk, then move the run folder onto ``into``."""
    sheet = write_sheet(tmp_path / "sheet.csv", RENAME)
    planned = invoke(running, "plan", str(sheet), "--out", str(tmp_path / "planned"), *READS)
    assert planned.exit_code == 0, planned.output
    run_dir = into / "run"
    shutil.copytree(tmp_path / "planned", run_dir)
    running.reset_log()
    return run_dir


def no_request(running: RunningSandbox) -> None:
    assert running.request_log() == []


# -- plan: the run folder is created and checked before the first request ---------------------


def test_plan_into_a_folder_with_too_little_free_space(
    running: RunningSandbox, tmp_path: Path, small_fs: Path
) -> None:
    running.reset_log()
    sheet = write_sheet(tmp_path / "sheet.csv", RENAME)
    line = one_line_error(invoke(running, "plan", str(sheet), "--out", str(small_fs / "run")))
    assert f"MB free under {small_fs / 'run'}" in line
    assert f"at least {MIN_FREE_BYTES // (1 << 20)} MB" in line
    no_request(running)


def test_plan_into_a_full_filesystem(
    running: RunningSandbox, tmp_path: Path, small_fs: Path
) -> None:
    (small_fs / "run").mkdir()
    fill(small_fs)
    running.reset_log()
    sheet = write_sheet(tmp_path / "sheet.csv", RENAME)
    line = one_line_error(invoke(running, "plan", str(sheet), "--out", str(small_fs / "run")))
    assert "is not writable: No space left on device" in line
    no_request(running)


def test_plan_into_a_read_only_filesystem(
    running: RunningSandbox, tmp_path: Path, small_fs: Path
) -> None:
    assert mount("-o", "remount,ro", str(small_fs)).returncode == 0
    running.reset_log()
    sheet = write_sheet(tmp_path / "sheet.csv", RENAME)
    line = one_line_error(invoke(running, "plan", str(sheet), "--out", str(small_fs / "run")))
    assert "cannot create the run folder" in line and "Read-only file system" in line
    no_request(running)


# -- apply, retry, rollback: a planned run folder whose disk filled up or went read-only ------

WRITERS = [
    pytest.param(["apply", "--yes"], id="apply"),
    pytest.param(["retry", "--yes", "--all"], id="retry"),
    pytest.param(["rollback", "--yes"], id="rollback"),
]


@pytest.mark.parametrize("command", WRITERS)
def test_write_commands_on_a_run_folder_with_too_little_space(
    running: RunningSandbox, tmp_path: Path, small_fs: Path, command: list[str]
) -> None:
    run_dir = plan_elsewhere(running, tmp_path, small_fs)
    line = one_line_error(invoke(running, command[0], str(run_dir), *command[1:], *FAST))
    assert f"MB free under {run_dir}" in line
    no_request(running)


@pytest.mark.parametrize("command", WRITERS)
def test_write_commands_on_a_full_run_folder(
    running: RunningSandbox, tmp_path: Path, small_fs: Path, command: list[str]
) -> None:
    run_dir = plan_elsewhere(running, tmp_path, small_fs)
    fill(small_fs)
    line = one_line_error(invoke(running, command[0], str(run_dir), *command[1:], *FAST))
    assert str(run_dir) in line
    no_request(running)


@pytest.mark.parametrize("command", WRITERS)
def test_write_commands_on_a_read_only_run_folder(
    running: RunningSandbox, tmp_path: Path, small_fs: Path, command: list[str]
) -> None:
    run_dir = plan_elsewhere(running, tmp_path, small_fs)
    assert mount("-o", "remount,ro", str(small_fs)).returncode == 0
    line = one_line_error(invoke(running, command[0], str(run_dir), *command[1:], *FAST))
    assert str(run_dir) in line
    no_request(running)


@pytest.mark.parametrize("state", ["full", "read-only"])
def test_apply_on_a_full_or_read_only_run_folder_says_why(
    running: RunningSandbox, tmp_path: Path, small_fs: Path, state: str
) -> None:
    run_dir = plan_elsewhere(running, tmp_path, small_fs)
    if state == "full":
        fill(small_fs)
    else:
        assert mount("-o", "remount,ro", str(small_fs)).returncode == 0
    line = one_line_error(invoke(running, "apply", str(run_dir), "--yes", *FAST))
    wanted = "No space left on device" if state == "full" else "Read-only file system"
    assert wanted in line, line
    no_request(running)


# -- an archived run on a read-only disk stays inspectable ------------------------------------


def test_status_and_show_read_a_run_on_a_read_only_filesystem(
    running: RunningSandbox, tmp_path: Path, small_fs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = plan_elsewhere(running, tmp_path, small_fs / "reports")
    assert mount("-o", "remount,ro", str(small_fs)).returncode == 0
    for command in (["status"], ["status", "--json"], ["show"], ["show", "--json"]):
        result = invoke(running, *command, str(run_dir))
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
    assert "7 planned" in invoke(running, "status", str(run_dir)).stdout
    shown = invoke(running, "show", str(run_dir)).stdout
    assert "would update" in shown and "(disk)" in shown
    monkeypatch.chdir(small_fs)
    listing = invoke(running, "status")
    assert listing.exit_code == 0, listing.output
    assert "run" in listing.stdout and "7 planned" in listing.stdout
    no_request(running)


def test_report_on_a_read_only_filesystem_says_what_still_works(
    running: RunningSandbox, tmp_path: Path, small_fs: Path
) -> None:
    run_dir = plan_elsewhere(running, tmp_path, small_fs)
    assert mount("-o", "remount,ro", str(small_fs)).returncode == 0
    line = one_line_error(invoke(running, "report", str(run_dir)))
    assert "Read-only file system" in line and "status and show still read it" in line
