"""Accounts and the four authentication schemes of the IVR API (reference §1).

A credential belongs to exactly one account. ``App <key>`` matches an API key, ``Basic`` a
username and password, ``Bearer`` and ``IBSSO`` a token. Secrets never appear in reprs.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field

from migrate.config import (
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_PASSWORD,
    ENV_TOKEN,
    ENV_USERNAME,
    Credentials,
    Rate,
)
from migrate.errors import ConfigError


@dataclass(frozen=True)
class Account:
    """One account: its credentials, its own scenarios and its own limits."""

    name: str
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    #: ``(username, password)`` pairs for ``Basic``.
    basic: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: Tokens accepted as ``Bearer`` and as ``IBSSO``.
    tokens: tuple[str, ...] = field(default=(), repr=False)
    #: None: the sandbox's ``write_rate``.
    write_rate: Rate | None = None
    #: None: the sandbox's ``read_rate``.
    read_rate: Rate | None = None
    #: Whether the account starts with the seed scenarios (and the generated ones).
    seeded: bool = True
    #: Writes answer 403 FORBIDDEN (a key without the ``ivr:manage`` scope).
    read_only: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_keys", tuple(self.api_keys))
        object.__setattr__(self, "basic", tuple((u, p) for u, p in self.basic))
        object.__setattr__(self, "tokens", tuple(self.tokens))
        if not self.name:
            raise ConfigError("an account needs a name")
        if not (self.api_keys or self.basic or self.tokens):
            raise ConfigError(f"account {self.name!r} has no credentials")
        for secret in (*self.api_keys, *self.tokens):
            if not secret or any(c.isspace() for c in secret):
                raise ConfigError(f"account {self.name!r}: a key or token is empty or has spaces")
        for username, _ in self.basic:
            if not username or ":" in username:
                raise ConfigError(f"account {self.name!r}: a Basic username is empty or has ':'")

    def credentials(self) -> Credentials:
        """Client credentials for this account: its first API key, else Basic, else Bearer."""
        if self.api_keys:
            return Credentials.api_key(self.api_keys[0])
        if self.basic:
            return Credentials.basic(*self.basic[0])
        return Credentials.bearer(self.tokens[0])


@dataclass(frozen=True)
class AccountEndpoint:
    """One account as a client sees it: the server's base URL and the account's credentials."""

    base_url: str
    #: Its secrets never show in reprs (``Account`` hides them).
    account: Account

    @property
    def name(self) -> str:
        return self.account.name

    @property
    def credentials(self) -> Credentials:
        """The account's first credential: API key, else Basic, else Bearer."""
        return self.account.credentials()

    def env(self) -> dict[str, str]:
        """The environment variables that point ``ivr-migrate`` at this account."""
        account = self.account
        env = {ENV_BASE_URL: self.base_url}
        if account.api_keys:
            env[ENV_API_KEY] = account.api_keys[0]
        elif account.basic:
            env[ENV_USERNAME], env[ENV_PASSWORD] = account.basic[0]
        else:
            env[ENV_TOKEN] = account.tokens[0]
        return env


class CredentialIndex:
    """Finds the account an ``Authorization`` header belongs to."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self._accounts: dict[tuple[str, str], Account] = {}
        for account in accounts:
            keys = [("app", key) for key in account.api_keys]
            keys += [("basic", f"{user}:{password}") for user, password in account.basic]
            keys += [("token", token) for token in account.tokens]
            for key in keys:
                other = self._accounts.setdefault(key, account)
                if other is not account:
                    raise ConfigError(
                        f"accounts {other.name!r} and {account.name!r} share a credential"
                    )

    def authenticate(self, header: str | None) -> Account | None:
        if not header:
            return None
        scheme, _, value = header.strip().partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if not value:
            return None
        if scheme == "basic":
            try:
                value = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self._accounts.get(("basic", value))
        if scheme in ("bearer", "ibsso"):
            return self._accounts.get(("token", value))
        if scheme == "app":
            return self._accounts.get(("app", value))
        return None
