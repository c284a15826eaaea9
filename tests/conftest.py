"""Shared pytest configuration. Keep it small: only fixtures used by several test modules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests: CI replays the same draws on every run (derandomize), so a CI failure is one a
# local run can reproduce and a change cannot fail CI on a draw nobody has seen before. Locally
# the draws stay random, exploring new cases, and failures are kept in .hypothesis/ for replay.
# Loaded here, before any test module builds its own settings(...) on top of the default.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", derandomize=False)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def rule_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, str, dict[str, str]], None]]:
    """Install a real plugin: ``install(module, source, {entry name: target})``.

    The module and its ``ivr_migrate.rules`` entry points are written as an installed
    distribution on sys.path; ``rule_catalogue()`` reads them afresh, and forgets them after.
    """
    from migrate.plugins import rule_catalogue

    def install(module: str, source: str, entries: dict[str, str]) -> None:
        (tmp_path / f"{module}.py").write_text(source, encoding="utf-8")
        info = tmp_path / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
        lines = [f"{name} = {target}" for name, target in entries.items()]
        (info / "entry_points.txt").write_text(
            "[ivr_migrate.rules]\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, module, raising=False)
        rule_catalogue.cache_clear()

    yield install
    rule_catalogue.cache_clear()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``tmpfs(size)`` mounts a real tmpfs of ``size`` (``"4m"``) under tmp_path and returns it;
    unmounted after the test. Mounting needs root: the test is skipped without it."""
    points: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"tmpfs{len(points)}"
        point.mkdir()
        if shutil.which("mount") is None:
            pytest.skip("no mount command")
        argv = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point)]
        mounted = subprocess.run(argv, capture_output=True, text=True, check=False)
        if mounted.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
        points.append(point)
        return point

    yield mount
    for point in points:
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.fixture(autouse=True, scope="session")
def _private_write_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The account write ledger of every test (and of its child processes) in a scratch folder,
    never the user's state directory."""
    from migrate.ledger import ENV_STATE_DIR

    before = os.environ.get(ENV_STATE_DIR)
    os.environ[ENV_STATE_DIR] = str(tmp_path_factory.mktemp("state"))
    yield
    if before is None:
        os.environ.pop(ENV_STATE_DIR, None)
    else:
        os.environ[ENV_STATE_DIR] = before
