"""``ivr-migrate inventory``: what an account's scenarios hold, before anyone writes a rule.

:func:`build_inventory` is pure over scenario objects (as the search or a GET returns them);
:func:`take_inventory` pages through an account with the client and feeds it;
:func:`inventory_accounts` does it for several accounts at once (``--accounts``);
:func:`migrate.reports.inventory_tables.write_inventory` writes the tables
(``write_inventories``: those of several accounts into one folder).

Tables, one row per distinct value, each with the scenarios that use it and counts:

* ``senders``: ``sendSms.from``;
* ``hosts``: ``scheme://host`` of Call API ``request`` URLs and of the scenario ``notifyUrl``; a
  URL whose host is built from variables is listed by its literal prefix and flagged
  ``literal = false``;
* ``audio``: ``playFromUrl`` and the Dial ringback ``fileUrl`` URLs;
* ``numbers``: ``dial``, ``dialToMany[].number`` (and the classic comma-separated ``numbers``),
  ``options.senderId`` of both, and literal ``sendSms.to``;
* ``voices``: Say ``options.language`` / ``voice.name`` / ``voice.gender`` combinations.

Values built from variables (``${…}``) are listed too, marked ``literal = false``: no rule can
match them by value, and the starter sheet leaves them out.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from migrate.config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_READ_RATE,
    DEFAULT_TIMEOUT,
    Credentials,
    Rate,
)
from migrate.errors import ConfigError, Forbidden, TransportError, Unauthorized
from transforms.model import (
    ALL_KINDS,
    CALL_API,
    DIAL,
    DIAL_TO_MANY,
    PLAY,
    SAY,
    SEND_SMS,
    UNKNOWN,
    field_path,
    has_variable,
    walk,
)

SENDERS: Final = "senders"
HOSTS: Final = "hosts"
AUDIO: Final = "audio"
NUMBERS: Final = "numbers"
VOICES: Final = "voices"
#: Table names in output order.
CATEGORIES: Final = (SENDERS, HOSTS, AUDIO, NUMBERS, VOICES)

if TYPE_CHECKING:
    from migrate.accounts import AccountSpec

_URL_HEAD: Final = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/?#]*)")


@dataclass
class ScenarioEntry:
    """One scenario of the account: identity, dates, and how many actions of each kind."""

    id: str
    name: str
    description: str
    last_used: str
    created: str
    updated: str
    actions: int
    kinds: dict[str, int]
    has_script: bool


@dataclass
class Usage:
    """One distinct value of a category and where it is used."""

    category: str
    value: str
    literal: bool
    uses: int = 0
    used_as: dict[str, int] = field(default_factory=dict)
    #: scenario id → name, in order of first use.
    scenarios: dict[str, str] = field(default_factory=dict)
    example_path: str = ""


@dataclass(frozen=True)
class Use:
    """One place a value is used: the long table behind every usage count."""

    category: str
    value: str
    scenario_id: str
    path: str
    used_as: str


@dataclass
class Inventory:
    """Everything :func:`build_inventory` found."""

    scenarios: list[ScenarioEntry] = field(default_factory=list)
    tables: dict[str, dict[str, Usage]] = field(
        default_factory=lambda: {category: {} for category in CATEGORIES}
    )
    uses: list[Use] = field(default_factory=list)

    def values(self, category: str) -> list[str]:
        """The distinct values of a category, in order of first appearance."""
        return list(self.tables[category])

    def add(
        self, category: str, value: str, scenario: ScenarioEntry, path: str, used_as: str
    ) -> None:
        """Record one use of ``value``."""
        usage = self.tables[category].get(value)
        if usage is None:
            usage = Usage(category, value, literal=not has_variable(value), example_path=path)
            self.tables[category][value] = usage
        usage.uses += 1
        usage.used_as[used_as] = usage.used_as.get(used_as, 0) + 1
        usage.scenarios.setdefault(scenario.id, scenario.name)
        self.uses.append(Use(category, value, scenario.id, path, used_as))

    def kinds_present(self) -> list[str]:
        """Action kinds found in any scenario, in catalogue order (unknown last)."""
        seen = {kind for entry in self.scenarios for kind in entry.kinds}
        return [k for k in (*ALL_KINDS, UNKNOWN) if k in seen]


def build_inventory(scenarios: Iterable[Mapping[str, Any]]) -> Inventory:
    """Walk every scenario and collect the tables."""
    inventory = Inventory()
    for scenario in scenarios:
        add_scenario(inventory, scenario)
    return inventory


def add_scenario(inventory: Inventory, scenario: Mapping[str, Any]) -> None:
    """Add one scenario object (search item or GET answer) to ``inventory``."""
    script = scenario.get("script")
    kinds: dict[str, int] = {}
    found = list(walk(script))
    for located in found:
        kinds[located.kind] = kinds.get(located.kind, 0) + 1
    entry = ScenarioEntry(
        id=_text(scenario.get("id")),
        name=_text(scenario.get("name")),
        description=_text(scenario.get("description")),
        last_used=_text(scenario.get("lastUsageDate")),
        created=_text(scenario.get("createTime")),
        updated=_text(scenario.get("updateTime")),
        actions=len(found),
        kinds=kinds,
        has_script=isinstance(script, list),
    )
    inventory.scenarios.append(entry)
    notify = scenario.get("notifyUrl")
    if isinstance(notify, str) and notify:
        inventory.add(HOSTS, url_host(notify), entry, "notifyUrl", "notifyUrl")
    for located in found:
        action = located.action
        if isinstance(action, dict):
            for category, value, path, used_as in _values(located.kind, located.path, action):
                inventory.add(category, value, entry, path, used_as)


def _values(kind: str, path: str, action: dict[str, Any]) -> Iterable[tuple[str, str, str, str]]:
    """``(category, value, field path, used as)`` for every interesting field of one action."""
    options = action.get("options") if isinstance(action.get("options"), dict) else {}
    assert isinstance(options, dict)
    if kind == SEND_SMS and isinstance(action.get(SEND_SMS), dict):
        sms = action[SEND_SMS]
        if _filled(sms.get("from")):
            yield SENDERS, sms["from"], field_path(path, SEND_SMS, "from"), "sendSms.from"
        if _filled(sms.get("to")) and not has_variable(sms["to"]):
            yield NUMBERS, sms["to"], field_path(path, SEND_SMS, "to"), "sendSms.to"
    elif kind == CALL_API and _filled(action.get(CALL_API)):
        yield HOSTS, url_host(action[CALL_API]), field_path(path, CALL_API), "request"
    elif kind == PLAY and _filled(action.get(PLAY)):
        yield AUDIO, action[PLAY], field_path(path, PLAY), "playFromUrl"
    elif kind == DIAL:
        yield from _dial(path, action, options)
    elif kind == DIAL_TO_MANY:
        yield from _dial_to_many(path, action, options)
    elif kind == SAY:
        yield from _voice(path, options)


def _dial(
    path: str, action: dict[str, Any], options: dict[str, Any]
) -> Iterable[tuple[str, str, str, str]]:
    if _filled(action.get(DIAL)):
        yield NUMBERS, action[DIAL], field_path(path, DIAL), "dial"
    if _filled(options.get("senderId")):
        yield NUMBERS, options["senderId"], field_path(path, "options", "senderId"), "senderId"
    ringback = options.get("customRingback")
    if isinstance(ringback, dict):
        for part in ("ringingAudio", "failedAudio"):
            audio = ringback.get(part)
            if isinstance(audio, dict) and _filled(audio.get("fileUrl")):
                where = field_path(path, "options", "customRingback", part, "fileUrl")
                yield AUDIO, audio["fileUrl"], where, f"{part}.fileUrl"


def _dial_to_many(
    path: str, action: dict[str, Any], options: dict[str, Any]
) -> Iterable[tuple[str, str, str, str]]:
    targets = action.get(DIAL_TO_MANY)
    for index, target in enumerate(targets if isinstance(targets, list) else []):
        if not isinstance(target, dict):
            continue
        if _filled(target.get("number")):
            where = field_path(path, DIAL_TO_MANY, index, "number")
            yield NUMBERS, target["number"], where, "dialToMany.number"
        if _filled(target.get("numbers")):
            where = field_path(path, DIAL_TO_MANY, index, "numbers")
            for number in target["numbers"].split(","):
                if number.strip():
                    yield NUMBERS, number.strip(), where, "dialToMany.numbers"
    if _filled(options.get("senderId")):
        yield NUMBERS, options["senderId"], field_path(path, "options", "senderId"), "senderId"


def _voice(path: str, options: dict[str, Any]) -> Iterable[tuple[str, str, str, str]]:
    voice = options.get("voice") if isinstance(options.get("voice"), dict) else {}
    assert isinstance(voice, dict)
    parts = [options.get("language"), voice.get("name"), voice.get("gender")]
    if any(_filled(p) for p in parts):
        yield VOICES, voice_key(*parts), field_path(path, "options"), "say.options"


def voice_key(language: Any, name: Any, gender: Any) -> str:
    """``en-gb / Brian / male``; a missing part is ``-``."""
    return " / ".join(p if _filled(p) else "-" for p in (language, name, gender))


def url_host(url: str) -> str:
    """``scheme://host[:port]`` of a URL; a URL built from variables keeps its literal head.

    ``https://crm.example/${id}`` → ``https://crm.example``;
    ``https://${host}/x`` → ``https://${host}``; ``${base}/x`` → ``${base}``.
    """
    match = _URL_HEAD.match(url)
    if match:
        return f"{match['scheme']}://{match['host']}"
    return re.split(r"[/?#]", url, maxsplit=1)[0]


def _filled(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class ScenarioSource(Protocol):
    """What :func:`take_inventory` needs of ``migrate.client.IvrClient``."""

    def iter_scenarios(self) -> AsyncIterator[dict[str, Any]]: ...

    async def get_scenario(self, scenario_id: str) -> dict[str, Any]: ...


async def take_inventory(
    client: ScenarioSource, *, progress: Callable[[int], None] | None = None
) -> Inventory:
    """Page through every scenario of the account (the client keeps to the read limit).

    A search item without its ``script`` (some API versions leave it out) is read again with a
    GET. ``progress`` is called with the number of scenarios seen so far.
    """
    inventory = Inventory()
    async for item in client.iter_scenarios():
        scenario = item
        if "script" not in item and item.get("id"):
            scenario = await client.get_scenario(str(item["id"]))
        add_scenario(inventory, scenario)
        if progress is not None:
            progress(len(inventory.scenarios))
    return inventory


def inventory_account(
    base_url: str,
    credentials: Credentials,
    *,
    read_rate: Rate = DEFAULT_READ_RATE,
    timeout: float = DEFAULT_TIMEOUT,
    connections: int = DEFAULT_CONCURRENCY,
    progress: Callable[[int], None] | None = None,
) -> Inventory:
    """Take the inventory of the account behind ``base_url`` (GET requests only)."""
    from migrate.client import IvrClient

    async def run() -> Inventory:
        async with IvrClient(
            base_url,
            credentials,
            timeout=timeout,
            connections=connections,
            read_rate=read_rate,
        ) as client:
            return await take_inventory(client, progress=progress)

    return asyncio.run(run())


def inventory_accounts(
    accounts: Sequence[AccountSpec],
    *,
    read_rate: Rate = DEFAULT_READ_RATE,
    timeout: float = DEFAULT_TIMEOUT,
    connections: int = DEFAULT_CONCURRENCY,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, Inventory]:
    """The inventories of several accounts, taken at once (GET requests only), by name.

    Each account reads at its own ``read_rate`` when the accounts file sets one, else at
    ``read_rate``. ``progress`` is called with an account's name and the number of its
    scenarios seen so far. Refused credentials or an unreachable host raise
    :class:`ConfigError` naming the account.
    """
    from migrate.client import IvrClient

    async def one(account: AccountSpec) -> Inventory:
        counted = None if progress is None else functools.partial(progress, account.name)
        if account.credentials is None:
            raise ConfigError(f"account {account.name!r} has no credentials")
        try:
            async with IvrClient(
                account.base_url,
                account.credentials,
                timeout=timeout,
                connections=connections,
                read_rate=account.read_rate or read_rate,
            ) as client:
                return await take_inventory(client, progress=counted)
        except (Unauthorized, Forbidden) as exc:
            raise ConfigError(
                f"account {account.name!r}: {account.base_url} refused its credentials (HTTP "
                f"{exc.status}); check the variable the accounts file names for it"
            ) from None
        except TransportError as exc:
            raise ConfigError(
                f"account {account.name!r}: cannot reach {account.base_url}: {exc.message}"
            ) from None

    async def run() -> dict[str, Inventory]:
        found = await asyncio.gather(*(one(account) for account in accounts))
        return {account.name: inventory for account, inventory in zip(accounts, found, strict=True)}

    return asyncio.run(run())
