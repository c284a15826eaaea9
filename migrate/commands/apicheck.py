"""A base URL that is not the IVR scenario API: one line and exit 2, and no run folder left.

The engine's first request is a one-row search of ``/voice/ivr/1/scenarios``. A web page, a
redirect (to a login page) or a 404 there means the base URL points at something else; the
client raises the plain HTTP error, and this turns it into a :class:`ConfigError` naming the fix.
(An HTML page answered 200 is refused by the connection check itself, also as a ConfigError.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from migrate.client import SCENARIOS_PATH
from migrate.engine import Connection, PreparedRun, discard_run_folder
from migrate.errors import ConfigError, Forbidden, HttpError, RateLimited, ServerError, Unauthorized

#: Answers of the search that say nothing about what the server is.
_INCONCLUSIVE = (Unauthorized, Forbidden, RateLimited, ServerError)


@contextmanager
def scenario_api(connection: Connection, prepared: PreparedRun | None = None) -> Iterator[None]:
    """Around an engine call: an HTTP error on the scenario search becomes a ConfigError; a
    run folder being planned (``prepared``) is removed, since nothing could be planned."""
    try:
        yield
    except HttpError as exc:
        if isinstance(exc, _INCONCLUSIVE) or exc.scenario_id is not None:
            raise
        if exc.path != SCENARIOS_PATH:
            raise
        if prepared is not None:
            discard_run_folder(prepared)
        raise ConfigError(
            f"{connection.base_url} is not the IVR scenario API (GET {SCENARIOS_PATH} answered "
            f"HTTP {exc.status}): check --base-url; it is your account's base URL, e.g. "
            "https://xxxxx.api.infobip.com"
        ) from None
