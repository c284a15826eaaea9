"""The one exception tree of ivr-migrate.

::

    IvrMigrateError                  everything we raise on purpose
    ├── UsageError                   bad input found before any request (exit code 2)
    │   ├── SheetError               a sheet with problems; carries every problem found
    │   └── ConfigError              missing credentials, bad URL, bad rate, unusable run folder
    │       └── TargetMismatch       a run continued against another account than planned
    ├── JournalError                 the run folder's journal cannot be read or written
    │   └── RowDataError             one row's stored data is damaged (that row fails)
    ├── Stopped                      the run is stopping: the client starts no new request
    └── ApiError                     the IVR API answered or could not be reached
        ├── HttpError                the server answered with a non-2xx status
        │   ├── BadRequest           400 (validationErrors keyed by path)
        │   ├── Unauthorized         401
        │   ├── Forbidden            403
        │   ├── NotFound             404
        │   ├── RateLimited          429 (retry_after seconds when the server said)
        │   └── ServerError          5xx
        └── TransportError           no usable answer: refused, reset, dropped, bad body
            ├── RequestTimeout       the request took longer than its timeout
            └── BadAnswer            an answer the scenario API would not send (not JSON…)

aiohttp's exceptions are translated into this tree in ``migrate/client.py`` only, chained with
``raise … from``. Messages never contain credentials.
"""

from __future__ import annotations

from dataclasses import dataclass


class IvrMigrateError(Exception):
    """Base of every error ivr-migrate raises on purpose."""


class UsageError(IvrMigrateError):
    """Bad usage or bad input, detected before any request is sent (exit code 2)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: where it is and how to fix it."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


class SheetError(UsageError):
    """A sheet failed validation; ``problems`` lists every problem, not only the first."""

    def __init__(self, problems: list[Problem], *, total: int | None = None) -> None:
        self.problems = list(problems)
        #: Problems found in all: more than ``len(problems)`` when a long list was cut short.
        self.total = len(self.problems) if total is None else total
        first = str(self.problems[0]) if self.problems else "invalid sheet"
        more = self.total - 1
        super().__init__(first if more <= 0 else f"{first} (and {more} more problems)")


class ConfigError(UsageError):
    """Configuration that cannot work: no credentials, bad base URL, unusable run folder."""


class TargetMismatch(ConfigError):
    """A run continued against another account than the one it was planned for."""

    def __init__(self, run_dir: object, planned: str, given: str, planned_url: str) -> None:
        super().__init__(f"{run_dir} was planned against {planned}, not {given}")
        self.run_dir = run_dir
        self.planned = planned
        self.given = given
        self.planned_url = planned_url


class JournalError(IvrMigrateError):
    """The journal of a run folder is missing, locked, corrupt or from another tool version."""


class RowDataError(JournalError):
    """One row's stored data cannot be used (a body that is not JSON): that row fails alone."""


class Stopped(IvrMigrateError):
    """The run is stopping (a signal or a safety rail): no new request was started."""


class ApiError(IvrMigrateError):
    """The IVR API answered with an error or could not be reached."""

    #: Whether sending the same request again later may succeed.
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        scenario_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.scenario_id = scenario_id

    @property
    def error_class(self) -> str:
        """Short stable name for journals and reports (``RateLimited``)."""
        return type(self).__name__


class HttpError(ApiError):
    """A non-2xx answer, with the Infobip error body parsed (both shapes)."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        message_id: str | None = None,
        validation_errors: dict[str, list[str]] | None = None,
        method: str = "",
        path: str = "",
        scenario_id: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path, scenario_id=scenario_id)
        self.status = status
        self.message_id = message_id
        self.validation_errors = validation_errors or {}


class BadRequest(HttpError):
    """400: the server refused the body."""


class Unauthorized(HttpError):
    """401: the credentials were refused."""


class Forbidden(HttpError):
    """403: the credentials lack the scope for this operation."""


class NotFound(HttpError):
    """404: no scenario with that id on this account."""


class RateLimited(HttpError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds, if any."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(HttpError):
    """5xx: the server failed; the same request may succeed later."""

    retryable = True


class TransportError(ApiError):
    """No usable answer: connection refused, reset or dropped, or a body that is not JSON.

    For a write this is ambiguous: the server may or may not have stored it.
    """

    retryable = True


class RequestTimeout(TransportError):
    """The request did not complete within its timeout."""


class BadAnswer(TransportError):
    """An answer the scenario API would not send: not JSON, or JSON of another shape."""
