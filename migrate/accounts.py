"""The accounts file: several Infobip accounts for one run, by name (``--accounts FILE``).

TOML, read with :mod:`tomllib`; found at ``./ivr-migrate.toml`` when ``--accounts`` is not given::

    [accounts.eu]
    base_url = "https://xxxxx.api.infobip.com"
    api_key_env = "EU_KEY"      # the credential is read from this variable, never stored here
    write_rate = "6/min"        # optional; default 6/min

    [accounts.us]
    base_url = "https://yyyyy.api.infobip.com"
    token_env = "US_TOKEN"      # or username_env and password_env (Basic)

A file that holds a secret value itself is refused, as are unknown keys, a missing variable, a
duplicate name, a bad URL or rate: one line naming the account and the fix, nothing sent.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from migrate.config import Credentials, Rate
from migrate.errors import ConfigError

#: Looked for in the working directory when ``--accounts`` is not given.
DEFAULT_ACCOUNTS_FILE: Final = "ivr-migrate.toml"
#: The name of the one account of a run made without an accounts file.
SINGLE_ACCOUNT: Final = ""

_CREDENTIAL_KEYS: Final = ("api_key_env", "token_env", "username_env", "password_env")
_KEYS: Final = frozenset({"base_url", "write_rate", "read_rate", *_CREDENTIAL_KEYS})
#: Key names that would hold a secret itself rather than the name of a variable holding it.
_SECRET_KEY: Final = re.compile(r"(key|token|password|passwd|secret|credential|auth)", re.I)
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class AccountSpec:
    """One account of the file: where it is, its credential (from the environment), its rates."""

    name: str
    base_url: str
    credentials: Credentials | None = field(repr=False)
    #: None: the file names no rate (``--write-rate``, else 6/min, applies).
    write_rate: Rate | None = None
    read_rate: Rate | None = None


def find_accounts_file(given: Path | None, cwd: Path | None = None) -> Path | None:
    """``given``, else ``./ivr-migrate.toml`` when it exists, else None (one account)."""
    if given is not None:
        if not given.is_file():
            raise ConfigError(f"--accounts {given}: no such file (write one as the README shows)")
        return given
    default = (cwd or Path.cwd()) / DEFAULT_ACCOUNTS_FILE
    return default if default.is_file() else None


def read_accounts(
    path: Path, env: Mapping[str, str] | None = None, *, credentials: bool = True
) -> dict[str, AccountSpec]:
    """The accounts of ``path`` in file order; :class:`ConfigError` (one line) for any problem.

    ``credentials=False`` checks the file but reads no variable (the embedded sandbox makes
    its own keys; ``check`` only needs the names)."""
    env = os.environ if env is None else env
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib names a duplicate table as well as a syntax error, with its line
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix that line") from None
    extra = sorted(set(data) - {"accounts"})
    if extra:
        raise ConfigError(f"{path}: unknown section {extra[0]!r}; only [accounts.NAME] tables")
    tables = data.get("accounts")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: no [accounts.NAME] table; name at least one account")
    accounts: dict[str, AccountSpec] = {}
    for name, table in tables.items():
        accounts[name] = _account(path, name, table, env, credentials)
    return accounts


def _account(
    path: Path, name: str, table: Any, env: Mapping[str, str], read_credentials: bool
) -> AccountSpec:
    where = f"{path}, account {name!r}"
    if not _NAME.match(name):
        raise ConfigError(f"{where}: use letters, digits, '-', '_' and '.' in account names")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: write it as a table [accounts.{name}] with base_url = …")
    for key, value in table.items():
        if key not in _KEYS:
            if _SECRET_KEY.search(key):
                raise ConfigError(
                    f"{where}: {key!r} would hold a secret in the file; put the secret in an "
                    f"environment variable and name it with api_key_env, token_env, or "
                    "username_env and password_env"
                )
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"{where}: unknown key {key!r}; the keys are {known}")
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a quoted string")
    base_url = table.get("base_url")
    if not base_url:
        raise ConfigError(f"{where}: base_url is missing (e.g. https://xxxxx.api.infobip.com)")
    from migrate.client import check_base_url

    try:
        check_base_url(base_url)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    credentials = _credentials(where, table, env, read_credentials)
    try:
        write_rate = Rate.parse(table["write_rate"]) if "write_rate" in table else None
        read_rate = Rate.parse(table["read_rate"]) if "read_rate" in table else None
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return AccountSpec(name, base_url.strip(), credentials, write_rate, read_rate)


def _credentials(
    where: str, table: Mapping[str, str], env: Mapping[str, str], read: bool
) -> Credentials | None:
    named = [key for key in _CREDENTIAL_KEYS if key in table]
    if not named:
        raise ConfigError(
            f"{where}: name the variable that holds its credential: api_key_env, token_env, or "
            "username_env and password_env"
        )
    for key in named:
        if not _ENV_NAME.match(table[key]):
            raise ConfigError(
                f"{where}: {key} must be the NAME of an environment variable, not a value"
            )
    if not read:
        return None
    values = {}
    for key in named:
        value = env.get(table[key], "")
        if not value.strip():
            raise ConfigError(f"{where}: the environment variable {table[key]} is not set")
        if any(ord(char) < 32 or ord(char) == 127 for char in value):
            raise ConfigError(
                f"{where}: {table[key]} holds a control character (a line break?); set it again"
            )
        values[key] = value.strip()
    if "api_key_env" in values and len(named) == 1:
        return Credentials.api_key(values["api_key_env"])
    if "token_env" in values and len(named) == 1:
        return Credentials.bearer(values["token_env"])
    if set(named) == {"username_env", "password_env"}:
        return Credentials.basic(values["username_env"], values["password_env"])
    raise ConfigError(
        f"{where}: name one credential: api_key_env, or token_env, or username_env and "
        "password_env together"
    )
