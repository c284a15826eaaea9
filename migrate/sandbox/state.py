"""The sandbox's state behind the HTTP layer: store, accounts, limits, faults, log, clock.

Only the server's event loop touches it (``RunningSandbox`` hops onto the loop), so it needs no
locks.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Mapping
from typing import Any, Final

from migrate.sandbox.auth import Account, CredentialIndex
from migrate.sandbox.faults import FaultInjector
from migrate.sandbox.limits import SlidingWindow
from migrate.sandbox.requestlog import RequestLog
from migrate.sandbox.seeding import generate_clones, load_seed_dir, scenario_record
from migrate.sandbox.settings import SandboxConfig
from migrate.sandbox.store import (
    StoredScenario,
    compact_json,
    extra_json,
    format_time,
    open_store,
    parse_time,
)

READ: Final = "read"
WRITE: Final = "write"
#: Fields ``edit_scenario`` may not change; every other key may be set (``lastUsageDate`` too).
FIXED_FIELDS: Final = ("id", "createTime", "updateTime")


def _now_ms() -> int:
    return int(time.time() * 1000)


class SandboxState:
    """What one sandbox holds; built (and seeded) by ``create_app``."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.store = open_store(config.db_path)
        self.auth = CredentialIndex(config.accounts)
        self.faults = FaultInjector(config.faults)
        self.log = RequestLog(config.log_limit, config.on_request)
        self.stopping: asyncio.Event | None = None
        self._windows: dict[tuple[str, str], SlidingWindow] = {}
        self._id_rng = random.Random()
        try:
            self._seed()
            self._last_ms = self.store.latest_update_ms()
        except BaseException:
            self.store.close()
            raise

    def _seed(self) -> None:
        config = self.config
        sources: list[StoredScenario] | None = None
        for account in config.accounts:
            if not account.seeded or self.store.is_seeded(account.name):
                continue
            if sources is None:
                rng = random.Random(f"{config.random_seed}:seed")
                sources = (
                    load_seed_dir(config.seed_dir, rng=rng, now_ms=_now_ms())
                    if config.seed_dir is not None
                    else []
                )
            clones = generate_clones(
                sources,
                config.generate,
                rng=random.Random(f"{config.random_seed}:{account.name}"),
                taken={s.id for s in sources},
            )
            self.store.save_many(account.name, [*sources, *clones])
            self.store.mark_seeded(account.name)

    # -- limits ---------------------------------------------------------------------------

    def admit(self, account: Account, kind: str, now: float) -> float | None:
        """Count one arrival; None if within the limit, else seconds until a slot frees."""
        config = self.config
        rate = config.write_rate_of(account) if kind == WRITE else config.read_rate_of(account)
        if rate is None:
            return None
        window = self._windows.get((account.name, kind))
        if window is None:
            window = self._windows[(account.name, kind)] = SlidingWindow(rate)
        return window.admit(now)

    def reset_limits(self) -> None:
        self._windows.clear()

    # -- scenarios ------------------------------------------------------------------------

    def _next_update_ms(self, old: StoredScenario | None = None) -> int:
        """A timestamp later than every one given out before, and than ``old``'s last change."""
        floor = self._last_ms
        if old is not None:
            floor = max(floor, parse_time(old.update_time) if old.update_time else old.create_ms)
        self._last_ms = max(_now_ms(), floor + 1)
        return self._last_ms

    def _new_id(self, account: str) -> str:
        while True:
            scenario_id = secrets.token_hex(16).upper()
            if self.store.get(account, scenario_id) is None:
                return scenario_id

    def create(self, account: str, body: Mapping[str, Any]) -> StoredScenario:
        """Store a new scenario from a (validated) request body."""
        create_ms = _now_ms()
        record = _record(
            self._new_id(account),
            body,
            create_time=format_time(create_ms),
            create_ms=create_ms,
            update_time=None,
            last_usage_date=None,
        )
        self.store.save(account, record)
        return record

    def replace(
        self, account: str, scenario_id: str, body: Mapping[str, Any]
    ) -> StoredScenario | None:
        """Store a (validated) PUT body; None if the scenario is unknown.

        With ``config.put_replaces`` (the default, like the real API) the body replaces the
        whole scenario: a key it leaves out is gone. Otherwise its keys are merged into the
        stored ones, and a key left out keeps its stored value.
        """
        old = self.store.get(account, scenario_id)
        if old is None:
            return None
        if not self.config.put_replaces:
            body = old.writable() | dict(body)
        record = _record(
            scenario_id,
            body,
            create_time=old.create_time,
            create_ms=old.create_ms,
            update_time=format_time(self._next_update_ms(old)),
            last_usage_date=old.last_usage_date,
        )
        self.store.save(account, record)
        return record

    def edit(self, account: str, scenario_id: str, changes: Mapping[str, Any]) -> StoredScenario:
        """A portal edit: change some fields, bump ``updateTime``; no validation, no limits."""
        old = self.store.get(account, scenario_id)
        if old is None:
            raise KeyError(scenario_id)
        fixed = set(changes) & set(FIXED_FIELDS)
        if fixed:
            raise ValueError(f"cannot edit {', '.join(sorted(fixed))}")
        merged = old.to_dict() | dict(changes)
        if not isinstance(merged.get("name"), str) or "script" not in merged:
            raise ValueError("a scenario needs a string name and a script")
        record = _record(
            scenario_id,
            merged,
            create_time=old.create_time,
            create_ms=old.create_ms,
            update_time=format_time(self._next_update_ms(old)),
            last_usage_date=merged.get("lastUsageDate"),
        )
        self.store.save(account, record)
        return record

    def add(self, account: str, body: Mapping[str, Any]) -> StoredScenario:
        """Store a full scenario object as is (its id and timestamps kept when present)."""
        record = scenario_record(body, rng=self._id_rng, now_ms=_now_ms())
        self.store.save(account, record)
        return record

    def close(self) -> None:
        self.store.close()


def _record(
    scenario_id: str,
    body: Mapping[str, Any],
    *,
    create_time: str,
    create_ms: int,
    update_time: str | None,
    last_usage_date: str | None,
) -> StoredScenario:
    description = body.get("description")
    return StoredScenario(
        id=scenario_id,
        name=str(body["name"]),
        description=description if isinstance(description, str) else None,
        create_time=create_time,
        update_time=update_time,
        last_usage_date=last_usage_date,
        script=compact_json(body["script"]),
        extra=extra_json(body),
        create_ms=create_ms,
    )
