"""The README's Usage section documents every command and every option that ``--help`` shows."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from migrate.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"


def usage_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Usage\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


COMMANDS = sorted(cli.commands)


def option_names(command: click.Command) -> list[str]:
    names = []
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            names += [name for name in (*param.opts, *param.secondary_opts) if name != "--help"]
    return names


def test_every_command_is_in_the_usage_section() -> None:
    usage = usage_section()
    missing = [name for name in COMMANDS if f"ivr-migrate {name}" not in usage]
    assert missing == []
    assert len(COMMANDS) >= 12


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_every_option_is_in_the_usage_section(name: str | None) -> None:
    command = cli if name is None else cli.commands[name]
    usage = usage_section()
    missing = [option for option in option_names(command) if not mentioned(option, usage)]
    assert missing == []


def mentioned(option: str, text: str) -> bool:
    """``--sandbox`` as a word of its own: not the start of ``--sandbox-seed``."""
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_an_option_is_found_only_as_itself() -> None:
    assert mentioned("--sandbox", "add `--sandbox` to it")
    assert not mentioned("--sandbox", "add --sandbox-seed DIR")
    assert not mentioned("-q", "--quiet")
