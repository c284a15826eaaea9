"""Third-party rules: read from the ``ivr_migrate.rules`` entry-point group, once per process.

The pure core (``transforms/``) never reads entry points: it takes a
:class:`~transforms.rules.base.Catalogue`. This module builds the catalogue a command uses, the
built-in rules plus every installed plugin's, the first time :func:`rule_catalogue` is called.

An entry point names a :class:`~transforms.rules.base.Rule`, a list or tuple of rules, or a
module whose top-level rules are taken (``@rule`` makes a function a rule)::

    [project.entry-points."ivr_migrate.rules"]
    shout = "ivr_migrate_shout:SHOUT"
    whisper = "ivr_migrate_shout"
"""

from __future__ import annotations

import functools
from importlib import metadata
from types import ModuleType
from typing import Final

from migrate.errors import ConfigError
from transforms.rules.base import Catalogue, Rule
from transforms.rules.catalogue import builtin_catalogue

ENTRY_POINT_GROUP: Final = "ivr_migrate.rules"


@functools.cache
def rule_catalogue() -> Catalogue:
    """The built-in rules plus every plugin's; entry points are read on the first call only."""
    rules = builtin_catalogue()
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found = _rules_of(entry, entry.load())
        try:
            rules = rules.extended(found)
        except ValueError as exc:
            raise ConfigError(
                f"plugin {entry.name!r} ({entry.value}): {exc}: rename its rule or uninstall it"
            ) from None
    return rules


def _rules_of(entry: metadata.EntryPoint, target: object) -> list[Rule]:
    if isinstance(target, Rule):
        return [target]
    if isinstance(target, ModuleType):
        return [value for value in vars(target).values() if isinstance(value, Rule)]
    if isinstance(target, list | tuple) and all(isinstance(item, Rule) for item in target):
        return list(target)
    raise ConfigError(
        f"plugin {entry.name!r} ({entry.value}) names {type(target).__name__}, not a rule, a "
        "list of rules or a module defining rules: fix its ivr_migrate.rules entry point"
    )
