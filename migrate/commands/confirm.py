"""Asking before a write (DESIGN §3): on a terminal unless ``--yes``; without one, ``--yes``."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from migrate.commands.exits import CommandExit, ExitCode


def need_confirmation(yes: bool, action: str) -> None:
    """Without a terminal, writing needs --yes (checked before any request)."""
    if not yes and not sys.stdin.isatty():
        raise CommandExit(
            ExitCode.USAGE,
            f"error: {action} writes to the API: pass --yes to confirm without a terminal",
        )


def confirm(yes: bool, question: str, preview: Callable[[], None] | None = None) -> None:
    """Show ``preview`` (on stderr), then ask ``question``; leave with exit 1 unless yes."""
    if yes:
        return
    if preview is not None:
        preview()
    if not click.confirm(question, default=False, err=True):
        raise CommandExit(ExitCode.ROWS_FAILED, "not confirmed: nothing was written")
