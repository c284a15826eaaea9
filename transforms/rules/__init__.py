"""The rule machinery: named, documented, pure rules over scenarios, used through a catalogue.

The built-in rules are in :mod:`transforms.rules.catalogue` (``builtin_catalogue()``); it is not
imported here, so that importing the machinery stays cheap.
"""

from transforms.rules.base import (
    Catalogue,
    Change,
    Param,
    ParamError,
    Rule,
    RuleResult,
    apply_rule,
    apply_rules,
    rule,
)

__all__ = [
    "Catalogue",
    "Change",
    "Param",
    "ParamError",
    "Rule",
    "RuleResult",
    "apply_rule",
    "apply_rules",
    "rule",
]
