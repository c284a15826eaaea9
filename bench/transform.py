"""Rule engine throughput: scenarios per second through three rules and the validator (pure CPU).

ivr-migrate: ``transforms.rules.apply_rules`` with three rules (sms-sender, say-text, url) and
``transforms.validate.validate_scenario`` on the result, for each bundled example scenario
(``migrate/seed/*.json``). Baseline: ``copy.deepcopy`` plus ``json.dumps`` of the same
scenarios, the least a tool that edits a copy and sends it must do.

Both sides run in this process, alternating in rounds, and each keeps its best round (the one
least disturbed by other work on the machine).

    .venv/bin/python bench/transform.py [--quick]
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections.abc import Callable
from typing import Any

from _common import SEED_DIR, emit, ratio, table

from transforms.rules.base import Rule, apply_rules
from transforms.rules.catalogue import builtin_catalogue
from transforms.validate import validate_scenario

#: Three rules a real migration combines; each finds something to change in some examples.
RULES: list[tuple[str, dict[str, str]]] = [
    ("sms-sender", {"new": "NewBrand"}),
    ("say-text", {"find": "Please", "replace": "Kindly"}),
    ("url", {"find": "https://", "replace": "https://eu-"}),
]


def converted_steps() -> list[tuple[Rule, dict[str, Any]]]:
    """The sheet cells above turned into typed params, as the sheet reader does."""
    steps = []
    for name, raw in RULES:
        rule = builtin_catalogue()[name]
        params = {}
        for key, value in raw.items():
            param = rule.param(key)
            assert param is not None, f"{name} has no parameter {key}"
            params[key] = param.convert(value)
        steps.append((rule, params))
    return steps


def load_scenarios() -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(SEED_DIR.glob("*.json"))
    ]


def best_rate(work: Callable[[], int], seconds: float, rounds: int) -> tuple[float, int]:
    """Scenarios per second of the best of ``rounds`` rounds of about ``seconds`` each."""
    best = 0.0
    total = 0
    for _ in range(rounds):
        done = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            done += work()
        best = max(best, done / elapsed)
        total += done
    return best, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short rounds")
    args = parser.parse_args()
    seconds, rounds = (0.2, 3) if args.quick else (1.0, 7)

    scenarios = load_scenarios()
    steps = converted_steps()
    changes_per_pass = 0
    invalid = 0
    for scenario in scenarios:
        result = apply_rules(scenario, steps)
        changes_per_pass += len(result.changes)
        invalid += bool(validate_scenario(result.scenario))

    def baseline() -> int:
        for scenario in scenarios:
            json.dumps(copy.deepcopy(scenario))
        return len(scenarios)

    def rules_and_validate() -> int:
        for scenario in scenarios:
            validate_scenario(apply_rules(scenario, steps).scenario)
        return len(scenarios)

    def rules_only() -> int:
        for scenario in scenarios:
            apply_rules(scenario, steps)
        return len(scenarios)

    def validate_only() -> int:
        for scenario in scenarios:
            validate_scenario(scenario)
        return len(scenarios)

    sides = {
        "baseline: deepcopy + json.dumps": baseline,
        "ivr-migrate: 3 rules + validate": rules_and_validate,
        "  of which 3 rules (apply_rules)": rules_only,
        "  of which validate_scenario": validate_only,
    }
    best = {name: 0.0 for name in sides}
    # Alternate the sides in rounds so that a noisy moment does not favour one of them.
    for _ in range(rounds):
        for name, work in sides.items():
            rate, _ = best_rate(work, seconds, 1)
            best[name] = max(best[name], rate)

    base = best["baseline: deepcopy + json.dumps"]
    rows = [
        [name, f"{rate:,.0f}", f"{1e6 / rate:,.0f}", ratio(rate, base)]
        for name, rate in best.items()
    ]
    body = table(["pipeline", "scenarios/s", "µs/scenario", "vs baseline"], rows)
    notes = [
        f"{len(scenarios)} bundled example scenarios (migrate/seed/*.json), "
        f"{changes_per_pass} changes per pass over them, {invalid} invalid results; "
        f"best of {rounds} rounds of {seconds:g} s per side, sides alternating.",
        "rules: " + "; ".join(f"{n} {p}" for n, p in RULES),
        "No target in DESIGN §9: this shows what the rules and the validator cost per scenario "
        "next to the minimum (a copy and a serialisation).",
    ]
    emit("transform", "Rule engine throughput (pure CPU, one process)", body, notes)


if __name__ == "__main__":
    main()
