"""The sandbox's configuration: accounts, limits, storage, seed and faults."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from migrate.config import DEFAULT_WRITE_RATE, Rate
from migrate.errors import ConfigError
from migrate.sandbox.auth import Account
from migrate.sandbox.faults import Faults
from migrate.sandbox.requestlog import LogEntry
from migrate.sandbox.seeding import bundled_seed_dir

DEFAULT_ACCOUNT: Final = "demo"
#: aiohttp's ``client_max_size``: bigger bodies get 413.
DEFAULT_MAX_BODY: Final = 2 * 1024 * 1024


def demo_account() -> Account:
    """The account used when none is configured, with a fresh random API key."""
    return Account(DEFAULT_ACCOUNT, api_keys=(secrets.token_hex(16),))


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox needs. The first account is the default one.

    ``write_rate`` and ``read_rate`` are per account (an account may set its own); None means
    unlimited. Writes are PUT, POST and DELETE; reads are GET (and HEAD).
    """

    #: Empty: one account ``demo`` with a random API key (secrets.token_hex).
    accounts: tuple[Account, ...] = ()
    write_rate: Rate | None = DEFAULT_WRITE_RATE
    read_rate: Rate | None = None
    #: Folder of scenario JSON files each seeded account starts with; None starts empty.
    seed_dir: Path | None = field(default_factory=bundled_seed_dir)
    #: None keeps scenarios in memory; a path keeps them in SQLite across restarts.
    db_path: Path | None = None
    #: Synthetic scenarios added to each seeded account (clones of the seed scenarios).
    generate: int = 0
    faults: Faults = field(default_factory=Faults)
    #: Send ``Retry-After`` with 429 (real Infobip documents none).
    retry_after: bool = False
    #: A PUT replaces the whole scenario, so a key the body leaves out is gone afterwards (the
    #: real API's behaviour). False merges the body into the stored scenario instead.
    put_replaces: bool = True
    #: Seed for generated ids, so benchmarks see the same scenarios every time.
    random_seed: int = 0
    #: Keep only the newest entries of the request log (PUT counts stay exact).
    log_limit: int | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    #: Called with every log entry, in the server's thread (e.g. to print requests).
    on_request: Callable[[LogEntry], None] | None = field(default=None, compare=False)
    #: Monotonic clock of the rate windows; tests may inject their own.
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    def __post_init__(self) -> None:
        accounts = tuple(self.accounts) or (demo_account(),)
        object.__setattr__(self, "accounts", accounts)
        names = [account.name for account in accounts]
        if len(set(names)) != len(names):
            raise ConfigError("account names must be unique")
        if self.generate < 0:
            raise ConfigError("generate must not be negative")
        if self.seed_dir is not None:
            object.__setattr__(self, "seed_dir", Path(self.seed_dir))
        if self.db_path is not None:
            object.__setattr__(self, "db_path", Path(self.db_path))

    @property
    def default_account(self) -> Account:
        return self.accounts[0]

    def account(self, name: str | None = None) -> Account:
        if name is None:
            return self.default_account
        for account in self.accounts:
            if account.name == name:
                return account
        raise ConfigError(f"no sandbox account named {name!r}")

    def write_rate_of(self, account: Account) -> Rate | None:
        return account.write_rate or self.write_rate

    def read_rate_of(self, account: Account) -> Rate | None:
        return account.read_rate or self.read_rate
