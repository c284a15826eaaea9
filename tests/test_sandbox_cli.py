"""``ivr-migrate sandbox`` as a user runs it: a subprocess that serves until SIGINT."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click
import requests

ROOT = "/voice/ivr/1/scenarios"
WELCOME_ID = "0B0458310896E39079FC9CFC65BF4138"
STARTUP_TIMEOUT = 30.0


def _lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


@contextmanager
def sandbox_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start the command, wait for its banner, yield (process, banner); SIGINT it at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "migrate", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    banner: list[str] = []
    try:
        while not any("Ctrl-C" in line for line in banner):
            line = lines.get(timeout=STARTUP_TIMEOUT)
            if line is None:
                raise AssertionError(f"the sandbox exited: {''.join(banner)}{_stderr(process)}")
            banner.append(line)
        yield process, "".join(banner)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STARTUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stderr(process: subprocess.Popen[str]) -> str:
    process.wait(timeout=STARTUP_TIMEOUT)
    return process.stderr.read() if process.stderr else ""


def test_the_command_prints_its_url_and_key_serves_and_stops_on_sigint() -> None:
    with sandbox_process() as (process, banner):
        url = re.search(r"export INFOBIP_BASE_URL=(\S+) INFOBIP_API_KEY=(\S+)", banner)
        assert url, banner
        base_url, key = url.groups()
        assert base_url.startswith("http://127.0.0.1:")
        assert f"curl -H 'Authorization: App {key}' {base_url}{ROOT}" in banner

        listed = requests.get(base_url + ROOT, headers={"Authorization": f"App {key}"}, timeout=10)
        refused = requests.get(base_url + ROOT, headers={"Authorization": "App nope"}, timeout=10)

        assert listed.status_code == 200
        assert WELCOME_ID in {s["id"] for s in listed.json()}
        assert refused.status_code == 401

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=STARTUP_TIMEOUT) in (0, 130)
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_configured_credentials_limits_and_storage(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite"
    args = ["--key", "ops=ops-key", "--basic", "ops=ops:secret", "--write-rate", "1/60s"]
    with sandbox_process(*args, "--db", str(db), "--generate", "3") as (_, banner):
        base_url = re.search(r"listening on (\S+)", banner).group(1)  # type: ignore[union-attr]
        assert "ops-key" not in banner and "secret" not in banner
        assert "account ops: 10 scenarios" in banner
        url = f"{base_url}{ROOT}/{WELCOME_ID}"

        body = requests.get(url, auth=("ops", "secret"), timeout=10).json()
        headers = {"Authorization": "App ops-key"}
        first = requests.put(url, json={**body, "name": "Via CLI"}, headers=headers, timeout=10)
        second = requests.put(url, json=body, headers=headers, timeout=10)

        assert (first.status_code, second.status_code) == (200, 429)
    assert db.is_file()


def test_bad_options_exit_2_before_serving() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "migrate", "sandbox", "--port", "0", "--write-rate", "often"],
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT,
    )

    assert result.returncode == 2, result.stderr
    assert "N/PERIOD" in result.stderr


def test_a_busy_port_is_a_usage_error() -> None:
    with sandbox_process() as (_, banner):
        port = re.search(r"listening on http://127.0.0.1:(\d+)", banner).group(1)  # type: ignore[union-attr]
        result = subprocess.run(
            [sys.executable, "-m", "migrate", "sandbox", "--port", port],
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT,
        )

    assert result.returncode == 2, result.stderr
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr


def test_two_accounts_new_faults_and_put_merges_from_the_command_line() -> None:
    args = ["--key", "eu=eu-key", "--key", "us=us-key", "--write-rate", "1/60s", "--put-merges"]
    faults = ["--huge-rate", "1", "--huge-body-bytes", "1000", "--fault-methods", "GET"]
    with sandbox_process(*args, *faults) as (_, banner):
        base_url = re.search(r"listening on (\S+)", banner).group(1)  # type: ignore[union-attr]
        assert "account eu: 7 scenarios" in banner and "account us: 7 scenarios" in banner
        url = f"{base_url}{ROOT}/{WELCOME_ID}"
        eu, us = ({"Authorization": f"App {key}"} for key in ("eu-key", "us-key"))
        body = {"name": "Renamed", "script": ["hangup"]}

        eu_first = requests.put(url, json=body, headers=eu, timeout=10)
        eu_second = requests.put(url, json=body, headers=eu, timeout=10)
        us_first = requests.put(url, json=body, headers=us, timeout=10)
        huge = requests.get(url, headers=us, timeout=10)

        assert (eu_first.status_code, eu_second.status_code, us_first.status_code) == (
            200,
            429,
            200,
        )
        assert eu_first.json()["description"]  # merged: the body left it out, it stayed
        assert huge.status_code == 200 and len(huge.content) == 1001
        assert set(huge.json()) == {"padding"}


def test_every_sandbox_option_says_what_it_does_and_its_unit() -> None:
    from click.testing import CliRunner

    from migrate.cli import cli, sandbox_command
    from migrate.sandbox.faults import DEFAULT_HUGE_BODY_BYTES, DEFAULT_NESTED_DEPTH

    shown = CliRunner().invoke(cli, ["sandbox", "--help"], terminal_width=1000)
    assert shown.exit_code == 0, shown.output
    options = {
        option.opts[0]: option.help or ""
        for option in sandbox_command.params
        if isinstance(option, click.Option)
    }
    for name, text in options.items():
        assert len(text) > 10, f"{name} has no help"
        assert text in shown.output, name
    units = {
        "--port": "port",
        "--write-rate": "N/PERIOD",
        "--read-rate": "N/PERIOD",
        "--generate": "scenarios",
        "--latency-ms": "Milliseconds",
        "--error-rate": "(0-1)",
        "--nested-depth": "Levels",
        "--huge-body-bytes": "Bytes",
        "--retry-after": "seconds",
    }
    fault_rates = [n for n in options if n.endswith("-rate") and n not in units]
    assert len(fault_rates) == 7  # hang, drop before/after, hold before/after, nested, huge
    units |= {name: "(0-1)" for name in fault_rates}
    for name, unit in units.items():
        assert unit in options[name], f"{name} does not give its unit ({unit})"
    assert f"[default: {DEFAULT_NESTED_DEPTH}]" in options["--nested-depth"]
    assert f"[default: {DEFAULT_HUGE_BODY_BYTES}," in options["--huge-body-bytes"]


def test_the_fault_and_put_options_reach_the_sandbox_config() -> None:
    from migrate.sandbox.command import build_config

    config = build_config(
        seed_dir=None,
        no_seed=True,
        db_path=None,
        write_rate="none",
        read_rate="none",
        hold_before_rate=0.1,
        hold_after_rate=0.2,
        nested_rate=0.3,
        nested_depth=7,
        huge_rate=0.05,
        huge_body_bytes=123,
        put_replaces=False,
    )

    faults = config.faults
    assert (faults.hold_before_rate, faults.hold_after_rate) == (0.1, 0.2)
    assert (faults.nested_rate, faults.nested_depth) == (0.3, 7)
    assert (faults.huge_rate, faults.huge_body_bytes) == (0.05, 123)
    assert config.put_replaces is False
    default = build_config(
        seed_dir=None, no_seed=True, db_path=None, write_rate="none", read_rate="none"
    )
    assert default.put_replaces is True
