"""Fault injection: error answers, added latency, hung, held and dropped requests, bad bodies.

Each request that reaches the faults (authenticated, within its rate limit, and of a method the
faults apply to) gets one outcome:

* the next item of ``sequence`` while it lasts (deterministic scripts for tests), else
* one draw of the seeded generator over ``[0, 1)``, split in this order into ``hang_rate``,
  ``drop_before_rate``, ``drop_after_rate``, ``hold_before_rate``, ``hold_after_rate``,
  ``nested_rate``, ``huge_rate`` and each ``error_rates`` status (ascending); what is left over
  is a normal answer. The rates are exclusive, so they must add up to at most 1.

The outcomes (the names a ``sequence`` uses):

* ``hang`` / ``hold_before``: never answer, before the handler runs (nothing is stored); the
  connection stays open until the client gives up or the server stops. Both are logged the
  moment the hold begins (``held`` true), so a test can poll the log and act at that point.
* ``hold_after``: run the handler (a PUT is stored), log it as held and stored, never answer.
* ``drop_before`` / ``drop_after``: close the connection without an answer, before or after
  the handler runs.
* ``nested``: run the handler, then answer 200 with valid JSON nested ``nested_depth`` levels
  deep (``[[[…]]]``), which makes Python's ``json`` decoder raise RecursionError.
* ``huge``: run the handler, then answer 200 with a JSON object larger than
  ``huge_body_bytes``, streamed in chunks without a Content-Length (never held in memory).
* an HTTP status: answer it with Infobip's error body (the handler does not run).

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
HOLD_BEFORE: Final = "hold_before"
HOLD_AFTER: Final = "hold_after"
NESTED: Final = "nested"
HUGE: Final = "huge"
ACTIONS: Final = (OK, HANG, DROP_BEFORE, DROP_AFTER, HOLD_BEFORE, HOLD_AFTER, NESTED, HUGE)

#: Size a ``huge`` answer exceeds: 20 MiB.
DEFAULT_HUGE_BODY_BYTES: Final = 20 * 1024 * 1024
#: Depth of a ``nested`` answer: far past Python's recursion limit (1,000).
DEFAULT_NESTED_DEPTH: Final = 100_000

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
    #: Never answer, before the handler runs (like ``hang_rate``; logged as ``held_before``).
    hold_before_rate: float = 0.0
    #: Run the handler (a write is stored), then never answer (logged as ``held_after``).
    hold_after_rate: float = 0.0
    #: Run the handler, then answer 200 with JSON nested ``nested_depth`` levels deep.
    nested_rate: float = 0.0
    #: Run the handler, then answer 200 with a streamed JSON body over ``huge_body_bytes``.
    huge_rate: float = 0.0
    #: Bytes a ``huge`` answer exceeds (it is one byte longer).
    huge_body_bytes: int = DEFAULT_HUGE_BODY_BYTES
    #: Levels of ``[`` in a ``nested`` answer.
    nested_depth: int = DEFAULT_NESTED_DEPTH
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
        named = {name: float(getattr(self, name)) for name in _RATES} | {
            f"error rate of {s}": r for s, r in rates.items()
        }
        for label, rate in named.items():
            if not 0.0 <= rate <= 1.0:
                raise ConfigError(f"fault {label} must be between 0 and 1, not {rate}")
        if sum(named.values()) > 1.0 + 1e-9:
            raise ConfigError("fault rates are exclusive and must add up to at most 1")
        if self.latency_ms < 0:
            raise ConfigError("fault latency_ms must not be negative")
        for name in ("huge_body_bytes", "nested_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"fault {name} must be a positive whole number, not {value!r}")

    def rate_bands(self) -> list[tuple[Outcome, float]]:
        """Each outcome a draw can pick, with its probability, in draw order."""
        bands: list[tuple[Outcome, float]] = [
            (outcome, getattr(self, name)) for name, outcome in _RATES.items()
        ]
        return bands + sorted(self.error_rates.items())

    @property
    def active(self) -> bool:
        return bool(self.latency_ms or any(rate for _, rate in self.rate_bands()) or self.sequence)

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


#: The rate field of each outcome a draw can pick, in draw order (before the error statuses).
_RATES: Final = {
    "hang_rate": HANG,
    "drop_before_rate": DROP_BEFORE,
    "drop_after_rate": DROP_AFTER,
    "hold_before_rate": HOLD_BEFORE,
    "hold_after_rate": HOLD_AFTER,
    "nested_rate": NESTED,
    "huge_rate": HUGE,
}


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
        for outcome, rate in faults.rate_bands():
            if draw < rate:
                return Decision(latency, outcome)
            draw -= rate
        return Decision(latency, OK)
