"""The inventory's files: pandas tables, CSVs, inventory.xlsx and the starter rules sheet.

Every value comes from the account and goes through :func:`migrate.reports.safety.text` (cut
when long); the CSV writer neutralises formula-looking cells and the workbook stores text cells.
A missing value is an empty cell, never a placeholder such as ``-`` (which a CSV would then
have to prefix as ``'-``). Cells listing scenarios are capped (an Excel cell holds at most
32,767 characters); inventory-uses.csv has one row per use and is never capped.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Final

import pandas as pd

from migrate.inventory import CATEGORIES, HOSTS, SENDERS, VOICES, Inventory, Usage
from migrate.reports.safety import text
from migrate.reports.write import atomic_write, write_csv
from migrate.reports.xlsx import write_workbook

INVENTORY_CSV: Final = "inventory.csv"
INVENTORY_XLSX: Final = "inventory.xlsx"
USES_CSV: Final = "inventory-uses.csv"
STARTER_CSV: Final = "starter-rules.csv"
#: Scenario ids and names listed in one cell; the rest are counted and are in inventory-uses.csv.
MAX_LISTED: Final = 50
STARTER_COLUMNS: Final = ("#todo", "scenario_id", "rule", "old", "new", "find", "replace", "note")
#: How :func:`migrate.inventory.voice_key` writes a missing part of a voice.
MISSING_PART: Final = "-"
#: How a missing part of a voice reads in the ``value`` column (the part columns stay empty).
MISSING_LABEL: Final = "(none)"


def table_csv(category: str) -> str:
    """``inventory-senders.csv`` and so on."""
    return f"inventory-{category}.csv"


def scenarios_frame(inventory: Inventory) -> pd.DataFrame:
    """One row per scenario: identity, dates, action counts by kind."""
    kinds = inventory.kinds_present()
    records = [
        {
            "id": text(entry.id),
            "name": text(entry.name),
            "description": text(entry.description, 200),
            "last_used": text(entry.last_used),
            "created": text(entry.created),
            "last_updated": text(entry.updated),
            "actions": entry.actions,
            **{kind: entry.kinds.get(kind, 0) for kind in kinds},
        }
        for entry in inventory.scenarios
    ]
    columns = [
        "id",
        "name",
        "description",
        "last_used",
        "created",
        "last_updated",
        "actions",
        *kinds,
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def usage_frame(inventory: Inventory, category: str) -> pd.DataFrame:
    """One row per distinct value, most used first."""
    usages = sorted(
        inventory.tables[category].values(), key=lambda u: (-len(u.scenarios), -u.uses, u.value)
    )
    records = [_usage_record(usage) for usage in usages]
    columns = [
        "value",
        *(("language", "voice", "gender") if category == VOICES else ()),
        "literal",
        "scenarios",
        "uses",
        "used_as",
        "scenario_ids",
        "scenario_names",
        "example_path",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def _usage_record(usage: Usage) -> dict[str, Any]:
    record: dict[str, Any] = {
        "value": text(display_value(usage.category, usage.value)),
        "literal": "yes" if usage.literal else "no (built from variables)",
        "scenarios": len(usage.scenarios),
        "uses": usage.uses,
        "used_as": text("; ".join(f"{k} ×{n}" for k, n in usage.used_as.items())),
        "scenario_ids": text(_listed(list(usage.scenarios)), 10_000),
        "scenario_names": text(_listed(list(usage.scenarios.values())), 10_000),
        "example_path": text(usage.example_path),
    }
    if usage.category == VOICES:
        parts = [part if part != MISSING_PART else "" for part in usage.value.split(" / ")]
        language, voice, gender = [*parts, "", "", ""][:3]
        record.update(language=text(language), voice=text(voice), gender=text(gender))
    return record


def display_value(category: str, value: str) -> str:
    """A value as the tables show it: a voice's missing parts read ``(none)``, not ``-``."""
    if category != VOICES:
        return value
    parts = value.split(" / ")
    return " / ".join(MISSING_LABEL if part == MISSING_PART else part for part in parts)


def _listed(items: list[str]) -> str:
    shown = "; ".join(items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        shown += f"; … and {len(items) - MAX_LISTED} more (see {USES_CSV})"
    return shown


def uses_frame(inventory: Inventory) -> pd.DataFrame:
    """Every use of every value: category, value, scenario, field path."""
    names = {entry.id: entry.name for entry in inventory.scenarios}
    records = [
        {
            "category": use.category,
            "value": text(display_value(use.category, use.value)),
            "scenario_id": text(use.scenario_id),
            "scenario_name": text(names.get(use.scenario_id, "")),
            "path": text(use.path),
            "used_as": use.used_as,
        }
        for use in inventory.uses
    ]
    columns = ["category", "value", "scenario_id", "scenario_name", "path", "used_as"]
    return pd.DataFrame.from_records(records, columns=columns)


def starter_frame(inventory: Inventory) -> pd.DataFrame:
    """A rules sheet to fill in: one row per literal sender (sms-sender) and host (url).

    Every row leaves its new value empty. ``plan`` refuses a sheet with an empty required cell,
    naming the row and column, so a row nobody filled in can never run: the operator fills in
    the rows to change and deletes the others. ``#todo`` and ``note`` are ignored by ``plan``.
    """
    records: list[dict[str, str]] = []
    for usage in _literal(inventory, SENDERS):
        records.append(
            {
                "#todo": "write the new sender in 'new', or delete this row",
                "scenario_id": "*",
                "rule": "sms-sender",
                "old": text(usage.value),
                "note": text(
                    f"sender used by {_count(usage)}; new: 3-11 letters/digits or 3-14 digits. "
                    "plan refuses this sheet while 'new' is empty, so nothing runs unfilled"
                ),
            }
        )
    for usage in _literal(inventory, HOSTS):
        records.append(
            {
                "#todo": "write the new scheme://host in 'replace', or delete this row",
                "scenario_id": "*",
                "rule": "url",
                "find": text(usage.value),
                "note": text(
                    f"host used by {_count(usage)}; 'find' matches this text anywhere in Call "
                    "API, Play and notify URLs. plan refuses this sheet while 'replace' is empty"
                ),
            }
        )
    blank = dict.fromkeys(STARTER_COLUMNS, "")
    return pd.DataFrame.from_records(
        [blank | record for record in records], columns=list(STARTER_COLUMNS)
    )


def _literal(inventory: Inventory, category: str) -> list[Usage]:
    usages = [u for u in inventory.tables[category].values() if u.literal and u.value]
    return sorted(usages, key=lambda u: (-len(u.scenarios), u.value))


def _count(usage: Usage) -> str:
    scenarios = len(usage.scenarios)
    plural = "s" if scenarios != 1 else ""
    uses = f"{usage.uses} use{'s' if usage.uses != 1 else ''}"
    return f"{scenarios} scenario{plural} ({uses})"


def counts_frame(inventory: Inventory) -> pd.DataFrame:
    """The inventory in a few numbers."""
    rows: list[tuple[str, int]] = [
        ("scenarios", len(inventory.scenarios)),
        ("actions", sum(entry.actions for entry in inventory.scenarios)),
        ("scenarios without a script", sum(1 for e in inventory.scenarios if not e.has_script)),
    ]
    rows += [(f"distinct {c}", len(inventory.tables[c])) for c in CATEGORIES]
    return pd.DataFrame(rows, columns=["figure", "value"])


def kinds_frame(inventory: Inventory) -> pd.DataFrame:
    """Actions by kind over the whole account."""
    records = [
        {
            "kind": kind,
            "actions": sum(e.kinds.get(kind, 0) for e in inventory.scenarios),
            "scenarios": sum(1 for e in inventory.scenarios if kind in e.kinds),
        }
        for kind in inventory.kinds_present()
    ]
    return pd.DataFrame.from_records(records, columns=["kind", "actions", "scenarios"])


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    write_csv(frame, path)


def write_inventory(folder: Path | str, inventory: Inventory) -> list[Path]:
    """Write inventory.csv/.xlsx, one CSV per table, inventory-uses.csv and starter-rules.csv."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scenarios = scenarios_frame(inventory)
    tables = {category: usage_frame(inventory, category) for category in CATEGORIES}
    uses = uses_frame(inventory)
    starter = starter_frame(inventory)
    csvs = {
        INVENTORY_CSV: scenarios,
        **{table_csv(category): frame for category, frame in tables.items()},
        USES_CSV: uses,
        STARTER_CSV: starter,
    }
    written = []
    for name, frame in csvs.items():
        atomic_write(folder / name, functools.partial(_write_csv, frame))
        written.append(folder / name)
    sheets = {"scenarios": scenarios, **tables, "uses": uses, "starter-rules": starter}
    blocks = [("Counts", counts_frame(inventory)), ("Actions by kind", kinds_frame(inventory))]
    xlsx = folder / INVENTORY_XLSX
    atomic_write(
        xlsx,
        lambda tmp: write_workbook(tmp, sheets, title="ivr-migrate inventory", blocks=blocks),
    )
    written.append(xlsx)
    return written
