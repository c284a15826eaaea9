"""Helpers for tests that run ``ivr-migrate`` as an operator does (no tests here).

``in_terminal`` runs the command in a child process whose stdin is a pseudo-terminal with the
answer already typed, so that a confirmation is asked and answered as on a real terminal.
``hints`` finds the commands the tool suggested in its output.
"""

from __future__ import annotations

import os
import pty
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: A suggested command: ``ivr-migrate …`` to the end of its line.
_HINT = re.compile(r"(?:^|: )(ivr-migrate .+)$", re.MULTILINE)


def hints(output: str) -> list[list[str]]:
    """Every command suggested in ``output``, split as a POSIX shell would."""
    return [shlex.split(found) for found in _HINT.findall(output)]


def the_hint(output: str, after: str) -> list[str]:
    """The one command suggested on the line containing ``after``."""
    lines = [line for line in output.splitlines() if after in line]
    assert len(lines) == 1, output
    found = hints(lines[0])
    assert len(found) == 1, lines[0]
    return found[0]


def environment(**values: str) -> dict[str, str]:
    """This process's environment without INFOBIP_* variables, plus ``values``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("INFOBIP_")}
    return {**inherited, **values}


def in_terminal(
    argv: list[str],
    cwd: Path,
    env: Mapping[str, str],
    answer: str = "y",
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (``ivr-migrate …``) with a terminal as stdin holding ``answer``."""
    assert argv[0] == "ivr-migrate", argv
    leader, follower = pty.openpty()
    try:
        os.write(leader, f"{answer}\n".encode())
        return subprocess.run(
            [sys.executable, "-m", "migrate", *argv[1:]],
            stdin=follower,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=dict(env),
            timeout=timeout,
            check=False,
        )
    finally:
        os.close(follower)
        os.close(leader)
