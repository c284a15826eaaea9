"""Fault injection: error answers, added latency, hung requests and dropped connections.

Each request that reaches the faults (authenticated, within its rate limit, and of a method the
faults apply to) gets one outcome:

* the next item of ``sequence`` while it lasts (deterministic scripts for tests), else
* one draw of the seeded generator over ``[0, 1)``, split in this order into ``hang_rate``,
  ``drop_before_rate``, ``drop_after_rate`` and each ``error_rates`` status (ascending); what is
  left over is a normal answer. The rates are exclusive, so they must add up to at most 1.

``latency_ms`` is added to every request the faults apply to, before anything else happens.
One draw per request and a fixed seed make a fault sequence reproducible for a given sequence of
requests; ``set_faults`` re-seeds the generator and restarts ``sequence``.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from migrate.errors import ConfigError

OK: Final = "ok"
HANG: Final = "hang"
DROP_BEFORE: Final = "drop_before"
DROP_AFTER: Final = "drop_after"
ACTIONS: Final = (OK, HANG, DROP_BEFORE, DROP_AFTER)

#: One outcome: one of ``ACTIONS`` or an HTTP error status to answer with.
Outcome = str | int


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often. The default injects nothing."""

    #: Probability of answering with each error status, e.g. ``{500: 0.1, 503: 0.05}``.
    error_rates: Mapping[int, float] = field(default_factory=dict)
    #: Added to every request the faults apply to.
    latency_ms: float = 0.0
    #: Never answer; the connection stays open until the client gives up or the server stops.
    hang_rate: float = 0.0
    #: Close the connection without an answer before the handler runs (a write is not stored).
    drop_before_rate: float = 0.0
    #: Run the handler (a write is stored), then close the connection without an answer.
    drop_after_rate: float = 0.0
    #: Methods the faults apply to (``{"PUT"}``); None means every method.
    methods: frozenset[str] | None = None
    #: Outcomes forced on the next matching requests, before the rates apply.
    sequence: tuple[Outcome, ...] = ()
    #: Seed of the generator; None seeds it from the OS (not reproducible).
    seed: int | None = 0

    def __post_init__(self) -> None:
        rates = {int(status): float(rate) for status, rate in dict(self.error_rates).items()}
        object.__setattr__(self, "error_rates", rates)
        if self.methods is not None:
            object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))
        object.__setattr__(self, "sequence", tuple(_outcome(item) for item in self.sequence))
        for status in rates:
            if not 400 <= status <= 599:
                raise ConfigError(f"fault status {status} is not an HTTP error status (400-599)")
        named = {
            "hang_rate": self.hang_rate,
            "drop_before_rate": self.drop_before_rate,
            "drop_after_rate": self.drop_after_rate,
        } | {f"error rate of {s}": r for s, r in rates.items()}
        for label, rate in named.items():
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(f"fault {label} must be between 0 and 1, not {rate}")
        if sum(named.values()) > 1.0 + 1e-9:
            raise ConfigError("fault rates are exclusive and must add up to at most 1")
        if self.latency_ms < 0:
            raise ConfigError("fault latency_ms must not be negative")

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms
            or self.hang_rate
            or self.drop_before_rate
            or self.drop_after_rate
            or any(self.error_rates.values())
            or self.sequence
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_rates"] = {str(s): r for s, r in sorted(self.error_rates.items())}
        data["methods"] = None if self.methods is None else sorted(self.methods)
        data["sequence"] = list(self.sequence)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Faults:
        """Faults from the admin endpoint's JSON (the field names of this class)."""
        if not isinstance(data, dict):
            raise ConfigError("faults must be a JSON object")
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        try:
            values = dict(data)
            if values.get("error_rates") is not None:
                values["error_rates"] = {int(s): r for s, r in values["error_rates"].items()}
            if values.get("methods") is not None:
                values["methods"] = frozenset(values["methods"])
            if "sequence" in values:
                values["sequence"] = tuple(values["sequence"] or ())
            return cls(**values)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ConfigError(f"bad faults: {exc}") from exc


def _outcome(item: Any) -> Outcome:
    if isinstance(item, bool):
        raise ConfigError(f"fault outcome {item!r} is not an action or a status")
    if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
        status = int(item)
        if not 400 <= status <= 599:
            raise ConfigError(f"fault status {status} is not an HTTP error status (400-599)")
        return status
    if item in ACTIONS:
        return str(item)
    raise ConfigError(f"fault outcome {item!r} is not one of {', '.join(ACTIONS)} or a status")


@dataclass(frozen=True)
class Decision:
    """What to do with one request: wait ``latency`` seconds, then ``outcome``."""

    latency: float
    outcome: Outcome


NO_FAULT: Final = Decision(0.0, OK)


class FaultInjector:
    """Draws one outcome per request from the current :class:`Faults`."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._pending: deque[Outcome] = deque(faults.sequence)

    def set(self, faults: Faults) -> None:
        """Replace the faults, re-seed the generator and restart the sequence."""
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._pending = deque(faults.sequence)

    def decide(self, method: str) -> Decision:
        faults = self.faults
        if faults.methods is not None and method.upper() not in faults.methods:
            return NO_FAULT
        latency = faults.latency_ms / 1000.0
        if self._pending:
            return Decision(latency, self._pending.popleft())
        draw = self._rng.random()
        bands: list[tuple[Outcome, float]] = [
            (HANG, faults.hang_rate),
            (DROP_BEFORE, faults.drop_before_rate),
            (DROP_AFTER, faults.drop_after_rate),
        ]
        bands += sorted(faults.error_rates.items())
        for outcome, rate in bands:
            if draw < rate:
                return Decision(latency, outcome)
            draw -= rate
        return Decision(latency, OK)
