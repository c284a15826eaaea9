"""``inventory``: what the account's scenarios hold, printed with counts and written as files."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import click

from migrate.client import IvrClient
from migrate.commands.apicheck import scenario_api
from migrate.commands.connect import NetOptions
from migrate.commands.finish import say
from migrate.commands.hints import Hints
from migrate.config import DEFAULT_REPORTS_DIR
from migrate.engine import Connection
from migrate.engine.session import check_connection
from migrate.errors import ConfigError
from migrate.inventory import CATEGORIES, Inventory, take_inventory

#: Values printed per category, most used first; the files list them all.
SHOWN_PER_CATEGORY: Final = 8


def inventory_command(net: NetOptions, out: Path | None) -> None:
    """Page through the account (every account of the accounts file, at once), print what it
    holds, write the inventory files."""
    from migrate.reports.inventory_tables import INVENTORY_XLSX, STARTER_CSV, write_inventories

    net.precheck()
    folder = out or Path(DEFAULT_REPORTS_DIR) / time.strftime("inventory-%Y%m%d-%H%M%S")
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {folder} is not a folder: give a new or empty folder")

    def progress(name: str, seen: int) -> None:
        if not net.quiet and seen % 500 == 0:
            click.echo(f"{name + ': ' if name else ''}{seen} scenarios read", err=True)

    # --sandbox keeps its store in a scratch folder: an inventory is not a run.
    with (
        tempfile.TemporaryDirectory(prefix="ivr-migrate-inventory-") as scratch,
        net.connections(Path(scratch), new=True) as connections,
        scenario_api(connections[0]),
    ):
        inventories = asyncio.run(_inventories(connections, progress))
    paths = write_inventories(folder, inventories)
    totals: dict[str, dict[str, object]] = {}
    for name, inventory in inventories.items():
        distinct = {category: len(inventory.tables[category]) for category in CATEGORIES}
        actions = sum(entry.actions for entry in inventory.scenarios)
        say(
            net,
            f"{name + ': ' if name else ''}{len(inventory.scenarios)} scenarios, {actions} "
            "actions: " + ", ".join(f"{count} {category}" for category, count in distinct.items()),
        )
        for line in found_values(inventory):
            say(net, line)
        totals[name] = {"scenarios": len(inventory.scenarios), "actions": actions,
                        "distinct": distinct}  # fmt: skip
    starter = folder / STARTER_CSV
    say(net, f"inventory: {folder / INVENTORY_XLSX} (and inventory*.csv)")
    say(
        net,
        f"starter sheet: {starter}: fill in new values on the rows to change, delete the "
        f"others, then run: {Hints.of(net, connections[0]).plan_sheet(starter)}",
    )
    if net.as_json:
        summary: dict[str, object] = {"folder": str(folder), "files": [str(p) for p in paths]}
        if list(inventories) == [""]:
            summary.update(totals[""])
        else:
            summary["accounts"] = totals
        click.echo(json.dumps(summary, indent=2))


async def _inventories(
    connections: list[Connection], progress: Callable[[str, int], None]
) -> dict[str, Inventory]:
    """Every account's inventory, taken at once."""
    found = await asyncio.gather(*(_inventory(c, progress) for c in connections))
    return {c.account: inventory for c, inventory in zip(connections, found, strict=True)}


async def _inventory(connection: Connection, progress: Callable[[str, int], None]) -> Inventory:
    """Check the connection as a run does (one line for a wrong key, host or server), then
    page through every scenario."""
    async with IvrClient(
        connection.base_url,
        connection.credentials,
        timeout=connection.timeout,
        connections=connection.concurrency,
        read_rate=connection.read_rate,
    ) as client:
        try:
            await check_connection(client, connection.base_url)
        except ConfigError as exc:
            if connection.account:
                raise ConfigError(f"account {connection.account}: {exc}") from None
            raise
        return await take_inventory(
            client, progress=lambda seen: progress(connection.account, seen)
        )


def found_values(inventory: Inventory) -> list[str]:
    """Per category, its values with the number of scenarios using each, most used first."""
    lines = []
    for category in CATEGORIES:
        usages = sorted(
            inventory.tables[category].values(),
            key=lambda usage: (-len(usage.scenarios), usage.value),
        )
        if not usages:
            continue
        lines.append(f"{category}:")
        for usage in usages[:SHOWN_PER_CATEGORY]:
            count = len(usage.scenarios)
            variable = "" if usage.literal else " (built from variables)"
            lines.append(f"  {usage.value}  {count} scenario{'s' * (count != 1)}{variable}")
        if len(usages) > SHOWN_PER_CATEGORY:
            lines.append(f"  … and {len(usages) - SHOWN_PER_CATEGORY} more in the files")
    return lines
