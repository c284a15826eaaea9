"""Seed scenarios: a folder of scenario JSON files, and synthetic clones for benchmarks."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from migrate.errors import ConfigError
from migrate.sandbox.store import (
    StoredScenario,
    compact_json,
    extra_json,
    format_time,
    parse_time,
)

SCENARIO_ID: Final = re.compile(r"^[0-9A-F]{32}$")
#: Creation time of the first generated clone; clone ``i`` is created ``i`` seconds later.
GENERATED_EPOCH: Final = "2025-12-01T00:00:00.000+0000"


def bundled_seed_dir() -> Path:
    """The examples shipped inside the package (``migrate/seed/*.json``)."""
    return Path(__file__).resolve().parent.parent / "seed"


def new_scenario_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032X}"


def scenario_record(
    body: Mapping[str, Any], *, rng: random.Random, now_ms: int, source: str = "scenario"
) -> StoredScenario:
    """A stored record from a full scenario object, keeping its id and timestamps when present."""
    name = body.get("name")
    script = body.get("script")
    if not isinstance(name, str) or not isinstance(script, list):
        raise ConfigError(f"{source}: a scenario needs a string 'name' and a 'script' array")
    scenario_id = body.get("id") or new_scenario_id(rng)
    if not isinstance(scenario_id, str) or not SCENARIO_ID.match(scenario_id):
        raise ConfigError(f"{source}: id {scenario_id!r} is not 32 upper-case hex characters")
    try:
        create_ms = parse_time(body["createTime"]) if body.get("createTime") else now_ms
        update_time = body.get("updateTime")
        if update_time:
            parse_time(update_time)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: bad createTime/updateTime ({exc})") from exc
    description = body.get("description")
    return StoredScenario(
        id=scenario_id,
        name=name,
        description=description if isinstance(description, str) else None,
        create_time=body.get("createTime") or format_time(create_ms),
        update_time=update_time or None,
        last_usage_date=body.get("lastUsageDate") or None,
        script=compact_json(script),
        extra=extra_json(body),
        create_ms=create_ms,
    )


def load_seed_dir(folder: Path, *, rng: random.Random, now_ms: int) -> list[StoredScenario]:
    """Every scenario in ``folder/*.json`` (one object, or an array of objects, per file)."""
    if not folder.is_dir():
        raise ConfigError(f"seed folder {folder} does not exist or is not a folder")
    found: list[StoredScenario] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"cannot read seed file {path}: {exc}") from exc
        items = data if isinstance(data, list) else [data]
        for index, item in enumerate(items):
            where = f"{path}" if len(items) == 1 else f"{path}[{index}]"
            if not isinstance(item, dict):
                raise ConfigError(f"{where}: expected a scenario object")
            record = scenario_record(item, rng=rng, now_ms=now_ms, source=where)
            if record.id in seen:
                raise ConfigError(f"{where}: duplicate scenario id {record.id}")
            seen.add(record.id)
            found.append(record)
    return found


def generate_clones(
    sources: Sequence[StoredScenario], count: int, *, rng: random.Random, taken: set[str]
) -> list[StoredScenario]:
    """``count`` copies of the sources in turn, with new ids and names like ``Name #0042``.

    Clones share their source's script text, so they cost little memory until rewritten.
    """
    if count <= 0:
        return []
    if not sources:
        raise ConfigError("cannot generate scenarios without seed scenarios to clone")
    width = max(4, len(str(count)))
    epoch = parse_time(GENERATED_EPOCH)
    clones: list[StoredScenario] = []
    for number in range(1, count + 1):
        source = sources[(number - 1) % len(sources)]
        scenario_id = new_scenario_id(rng)
        while scenario_id in taken:
            scenario_id = new_scenario_id(rng)
        taken.add(scenario_id)
        create_ms = epoch + number * 1000
        clones.append(
            StoredScenario(
                id=scenario_id,
                name=f"{source.name} #{number:0{width}d}",
                description=source.description,
                create_time=format_time(create_ms),
                update_time=None,
                last_usage_date=source.last_usage_date,
                script=source.script,
                extra=source.extra,
                create_ms=create_ms,
            )
        )
    return clones
