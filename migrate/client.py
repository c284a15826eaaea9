"""``IvrClient``: the IVR scenario API over one aiohttp session, errors translated at this edge.

Reads (get, search) wait for the read limiter and are retried here on retryable errors, per the
:class:`~migrate.retry.RetryPolicy`. Writes (update, create, delete) wait for the write limiter
and are sent exactly once: a write whose answer was lost may have been stored, so the engine
decides what to do next (re-read, compare, send again). Every 429 slows the limiter of its kind
down, by the server's ``Retry-After`` or else a back-off of at least one interval.

Every aiohttp or socket error becomes one of :mod:`migrate.errors` here and nowhere else (the
table ``_TRANSPORT_ERRORS``), and every non-2xx answer an :class:`~migrate.errors.HttpError` with
the Infobip error body parsed in either of its shapes. Messages name the method and the path
(which holds the scenario id), never credentials; aiohttp's response errors carry the request
headers, so they are never chained.

``http://`` is accepted only for loopback hosts; TLS is verified with the default context.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Final, TypeVar
from urllib.parse import quote

import aiohttp
from yarl import URL

from migrate import __version__
from migrate.config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_READ_RATE,
    DEFAULT_TIMEOUT,
    DEFAULT_WRITE_RATE,
    Credentials,
    Rate,
)
from migrate.errors import (
    ApiError,
    BadAnswer,
    BadRequest,
    ConfigError,
    Forbidden,
    HttpError,
    NotFound,
    RateLimited,
    RequestTimeout,
    ServerError,
    Stopped,
    TransportError,
    Unauthorized,
)
from migrate.ledger import AccountLedger
from migrate.ratelimit import ReadLimiter, WriteLimiter
from migrate.retry import DEFAULT_RETRY, RetryPolicy
from transforms.validate import READ_ONLY_FIELDS

#: Never sent in a create or update body: the server owns them.
SCENARIOS_PATH: Final = "/voice/ivr/1/scenarios"
#: The largest ``pageSize`` the search accepts.
MAX_PAGE_SIZE: Final = 50
#: Connecting (including waiting for a pooled connection) gets at most this much of the timeout.
CONNECT_TIMEOUT: Final = 10.0
USER_AGENT: Final = f"ivr-migrate/{__version__}"
T = TypeVar("T")
#: The largest answer read: a bigger one fails its request instead of filling memory.
MAX_BODY_BYTES: Final = 16 * 1024 * 1024
#: How much of an unparseable error body a message quotes.
_SNIPPET: Final = 200


@dataclass(frozen=True)
class Attempt:
    """One HTTP exchange, answered or not, for the journal. Never holds credentials."""

    method: str
    path: str
    scenario_id: str | None
    #: The status received; None when no answer arrived.
    status: int | None
    #: ``ApiError.error_class`` of the failure (``"Cancelled"`` if the run was interrupted).
    error_class: str | None
    #: Wall-clock time (``time.time()``) the request was sent.
    started_at: float
    duration: float


class IvrClient:
    """The IVR scenario API for one run. Use as ``async with IvrClient(...) as client:``."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connections: int = DEFAULT_CONCURRENCY,
        read_rate: Rate = DEFAULT_READ_RATE,
        write_rate: Rate = DEFAULT_WRITE_RATE,
        retry: RetryPolicy = DEFAULT_RETRY,
        on_attempt: Callable[[Attempt], None] | None = None,
        read_limiter: ReadLimiter | None = None,
        write_limiter: WriteLimiter | None = None,
        ledger: AccountLedger | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        """``read_limiter``/``write_limiter`` replace the ones built from the rates (to share
        them between clients of one account, or to observe them in tests). ``ledger`` makes the
        write limiter built here share the account's budget with other processes (a given
        ``write_limiter`` brings its own)."""
        if ledger is not None and write_limiter is not None:
            raise ValueError("pass the ledger to the write_limiter, not to IvrClient")
        if timeout <= 0:
            raise ConfigError(f"timeout must be positive, not {timeout:g}")
        if connections < 1:
            raise ConfigError(f"connections must be at least 1, not {connections}")
        self.base_url = check_base_url(base_url)
        self._prefix = str(self.base_url).rstrip("/")
        self._credentials = credentials
        self._timeout = aiohttp.ClientTimeout(
            total=timeout, connect=min(timeout, CONNECT_TIMEOUT), sock_read=timeout
        )
        self._connections = connections
        self.retry = retry
        self.read_limiter = read_limiter or ReadLimiter(read_rate)
        self.write_limiter = write_limiter or WriteLimiter(write_rate, ledger=ledger)
        self._on_attempt = on_attempt
        self._session: aiohttp.ClientSession | None = None
        self._write_429_streak = 0
        self._max_body = max_body_bytes
        #: Writes sent and not yet answered.
        self.writes_in_flight = 0
        self._stopping = False
        self._stoppable: set[asyncio.Task[Any]] = set()
        self._stopped_by_us: set[asyncio.Task[Any]] = set()

    def stop(self) -> None:
        """Start no request from now on: reads in flight and waits for a turn are cancelled
        (they raise :class:`~migrate.errors.Stopped`); writes in flight are left to finish."""
        self._stopping = True
        for task in list(self._stoppable):
            self._stopped_by_us.add(task)
            task.cancel()

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def _unless_stopped(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` unless :meth:`stop` is called first or meanwhile."""
        if self._stopping:
            if isinstance(awaitable, Coroutine):
                awaitable.close()
            raise Stopped("the run is stopping: no new request")
        task = asyncio.current_task()
        assert task is not None
        self._stoppable.add(task)
        try:
            return await awaitable
        except asyncio.CancelledError:
            if task in self._stopped_by_us:
                self._stopped_by_us.discard(task)
                task.uncancel()
                raise Stopped("the run is stopping: request cancelled") from None
            raise
        finally:
            self._stoppable.discard(task)

    async def __aenter__(self) -> IvrClient:
        if self._session is not None:
            raise RuntimeError("this IvrClient is already open")
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._connections),
            timeout=self._timeout,
            headers={
                "Authorization": self._credentials.authorization(),
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            trust_env=False,
        )
        # aiohttp silently sends a PUT or DELETE (and a GET) a second time when the connection
        # drops before the answer, and has no public switch for it (aio-libs/aiohttp#10790;
        # its own test client sets this flag). A write must go out once, and every read
        # attempt must pass our limiter and reach the journal, so retries are ours alone.
        # tests/test_client.py's dropped-connection tests fail if this stops working.
        self._session._retry_connection = False
        return self

    async def __aexit__(self, *_: object) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def __repr__(self) -> str:
        return f"IvrClient({str(self.base_url)!r}, {self._credentials!r})"

    # -- reads ------------------------------------------------------------------------------

    async def get_scenario(self, scenario_id: str) -> dict[str, Any]:
        """One scenario; retries 429, 5xx and transport errors per the retry policy."""
        path = _scenario_path(scenario_id)
        body = await self._read(path, scenario_id)
        return _expect_object(body, "GET", path, scenario_id)

    async def search(
        self, *, page: int = 1, page_size: int = MAX_PAGE_SIZE, name: str | None = None
    ) -> list[dict[str, Any]]:
        """One page of the scenario search (``page`` counts from 1; at most 50 per page)."""
        if page < 1:
            raise ValueError(f"page counts from 1, not {page}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
        params = {"page": str(page), "pageSize": str(page_size)}
        if name is not None:
            params["name"] = name
        body = await self._read(SCENARIOS_PATH, None, params)
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            if isinstance(body, list):
                odd = next(item for item in body if not isinstance(item, dict))
                what = f"an array holding {_json_kind(odd)}"
            else:
                what = _json_kind(body)
            raise BadAnswer(
                f"GET {SCENARIOS_PATH}: expected a JSON array of scenario objects, got {what}",
                method="GET",
                path=SCENARIOS_PATH,
            )
        return body

    async def iter_scenarios(
        self, *, name: str | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[dict[str, Any]]:
        """Every scenario, page after page, until a page comes back short.

        The search has no ordering, so a scenario created or deleted meanwhile can shift the
        pages; ids already seen are skipped, and a full page of nothing new ends the listing
        (a server that ignores ``page`` would otherwise be paged forever).
        """
        seen: set[str] = set()
        page = 1
        while True:
            items = await self.search(page=page, page_size=page_size, name=name)
            fresh = 0
            for item in items:
                scenario_id = item.get("id")
                if isinstance(scenario_id, str):
                    if scenario_id in seen:
                        continue
                    seen.add(scenario_id)
                fresh += 1
                yield item
            if len(items) < page_size or fresh == 0:
                return
            page += 1

    async def check_connection(self) -> None:
        """One small search, not retried: fails fast on a wrong key or an unreachable host.

        Raises ``Unauthorized``/``Forbidden`` or ``TransportError`` (``RequestTimeout``).
        """
        params = {"page": "1", "pageSize": "1"}
        await self._read(SCENARIOS_PATH, None, params, policy=RetryPolicy(max_attempts=1))

    # -- writes -----------------------------------------------------------------------------

    async def update_scenario(self, scenario_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Replace a scenario: ONE attempt after the write limiter, read-only fields stripped.

        Not retried: after a ``TransportError`` the server may have stored the body.
        """
        path = _scenario_path(scenario_id)
        answer = await self._write("PUT", path, scenario_id, strip_read_only(body))
        return _expect_object(answer, "PUT", path, scenario_id)

    async def create_scenario(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a scenario (one attempt, after the write limiter); returns it with its id."""
        answer = await self._write("POST", SCENARIOS_PATH, None, strip_read_only(body))
        return _expect_object(answer, "POST", SCENARIOS_PATH, None)

    async def delete_scenario(self, scenario_id: str) -> None:
        """Delete a scenario (one attempt, after the write limiter)."""
        await self._write("DELETE", _scenario_path(scenario_id), scenario_id, None)

    # -- the exchange -----------------------------------------------------------------------

    async def _read(
        self,
        path: str,
        scenario_id: str | None,
        params: Mapping[str, str] | None = None,
        *,
        policy: RetryPolicy | None = None,
    ) -> Any:
        policy = policy or self.retry
        attempt = 0
        while True:
            attempt += 1
            await self._unless_stopped(self.read_limiter.acquire())
            try:
                exchange = self._exchange("GET", path, scenario_id, params=params)
                return await self._unless_stopped(exchange)
            except ApiError as exc:
                if isinstance(exc, RateLimited):
                    self._slow_down(self.read_limiter, exc, attempt, policy)
                if not policy.should_retry(exc, attempt):
                    raise
                if not isinstance(exc, RateLimited):
                    # after a 429 the limiter's pause is the wait: the next acquire() sits it out
                    await self._unless_stopped(asyncio.sleep(policy.delay_for(exc, attempt)))

    async def _write(
        self, method: str, path: str, scenario_id: str | None, body: dict[str, Any] | None
    ) -> Any:
        # serialised before the limiter: a body that is not JSON is a bug, not an attempt
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        # a worker waiting for its turn gives it up when the run stops; once sent, a write runs
        # to its answer (or its timeout): cancelling it would leave its outcome unknown
        await self._unless_stopped(self.write_limiter.acquire())
        if self._stopping:
            raise Stopped("the run is stopping: the write was not sent")
        self.writes_in_flight += 1
        try:
            answer = await self._exchange(method, path, scenario_id, data=data)
        except RateLimited as exc:
            self._write_429_streak += 1
            self._slow_down(self.write_limiter, exc, self._write_429_streak, self.retry)
            raise
        except HttpError:
            self._write_429_streak = 0
            raise
        finally:
            self.writes_in_flight -= 1
        self._write_429_streak = 0
        return answer

    @staticmethod
    def _slow_down(
        limiter: ReadLimiter | WriteLimiter, exc: RateLimited, n: int, policy: RetryPolicy
    ) -> None:
        """Pause the limiter for Retry-After, else a back-off of at least one interval."""
        seconds = policy.delay(n, exc.retry_after)
        if exc.retry_after is None:
            seconds = max(seconds, limiter.interval)
        limiter.slow_down(seconds)

    async def _exchange(
        self,
        method: str,
        path: str,
        scenario_id: str | None,
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
    ) -> Any:
        """Send one request; record it; return the decoded JSON or raise one of ours."""
        session = self._session
        if session is None:
            raise RuntimeError("IvrClient is not open: use `async with IvrClient(...) as client`")
        headers = {"Content-Type": "application/json"} if data is not None else None
        url = URL(self._prefix + path, encoded=True)
        started_at, clock = time.time(), time.monotonic()
        status: int | None = None
        error_class: str | None = None
        try:
            unchained: TransportError | None = None
            try:
                async with session.request(
                    method, url, params=params, data=data, headers=headers, allow_redirects=False
                ) as response:
                    status = code = response.status
                    raw = await self._body(response, method, path, scenario_id)
                    retry_after = response.headers.get("Retry-After")
                    reason = response.reason or ""
                    if 300 <= code < 400:
                        # a redirect says where, not why: the base URL is not the API's
                        reason = f"redirected to {response.headers.get('Location') or 'elsewhere'}"
                        raw = b""
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = self._transport_error(exc, method, path, scenario_id)
                if not isinstance(exc, aiohttp.ClientResponseError):
                    raise error from exc
                unchained = error
            if unchained is not None:
                # aiohttp's response errors hold the request headers (Authorization included):
                # raised outside the handler, so that neither __cause__ nor __context__ keeps one
                raise unchained
            return self._decode(code, raw, retry_after, reason, method, path, scenario_id)
        except ApiError as exc:
            error_class = exc.error_class
            raise
        except BaseException as exc:
            error_class = (
                "Cancelled" if isinstance(exc, asyncio.CancelledError) else type(exc).__name__
            )
            raise
        finally:
            if self._on_attempt is not None:
                self._on_attempt(
                    Attempt(
                        method=method,
                        path=path,
                        scenario_id=scenario_id,
                        status=status,
                        error_class=error_class,
                        started_at=started_at,
                        duration=time.monotonic() - clock,
                    )
                )

    async def _body(
        self, response: aiohttp.ClientResponse, method: str, path: str, scenario_id: str | None
    ) -> bytes:
        """The answer's body, refused when larger than the cap (a body is never unbounded)."""
        length = response.content_length
        if length is not None and length <= self._max_body:
            return await response.read()
        if length is None:
            chunks, size = [], 0
            async for chunk in response.content.iter_chunked(1 << 16):
                size += len(chunk)
                if size > self._max_body:
                    break
                chunks.append(chunk)
            else:
                return b"".join(chunks)
        error = TransportError(
            f"{method} {path}: HTTP {response.status} with an answer larger than "
            f"{self._max_body // (1024 * 1024)} MB; refused",
            method=method,
            path=path,
            scenario_id=scenario_id,
        )
        error.retryable = False
        raise error

    def _decode(
        self,
        status: int,
        raw: bytes,
        retry_after: str | None,
        reason: str,
        method: str,
        path: str,
        scenario_id: str | None,
    ) -> Any:
        where: dict[str, Any] = {"method": method, "path": path, "scenario_id": scenario_id}
        if not 200 <= status < 300:
            details = parse_error_body(raw) or ErrorDetails(None, reason)
            message = self._scrub(f"{method} {path} failed: HTTP {status} {details}".rstrip())
            errors = {
                self._scrub(field): [self._scrub(text) for text in texts]
                for field, texts in (details.validation_errors or {}).items()
            }
            fields: dict[str, Any] = {
                "status": status,
                "message_id": details.message_id,
                "validation_errors": errors,
                **where,
            }
            if status == 429:
                raise RateLimited(message, retry_after=parse_retry_after(retry_after), **fields)
            raise _http_error_class(status)(message, **fields)
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except RecursionError:
            error = BadAnswer(
                f"{method} {path}: HTTP {status} with JSON nested too deeply to read", **where
            )
            error.retryable = False
            raise error from None
        except ValueError:  # UnicodeDecodeError is a ValueError too
            raise BadAnswer(
                self._scrub(
                    f"{method} {path}: HTTP {status} with a body that is not JSON: "
                    f"{_snippet(raw)!r}"
                ),
                **where,
            ) from None

    def _transport_error(
        self, exc: BaseException, method: str, path: str, scenario_id: str | None
    ) -> TransportError:
        cls, retryable, what = classify_transport_error(type(exc))
        if cls is RequestTimeout:
            detail = f"no answer within {self._timeout.total:g} s"
        elif isinstance(exc, aiohttp.ClientResponseError):
            # its str() is safe, its repr() is not; the first line of .message is enough
            first_line = (str(exc.message).splitlines() or [""])[0]
            detail = f"{type(exc).__name__}: {first_line}".rstrip(": ")
        else:
            detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
        error = cls(
            self._scrub(f"{method} {path}: {what} ({detail})"),
            method=method,
            path=path,
            scenario_id=scenario_id,
        )
        if retryable != cls.retryable:
            error.retryable = retryable
        return error

    def _scrub(self, text: str) -> str:
        """Belt and braces: a server or a proxy could echo the key back in its error text."""
        for secret in self._credentials.secret_fragments():
            if len(secret) >= 4:
                text = text.replace(secret, "<hidden>")
        return text


# -- URLs and bodies ------------------------------------------------------------------------


def check_base_url(base_url: str) -> URL:
    """The base URL, normalised: scheme and host in lower case, no default port, no trailing
    slash (``https://X.example/`` and ``https://x.example:443`` are one account).

    ``https://``, or ``http://`` to a loopback host; no path, query, fragment or credentials,
    else ConfigError. The messages never repeat a query, a fragment or credentials: they may
    hold a key.
    """
    text = base_url.strip()
    shown = _redacted(text)
    fix = "e.g. https://xxxxx.api.infobip.com; the default is https://api.infobip.com"
    if not text:
        raise ConfigError(f"--base-url is empty: give your account's base URL ({fix})")
    if "://" not in text and re.fullmatch(r"[\w.-]+(:\d+)?(/\S*)?", shown):
        authority = shown.split("/", 1)[0]
        raise ConfigError(f"--base-url {shown!r} has no scheme: write https://{authority}")
    try:
        url = URL(text)
        host = url.raw_host or ""
    except (ValueError, TypeError, UnicodeError):
        raise ConfigError(f"--base-url {shown!r} must be https://HOST ({fix})") from None
    if url.scheme not in ("http", "https") or not host:
        raise ConfigError(f"--base-url {shown!r} must be https://HOST ({fix})")
    if url.user or url.password:
        raise ConfigError(
            f"--base-url {shown!r} must not carry credentials: use the INFOBIP_* variables"
        )
    port = None if url.is_default_port() else url.explicit_port
    base = URL.build(scheme=url.scheme, host=host, port=port)
    if url.query_string or url.fragment:
        raise ConfigError(
            f"--base-url {shown!r} must not have a query string or a fragment (not shown: it "
            f"may hold a key): give {base} and the key in INFOBIP_API_KEY"
        )
    if url.path not in ("", "/"):
        raise ConfigError(
            f"--base-url {shown!r} must not have a path: give the account's base URL, {base}"
        )
    if url.scheme == "http" and not is_loopback(host):
        raise ConfigError(
            f"--base-url {shown!r}: http:// is only allowed for 127.0.0.1, ::1 and localhost; "
            "use https://"
        )
    return base


def normalise_base_url(base_url: str) -> str:
    """:func:`check_base_url` as text: the form a run records and compares."""
    return str(check_base_url(base_url))


def _redacted(text: str) -> str:
    """A base URL as an error message may show it: without credentials, query or fragment."""
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    return re.sub(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?[^/@]*@", r"\1", text)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def strip_read_only(body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``body`` without the server-owned fields (``READ_ONLY_FIELDS``)."""
    return {key: value for key, value in body.items() if key not in READ_ONLY_FIELDS}


def _scenario_path(scenario_id: str) -> str:
    if not scenario_id:
        raise ValueError("scenario_id must not be empty")
    return f"{SCENARIOS_PATH}/{quote(scenario_id, safe='')}"


def _expect_object(body: Any, method: str, path: str, scenario_id: str | None) -> dict[str, Any]:
    # The 2026 spec's PUT example wraps the scenario in an array; accept that too.
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict):
        raise BadAnswer(
            f"{method} {path}: expected a JSON object, got {_json_kind(body)}",
            method=method,
            path=path,
            scenario_id=scenario_id,
        )
    return body


def _json_kind(value: Any) -> str:
    """A JSON value's kind as an operator reads it: ``an array``, ``a string``, ``nothing``."""
    if value is None:
        return "nothing (null or an empty body)"
    kinds = {list: "an array", str: "a string", bool: "a boolean", dict: "an object"}
    return kinds.get(type(value), "a number")


# -- error answers --------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorDetails:
    """What an error body said: Infobip's ``messageId``/``errorCode``, text, per-field errors."""

    message_id: str | None
    text: str
    validation_errors: dict[str, list[str]] | None = None

    def __str__(self) -> str:
        head = ": ".join(part for part in (self.message_id, self.text) if part)
        errors = self.validation_errors or {}
        if not errors:
            return head
        field, messages = next(iter(errors.items()))
        count = sum(len(m) for m in errors.values())
        more = f"; and {count - 1} more" if count > 1 else ""
        return f"{head} ({field}: {messages[0] if messages else 'not valid'}{more})"


def parse_error_body(raw: bytes) -> ErrorDetails | None:
    """Either Infobip error shape, an XML legacy body, or a snippet of anything else."""
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return _parse_xml_error(text) or ErrorDetails(None, _snippet(raw))
    if isinstance(body, dict):
        request_error = body.get("requestError")
        if isinstance(request_error, dict):
            exception = request_error.get("serviceException") or request_error.get(
                "policyException"
            )
            if isinstance(exception, dict):
                return ErrorDetails(
                    _str_or_none(exception.get("messageId")),
                    str(exception.get("text") or ""),
                    _validation_errors(exception.get("validationErrors")),
                )
        if "errorCode" in body or "description" in body or "violations" in body:
            description = str(body.get("description") or "")
            action = str(body.get("action") or "")
            return ErrorDetails(
                _str_or_none(body.get("errorCode")),
                f"{description} ({action})" if description and action else description or action,
                _violations(body.get("violations")),
            )
    return ErrorDetails(None, _snippet(raw))


def _validation_errors(value: Any) -> dict[str, list[str]] | None:
    if not isinstance(value, dict):
        return None
    return {
        str(key): [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
        for key, messages in value.items()
    }


def _violations(value: Any) -> dict[str, list[str]] | None:
    if not isinstance(value, list):
        return None
    errors: dict[str, list[str]] = {}
    for item in value:
        if isinstance(item, dict):
            prop = str(item.get("property") or "")
            errors.setdefault(prop, []).append(str(item.get("violation") or ""))
    return errors or None


def _parse_xml_error(text: str) -> ErrorDetails | None:
    if not text.startswith("<"):
        return None
    message_id = re.search(r"<messageId>([^<]*)</messageId>", text)
    message = re.search(r"<text>([^<]*)</text>", text)
    if not (message_id or message):
        return None
    return ErrorDetails(
        message_id.group(1).strip() if message_id else None,
        message.group(1).strip() if message else "",
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _snippet(raw: bytes) -> str:
    text = " ".join(raw.decode("utf-8", "replace").split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"


_STATUS_ERRORS: Final[dict[int, type[HttpError]]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    429: RateLimited,
}


def _http_error_class(status: int) -> type[HttpError]:
    if status in _STATUS_ERRORS:
        return _STATUS_ERRORS[status]
    return ServerError if status >= 500 else HttpError


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: delay-seconds or an HTTP-date; None when absent or unusable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
        return max(seconds, 0.0)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


# -- transport errors -----------------------------------------------------------------------

#: aiohttp's (and the socket layer's) exceptions, most specific first: our class, whether a
#: retry may help, and what the operator reads. ``tests/test_client.py`` checks that every
#: ``aiohttp.ClientError`` subclass matches a row before the catch-all ``ClientError``.
_TRANSPORT_ERRORS: Final[
    tuple[tuple[type[BaseException], type[TransportError], bool, str], ...]
] = (
    (aiohttp.ServerTimeoutError, RequestTimeout, True, "timed out"),
    (aiohttp.ClientConnectorCertificateError, TransportError, False, "TLS certificate refused"),
    (aiohttp.ClientSSLError, TransportError, False, "TLS handshake failed"),
    (aiohttp.ServerFingerprintMismatch, TransportError, False, "TLS fingerprint mismatch"),
    (aiohttp.ClientConnectorDNSError, TransportError, True, "cannot resolve the host"),
    (aiohttp.ClientProxyConnectionError, TransportError, True, "cannot reach the proxy"),
    (aiohttp.ClientConnectorError, TransportError, True, "cannot connect"),
    (aiohttp.ServerDisconnectedError, TransportError, True, "connection closed before an answer"),
    (aiohttp.ClientConnectionResetError, TransportError, True, "connection reset"),
    (aiohttp.ClientOSError, TransportError, True, "connection failed"),
    (aiohttp.ServerConnectionError, TransportError, True, "connection failed"),
    (aiohttp.ClientConnectionError, TransportError, True, "connection failed"),
    (aiohttp.ClientPayloadError, TransportError, True, "answer cut short"),
    (aiohttp.TooManyRedirects, TransportError, False, "redirected too often"),
    (aiohttp.WSServerHandshakeError, TransportError, False, "unexpected websocket answer"),
    (aiohttp.ClientHttpProxyError, TransportError, True, "the proxy refused the request"),
    (aiohttp.ClientResponseError, TransportError, True, "unreadable answer"),
    (aiohttp.InvalidURL, TransportError, False, "invalid URL"),
    (aiohttp.RedirectClientError, TransportError, False, "unusable redirect"),
    (aiohttp.NonHttpUrlClientError, TransportError, False, "not an HTTP URL"),
    (aiohttp.UploadAbortedError, TransportError, True, "request body not sent"),
    (aiohttp.ClientError, TransportError, True, "request failed"),
    (TimeoutError, RequestTimeout, True, "timed out"),
    (OSError, TransportError, True, "connection failed"),
)


def classify_transport_error(
    exc_type: type[BaseException],
) -> tuple[type[TransportError], bool, str]:
    """Our class for an aiohttp/socket exception type, whether to retry, and a description."""
    for aiohttp_type, ours, retryable, what in _TRANSPORT_ERRORS:
        if issubclass(exc_type, aiohttp_type):
            return ours, retryable, what
    return TransportError, True, "request failed"
