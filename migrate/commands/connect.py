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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from migrate.accounts import AccountSpec, find_accounts_file, read_accounts
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
    #: ``--accounts FILE`` (else ``./ivr-migrate.toml`` when it exists): several accounts.
    accounts: Path | None = None
    #: ``--account NAME``: only that account of a run over several.
    only_account: str | None = None

    def accounts_file(self) -> Path | None:
        """The accounts file of this invocation, if any."""
        return find_accounts_file(self.accounts)

    def account_specs(self) -> dict[str, AccountSpec] | None:
        """The accounts of the accounts file (their credentials read unless --sandbox), or
        None for a run over one account."""
        path = self.accounts_file()
        if path is None:
            if self.only_account is not None:
                raise ConfigError(
                    f"--account {self.only_account}: this needs the accounts file (--accounts)"
                )
            return None
        specs = read_accounts(path, credentials=not self.sandbox)
        for spec in specs.values():
            if spec.credentials is not None:
                check_header_value(spec.credentials)
        if self.only_account is not None:
            if self.only_account not in specs:
                raise ConfigError(f"--account {self.only_account}: {path} names {', '.join(specs)}")
            specs = {self.only_account: specs[self.only_account]}
        return specs

    def precheck(self) -> None:
        """What can be checked before a run folder is made: rates, credentials, base URL."""
        for text in (self.write_rate, self.read_rate):
            if text:
                Rate.parse(text)
        if self.sandbox_seed is not None and not self.sandbox:
            raise ConfigError(
                f"--sandbox-seed {self.sandbox_seed} seeds the embedded sandbox: add --sandbox"
            )
        if self.account_specs() is not None:
            return
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
        """The one :class:`Connection` of a run over one account (see :meth:`connections`)."""
        with self.connections(run_dir, new=new, base_url=base_url) as found:
            yield found[0]

    @contextmanager
    def connections(
        self, run_dir: Path, *, new: bool, base_url: str | None = None
    ) -> Iterator[list[Connection]]:
        """One :class:`Connection` per account of this run (one, without an accounts file);
        with --sandbox, the embedded sandbox serves meanwhile."""
        write_rate = Rate.parse(self.write_rate) if self.write_rate else None
        read_rate = Rate.parse(self.read_rate) if self.read_rate else None
        specs = self.account_specs()
        if specs is not None:
            with self._accounts(run_dir, specs, new=new, write=write_rate, read=read_rate) as found:
                yield found
            return
        with self._one(
            run_dir, new=new, base_url=base_url, write=write_rate, read=read_rate
        ) as one:
            yield [one]

    @contextmanager
    def _accounts(
        self,
        run_dir: Path,
        specs: dict[str, AccountSpec],
        *,
        new: bool,
        write: Rate | None,
        read: Rate | None,
    ) -> Iterator[list[Connection]]:
        if not self.sandbox:
            from migrate.client import normalise_base_url

            yield [
                Connection(
                    normalise_base_url(spec.base_url),
                    spec.credentials or Credentials.from_env(),
                    read_rate=spec.read_rate or read or DEFAULT_READ_RATE,
                    write_rate=spec.write_rate or write or DEFAULT_WRITE_RATE,
                    concurrency=self.concurrency,
                    timeout=self.timeout,
                    account=name,
                )
                for name, spec in specs.items()
            ]
            return
        names = list(specs)
        with embedded_sandbox(run_dir, self.sandbox_seed, new=new, accounts=names) as (url, keys):
            yield [
                Connection(
                    url,
                    Credentials.api_key(keys[name]),
                    read_rate=read or SANDBOX_READ_RATE,
                    write_rate=write or SANDBOX_WRITE_RATE,
                    concurrency=self.concurrency,
                    timeout=self.timeout,
                    target=f"{SANDBOX_TARGET}:{name}",
                    account=name,
                )
                for name in names
            ]

    @contextmanager
    def _one(
        self,
        run_dir: Path,
        *,
        new: bool,
        base_url: str | None,
        write: Rate | None,
        read: Rate | None,
    ) -> Iterator[Connection]:
        write_rate, read_rate = write, read
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
        with embedded_sandbox(run_dir, self.sandbox_seed, new=new) as (url, keys):
            yield Connection(
                url,
                Credentials.api_key(keys[""]),
                read_rate=read_rate or SANDBOX_READ_RATE,
                write_rate=write_rate or SANDBOX_WRITE_RATE,
                concurrency=self.concurrency,
                timeout=self.timeout,
                target=SANDBOX_TARGET,
            )


def is_sandbox_target(target: str) -> bool:
    """A run planned against the embedded sandbox (``sandbox``, or ``sandbox:NAME`` per account)."""
    return target == SANDBOX_TARGET or target.startswith(SANDBOX_TARGET + ":")


def where(connection: Connection | Sequence[Connection]) -> str:
    """The account a confirmation names: its base URL, or the embedded sandbox; the accounts
    by name in a run over several."""
    if isinstance(connection, Connection):
        connections: Sequence[Connection] = [connection]
    else:
        connections = connection
    first = connections[0]
    sandbox = is_sandbox_target(first.target)
    if len(connections) > 1 or first.account:
        names = ", ".join(c.account for c in connections)
        return f"{SANDBOX_NAME} (accounts {names})" if sandbox else f"accounts {names}"
    return SANDBOX_NAME if sandbox else first.base_url


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
    run_dir: Path,
    seed_dir: Path | None = None,
    *,
    new: bool,
    accounts: Sequence[str] = (),
) -> Iterator[tuple[str, dict[str, str]]]:
    """Serve the run's sandbox; yields ``(base_url, {account name: api key})``.

    ``new``: a run being planned (seeded from ``seed_dir`` or the bundled examples); otherwise
    the run's existing ``sandbox.sqlite`` is reopened as it was left. ``accounts``: one sandbox
    account per name, each with its own scenarios and write window (else one, named "").
    """
    from migrate.sandbox import SandboxConfig, bundled_seed_dir, start_sandbox
    from migrate.sandbox.accounts import named_accounts

    db_path = run_dir / SANDBOX_DB
    if not new and not db_path.is_file():
        raise ConfigError(f"{run_dir} has no {SANDBOX_DB}: it was not planned with --sandbox")
    if seed_dir is not None and not seed_dir.is_dir():
        raise ConfigError(f"--sandbox-seed {seed_dir}: not a folder of scenario JSON files")
    config = SandboxConfig(
        accounts=named_accounts(accounts) if accounts else (),
        write_rate=SANDBOX_WRITE_RATE,
        read_rate=None,
        seed_dir=seed_dir or bundled_seed_dir(),
        db_path=db_path,
    )
    with start_sandbox(config) as sandbox:
        if not accounts:
            yield sandbox.base_url, {"": sandbox.api_key}
            return
        keys = {a.name: a.api_keys[0] for a in config.accounts}
        yield sandbox.base_url, keys
