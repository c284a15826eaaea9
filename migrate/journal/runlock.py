"""``run.lock``: one writing process per run folder, and who that process is.

The lock is an ``flock`` on ``run.lock``, so the kernel releases it when its process dies,
however it dies. The file names the holder (host, pid, start time, command) so that a refusal can
say who holds the run, and so that a lock left by a process that died without cleaning up is
recognised: taking it over is reported with one line instead of refused. A clean exit empties
the file.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from migrate.errors import JournalError

LOCK_FILE: Final = "run.lock"


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a run's lock."""

    host: str
    pid: int
    started_at: float
    command: str

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started_at))
        return f"ivr-migrate {self.command} (pid {self.pid} on {self.host}, since {since})"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text)
            return cls(
                str(data["host"]), int(data["pid"]), float(data["started_at"]), data["command"]
            )
        except (ValueError, KeyError, TypeError):
            return None


class RunLock:
    """The held lock of one run folder; :attr:`previous` names a dead holder it replaced."""

    def __init__(self, handle: IO[str], previous: Holder | None) -> None:
        self._handle: IO[str] | None = handle
        self.previous = previous

    @classmethod
    def acquire(cls, folder: Path, command: str) -> RunLock:
        """Take the lock of ``folder``, or raise :class:`JournalError` naming its holder."""
        handle = open(folder / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - held
        handle.seek(0)
        recorded = Holder.parse(handle.read())
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            who = recorded.describe() if recorded else "another ivr-migrate process"
            raise JournalError(
                f"the run in {folder} is in use by {who}: wait for it to finish, or stop it"
            ) from None
        me = Holder(socket.gethostname(), os.getpid(), time.time(), command)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(me.__dict__) + "\n")
        handle.flush()
        return cls(handle, recorded)

    def release(self) -> None:
        """Empty the file (no dead pid stays behind) and let the lock go."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            handle.seek(0)
            handle.truncate()
            handle.flush()
        except OSError:
            pass  # a full disk cannot stop the release; the flock goes with the close
        handle.close()
