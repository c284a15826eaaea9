"""The rule catalogue: named, documented, pure rules over scenarios."""

from transforms.rules.base import (
    Change,
    Param,
    ParamError,
    Rule,
    RuleResult,
    all_rules,
    apply_rule,
    apply_rules,
    get_rule,
    rule,
    suggest_rule,
)

__all__ = [
    "Change",
    "Param",
    "ParamError",
    "Rule",
    "RuleResult",
    "all_rules",
    "apply_rule",
    "apply_rules",
    "get_rule",
    "rule",
    "suggest_rule",
]
