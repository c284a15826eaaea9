"""From connection options to the engine's :class:`Connection`, with ``--sandbox`` wired in.

The engine never knows about the sandbox: for ``--sandbox`` this module starts the emulator
in-process for the run folder and hands the engine its loopback URL and a fresh API key, with
the target ``sandbox`` (the URL changes at every start). The sandbox keeps its scenarios in
``<run folder>/sandbox.sqlite``, so a later ``apply``, ``retry`` or ``rollback`` of the same run
with ``--sandbox`` finds them as the earlier command left them. Its write limit is compressed
(6 per 2 s instead of 6 per 60 s) so the demo takes seconds. A new run's sandbox is seeded from
``--sandbox-seed DIR``, or from the bundled examples.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from migrate.config import (
    DEFAULT_BASE_URL,
    DEFAULT_READ_RATE,
    DEFAULT_WRITE_RATE,
    Credentials,
    Rate,
)
from migrate.engine.options import Connection
from migrate.errors import ConfigError

SANDBOX_DB: Final = "sandbox.sqlite"
#: The target recorded for runs planned against the embedded sandbox.
SANDBOX_TARGET: Final = "sandbox"
#: How confirmations and messages name the embedded sandbox (its loopback port means nothing).
SANDBOX_NAME: Final = "the embedded sandbox"
#: The embedded sandbox's write limit, and the client's default write rate against it.
SANDBOX_WRITE_RATE: Final = Rate(6, 2.0)
#: Reads are not limited by the embedded sandbox; the client stays polite anyway.
SANDBOX_READ_RATE: Final = Rate(100, 1.0)


@dataclass(frozen=True)
class NetOptions:
    """The connection and output options of one invocation, as parsed."""

    base_url: str | None
    read_rate: str | None
    concurrency: int
    timeout: float
    sandbox: bool
    as_json: bool
    quiet: bool
    progress: bool | None
    #: ``None`` for the commands that only read (plan, inventory): they take no --write-rate.
    write_rate: str | None = None
    #: Only for the commands that start a new sandbox (plan, run, inventory).
    sandbox_seed: Path | None = None

    def precheck(self) -> None:
        """What can be checked before a run folder is made: rates, credentials, base URL."""
        for text in (self.write_rate, self.read_rate):
            if text:
                Rate.parse(text)
        if self.sandbox_seed is not None and not self.sandbox:
            raise ConfigError(
                f"--sandbox-seed {self.sandbox_seed} seeds the embedded sandbox: add --sandbox"
            )
        if not self.sandbox:
            check_header_value(Credentials.from_env())
            if self.base_url is not None:
                from migrate.client import check_base_url

                check_base_url(self.base_url)
        elif self.sandbox_seed is not None and not self.sandbox_seed.is_dir():
            raise ConfigError(
                f"--sandbox-seed {self.sandbox_seed}: not a folder of scenario JSON files"
            )

    @contextmanager
    def connect(
        self, run_dir: Path, *, new: bool, base_url: str | None = None
    ) -> Iterator[Connection]:
        """A :class:`Connection` for this run; with --sandbox, the sandbox serves meanwhile."""
        write_rate = Rate.parse(self.write_rate) if self.write_rate else None
        read_rate = Rate.parse(self.read_rate) if self.read_rate else None
        if not self.sandbox:
            from migrate.client import normalise_base_url

            yield Connection(
                normalise_base_url(base_url or self.base_url or DEFAULT_BASE_URL),
                Credentials.from_env(),
                read_rate=read_rate or DEFAULT_READ_RATE,
                write_rate=write_rate or DEFAULT_WRITE_RATE,
                concurrency=self.concurrency,
                timeout=self.timeout,
            )
            return
        with embedded_sandbox(run_dir, self.sandbox_seed, new=new) as (url, key):
            yield Connection(
                url,
                Credentials.api_key(key),
                read_rate=read_rate or SANDBOX_READ_RATE,
                write_rate=write_rate or SANDBOX_WRITE_RATE,
                concurrency=self.concurrency,
                timeout=self.timeout,
                target=SANDBOX_TARGET,
            )


def where(connection: Connection) -> str:
    """The account a confirmation names: its base URL, or the embedded sandbox."""
    return SANDBOX_NAME if connection.target == SANDBOX_TARGET else connection.base_url


#: Which variable holds the credential of each scheme (:meth:`Credentials.from_env`).
_CREDENTIAL_VARIABLES: Final = {
    "App": "INFOBIP_API_KEY",
    "Bearer": "INFOBIP_TOKEN",
    "IBSSO": "INFOBIP_IBSSO_TOKEN",
    "Basic": "INFOBIP_USERNAME or INFOBIP_PASSWORD",
}


def check_header_value(credentials: Credentials) -> None:
    """Refuse a credential that cannot travel in an HTTP header (a pasted line break, a tab, a
    non-ASCII letter) before anything is made or sent; the message never shows the value."""
    value = credentials.authorization()
    if value.isascii() and value.isprintable():
        return
    variable = _CREDENTIAL_VARIABLES.get(credentials.scheme, "the credential variable")
    raise ConfigError(
        f"{variable} holds a character an HTTP header cannot carry (a line break, a tab or a "
        "non-ASCII letter): set it to the credential alone"
    )


@contextmanager
def embedded_sandbox(
    run_dir: Path, seed_dir: Path | None = None, *, new: bool
) -> Iterator[tuple[str, str]]:
    """Serve the run's sandbox; yields ``(base_url, api_key)``.

    ``new``: a run being planned (seeded from ``seed_dir`` or the bundled examples); otherwise
    the run's existing ``sandbox.sqlite`` is reopened as it was left.
    """
    from migrate.sandbox import SandboxConfig, bundled_seed_dir, start_sandbox

    db_path = run_dir / SANDBOX_DB
    if not new and not db_path.is_file():
        raise ConfigError(f"{run_dir} has no {SANDBOX_DB}: it was not planned with --sandbox")
    if seed_dir is not None and not seed_dir.is_dir():
        raise ConfigError(f"--sandbox-seed {seed_dir}: not a folder of scenario JSON files")
    config = SandboxConfig(
        write_rate=SANDBOX_WRITE_RATE,
        read_rate=None,
        seed_dir=seed_dir or bundled_seed_dir(),
        db_path=db_path,
    )
    with start_sandbox(config) as sandbox:
        yield sandbox.base_url, sandbox.api_key
