"""Glue for ``ivr-migrate sandbox``: options to a ``SandboxConfig``, and the start-up banner."""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

from migrate.config import ENV_API_KEY, ENV_BASE_URL, Rate
from migrate.errors import ConfigError
from migrate.sandbox.app import API_ROOT
from migrate.sandbox.auth import Account
from migrate.sandbox.faults import DEFAULT_HUGE_BODY_BYTES, DEFAULT_NESTED_DEPTH, Faults
from migrate.sandbox.requestlog import LogEntry
from migrate.sandbox.runner import RunningSandbox
from migrate.sandbox.seeding import bundled_seed_dir
from migrate.sandbox.settings import DEFAULT_ACCOUNT, SandboxConfig

#: The CLI keeps the newest entries only, so a long rehearsal does not grow without bound.
CLI_LOG_LIMIT: Final = 10_000
_UNLIMITED: Final = ("none", "off", "unlimited", "0")


def parse_rate(text: str) -> Rate | None:
    """``6/60s`` and friends, or ``none`` for no limit."""
    return None if text.strip().lower() in _UNLIMITED else Rate.parse(text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _split(option: str, value: str, form: str) -> tuple[str, str]:
    name, sep, secret = value.partition("=")
    if not sep or not name or not secret:
        raise ConfigError(f"{option}: write it as {form}")
    return name, secret


def parse_accounts(
    keys: Iterable[str], basics: Iterable[str], tokens: Iterable[str]
) -> tuple[Account, ...]:
    """Accounts from ``--key NAME=SECRET``, ``--basic NAME=USER:PASSWORD``, ``--token NAME=T``.

    The first account named becomes the default one.
    """
    names: list[str] = []
    api_keys: dict[str, list[str]] = {}
    basic: dict[str, list[tuple[str, str]]] = {}
    bearer: dict[str, list[str]] = {}

    def add(name: str) -> str:
        if name not in names:
            names.append(name)
        return name

    for value in keys:
        name, secret = _split("--key", value, "NAME=SECRET")
        api_keys.setdefault(add(name), []).append(secret)
    for value in basics:
        name, pair = _split("--basic", value, "NAME=USER:PASSWORD")
        user, sep, password = pair.partition(":")
        if not sep or not user or not password:
            raise ConfigError("--basic: write it as NAME=USER:PASSWORD")
        basic.setdefault(add(name), []).append((user, password))
    for value in tokens:
        name, token = _split("--token", value, "NAME=TOKEN")
        bearer.setdefault(add(name), []).append(token)
    return tuple(
        Account(
            name,
            api_keys=tuple(api_keys.get(name, ())),
            basic=tuple(basic.get(name, ())),
            tokens=tuple(bearer.get(name, ())),
        )
        for name in names
    )


def parse_error_rates(values: Iterable[str]) -> dict[int, float]:
    rates: dict[int, float] = {}
    for value in values:
        status, sep, rate = value.partition("=")
        try:
            if not sep:
                raise ValueError
            rates[int(status)] = float(rate)
        except ValueError:
            raise ConfigError(
                f"--error-rate {value!r}: write it as STATUS=RATE, e.g. 503=0.05"
            ) from None
    return rates


def build_config(
    *,
    seed_dir: Path | None,
    no_seed: bool,
    db_path: Path | None,
    write_rate: str,
    read_rate: str,
    keys: Iterable[str] = (),
    basics: Iterable[str] = (),
    tokens: Iterable[str] = (),
    generate: int = 0,
    latency_ms: float = 0.0,
    error_rates: Iterable[str] = (),
    hang_rate: float = 0.0,
    drop_before_rate: float = 0.0,
    drop_after_rate: float = 0.0,
    hold_before_rate: float = 0.0,
    hold_after_rate: float = 0.0,
    nested_rate: float = 0.0,
    nested_depth: int | None = None,
    huge_rate: float = 0.0,
    huge_body_bytes: int | None = None,
    fault_methods: str | None = None,
    retry_after: bool = False,
    put_replaces: bool = True,
    on_request: Callable[[LogEntry], None] | None = None,
) -> SandboxConfig:
    """The config of ``ivr-migrate sandbox``'s options; None sizes keep ``Faults``' defaults."""
    if no_seed and seed_dir is not None:
        raise ConfigError("--seed and --no-seed exclude each other")
    methods = None
    if fault_methods:
        methods = frozenset(m.strip().upper() for m in fault_methods.split(",") if m.strip())
    faults = Faults(
        error_rates=parse_error_rates(error_rates),
        latency_ms=latency_ms,
        hang_rate=hang_rate,
        drop_before_rate=drop_before_rate,
        drop_after_rate=drop_after_rate,
        hold_before_rate=hold_before_rate,
        hold_after_rate=hold_after_rate,
        nested_rate=nested_rate,
        nested_depth=nested_depth or DEFAULT_NESTED_DEPTH,
        huge_rate=huge_rate,
        huge_body_bytes=huge_body_bytes or DEFAULT_HUGE_BODY_BYTES,
        methods=methods,
    )
    return SandboxConfig(
        accounts=parse_accounts(keys, basics, tokens),
        write_rate=parse_rate(write_rate),
        read_rate=parse_rate(read_rate),
        seed_dir=None if no_seed else (seed_dir or bundled_seed_dir()),
        db_path=db_path,
        generate=generate,
        faults=faults,
        retry_after=retry_after,
        put_replaces=put_replaces,
        log_limit=CLI_LOG_LIMIT,
        on_request=on_request,
    )


def banner(sandbox: RunningSandbox, *, key_generated: bool) -> list[str]:
    """What the command prints once it listens: URL, accounts, limits, how to connect."""
    config = sandbox.config
    url = sandbox.base_url
    writes = str(config.write_rate) if config.write_rate else "unlimited"
    reads = str(config.read_rate) if config.read_rate else "unlimited"
    lines = [f"IVR sandbox listening on {url}"]
    for account in config.accounts:
        schemes = [
            label
            for label, present in (
                ("App", account.api_keys),
                ("Basic", account.basic),
                ("Bearer/IBSSO", account.tokens),
            )
            if present
        ]
        count = sandbox.scenario_count(account=account.name)
        lines.append(f"  account {account.name}: {count} scenarios, auth {', '.join(schemes)}")
    lines.append(f"  limits per account: writes {writes}, reads {reads}")
    if config.faults.active:
        lines.append(f"  faults: {config.faults.to_json()}")
    if config.db_path:
        lines.append(f"  storage: {config.db_path}")
    if key_generated:
        key = sandbox.api_key
        lines += [
            "",
            "Connect with:",
            f"  export {ENV_BASE_URL}={url} {ENV_API_KEY}={key}",
            f"  curl -H {shlex.quote('Authorization: App ' + key)} {url}{API_ROOT}",
        ]
    elif config.default_account.api_keys:
        lines += ["", f"Connect with: export {ENV_BASE_URL}={url} {ENV_API_KEY}=<your --key>"]
    lines += ["", "Press Ctrl-C to stop."]
    return lines


def describe_entry(entry: LogEntry) -> str:
    """One request as a log line (never the credentials: the log holds none)."""
    status = entry.status if entry.status is not None else "---"
    account = entry.account or "-"
    return f"{entry.method} {entry.path} {status} {entry.outcome} account={account}"


__all__ = [
    "DEFAULT_ACCOUNT",
    "banner",
    "build_config",
    "describe_entry",
    "is_loopback",
    "parse_accounts",
    "parse_rate",
]
