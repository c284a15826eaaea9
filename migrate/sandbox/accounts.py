"""Several named accounts on one sandbox, and how a client reaches each of them.

One server serves every account; the credentials pick the account. Each account has its own
scenarios (seeded alike, with the same ids) and its own rate windows::

    with start_accounts_sandbox(["eu", "us"], SandboxConfig(write_rate=Rate(6, 2))) as sandbox:
        eu = sandbox.endpoint("eu")
        client = IvrClient(eu.base_url, eu.credentials, ...)
        subprocess.run(["ivr-migrate", ...], env=os.environ | sandbox.endpoint("us").env())
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import replace

from migrate.config import Rate
from migrate.errors import ConfigError
from migrate.sandbox.auth import Account
from migrate.sandbox.runner import DEFAULT_HOST, RunningSandbox, start_sandbox
from migrate.sandbox.settings import SandboxConfig


def named_accounts(
    names: Iterable[str], *, write_rate: Rate | None = None, read_rate: Rate | None = None
) -> tuple[Account, ...]:
    """One account per name, each with a fresh random API key (and the sandbox's limits
    unless ``write_rate``/``read_rate`` are given)."""
    accounts = tuple(
        Account(name, api_keys=(secrets.token_hex(16),), write_rate=write_rate, read_rate=read_rate)
        for name in names
    )
    if not accounts:
        raise ConfigError("name at least one sandbox account")
    return accounts


def start_accounts_sandbox(
    names: Iterable[str],
    config: SandboxConfig | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
) -> RunningSandbox:
    """``start_sandbox`` with one account per name (random API keys) instead of ``config``'s.

    Every account is seeded from ``config.seed_dir`` and limited by ``config.write_rate``;
    ``sandbox.endpoint(name)`` gives each one's base URL and credentials.
    """
    base = config or SandboxConfig()
    return start_sandbox(replace(base, accounts=named_accounts(names)), host=host, port=port)
