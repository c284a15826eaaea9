"""Small value objects for configuration, with every default named once."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from migrate.errors import ConfigError


@dataclass(frozen=True)
class Rate:
    """At most ``count`` events in any window of ``period`` seconds."""

    count: int
    period: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.period <= 0:
            raise ConfigError(f"rate {self} must allow at least 1 request per positive period")

    @property
    def interval(self) -> float:
        """Seconds between events when they are spread evenly."""
        return self.period / self.count

    def __str__(self) -> str:
        period = f"{self.period:g}s"
        return f"{self.count}/{period}"

    @classmethod
    def parse_or_none(cls, text: str | None) -> Rate | None:
        """:meth:`parse`, or None for text that is empty or not a rate (shown, not checked)."""
        if not text:
            return None
        try:
            return cls.parse(text)
        except ConfigError:
            return None

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Parse ``N/PERIOD``: ``6/min``, ``6/60s``, ``20/2s``, ``100/1s``, ``1000/h``."""
        match = _RATE.match(text.strip())
        if not match:
            raise ConfigError(
                f"cannot read rate {text!r}: write it as N/PERIOD, e.g. 6/min, 6/60s or 20/2s"
            )
        count = int(match["count"])
        number = float(match["number"]) if match["number"] else 1.0
        period = number * _UNITS[match["unit"]]
        if count < 1 or period <= 0:
            raise ConfigError(f"rate {text!r} must allow at least 1 request per positive period")
        return cls(count, period)


_RATE = re.compile(r"^(?P<count>\d+)\s*/\s*(?P<number>\d+(?:\.\d+)?)?\s*(?P<unit>s|sec|min|m|h)$")
_UNITS: Final = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}

#: The documented limit of PUT /voice/ivr/1/scenarios/{id}.
DEFAULT_WRITE_RATE: Final = Rate(6, 60.0)
#: No read limit is documented; this keeps a day-long run polite.
DEFAULT_READ_RATE: Final = Rate(20, 1.0)
DEFAULT_CONCURRENCY: Final = 8
DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_BASE_URL: Final = "https://api.infobip.com"
DEFAULT_REPORTS_DIR: Final = "reports"

ENV_BASE_URL: Final = "INFOBIP_BASE_URL"
ENV_API_KEY: Final = "INFOBIP_API_KEY"
ENV_USERNAME: Final = "INFOBIP_USERNAME"
ENV_PASSWORD: Final = "INFOBIP_PASSWORD"
ENV_TOKEN: Final = "INFOBIP_TOKEN"
ENV_IBSSO: Final = "INFOBIP_IBSSO_TOKEN"


class Credentials:
    """An ``Authorization`` header value that never shows itself in reprs, logs or errors."""

    __slots__ = ("_header", "scheme")

    def __init__(self, scheme: str, header: str) -> None:
        self.scheme = scheme
        self._header = header

    def authorization(self) -> str:
        """The header value to send; the only way the secret leaves this object."""
        return self._header

    def secret_fragments(self) -> list[str]:
        """The secret parts of the header, for tests and scrubbers that must never see them."""
        value = self._header.split(" ", 1)[1] if " " in self._header else self._header
        parts = [value]
        if self.scheme == "Basic":
            decoded = base64.b64decode(value).decode("utf-8", "replace")
            parts.extend(p for p in decoded.split(":", 1) if p)
        return parts

    def __repr__(self) -> str:
        return f"Credentials(scheme={self.scheme!r}, value=<hidden>)"

    __str__ = __repr__

    @classmethod
    def api_key(cls, key: str) -> Credentials:
        return cls("App", f"App {key}")

    @classmethod
    def basic(cls, username: str, password: str) -> Credentials:
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return cls("Basic", f"Basic {token}")

    @classmethod
    def bearer(cls, token: str) -> Credentials:
        return cls("Bearer", f"Bearer {token}")

    @classmethod
    def ibsso(cls, token: str) -> Credentials:
        return cls("IBSSO", f"IBSSO {token}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        """Credentials from the environment: API key, then Bearer token, IBSSO, then Basic."""
        env = os.environ if env is None else env
        if env.get(ENV_API_KEY, "").strip():
            return cls.api_key(env[ENV_API_KEY].strip())
        if env.get(ENV_TOKEN, "").strip():
            return cls.bearer(env[ENV_TOKEN].strip())
        if env.get(ENV_IBSSO, "").strip():
            return cls.ibsso(env[ENV_IBSSO].strip())
        user, password = env.get(ENV_USERNAME, ""), env.get(ENV_PASSWORD, "")
        if user and password:
            return cls.basic(user, password)
        if user or password:
            raise ConfigError(f"set both {ENV_USERNAME} and {ENV_PASSWORD} for Basic auth")
        raise ConfigError(
            f"no credentials: set {ENV_API_KEY} (or {ENV_TOKEN}, or {ENV_USERNAME} and "
            f"{ENV_PASSWORD}), or pass --sandbox to run against the local emulator"
        )
