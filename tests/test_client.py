"""IvrClient over real loopback HTTP: error shapes, retries, single writes, secrets, paging.

Error shapes and network failures come from small scripted aiohttp servers on 127.0.0.1 (each
request takes the next scripted reply); paging, limits and stored writes from the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

from migrate.client import (
    _TRANSPORT_ERRORS,
    READ_ONLY_FIELDS,
    Attempt,
    IvrClient,
    check_base_url,
    classify_transport_error,
    parse_error_body,
    parse_retry_after,
)
from migrate.config import Credentials, Rate
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
    TransportError,
    Unauthorized,
)
from migrate.ratelimit import ReadLimiter, WriteLimiter
from migrate.retry import RetryPolicy
from migrate.sandbox import SandboxConfig, start_sandbox

T = TypeVar("T")

KEY = "K3Y-4f9c2a7d-never-show-me"
CREDENTIALS = Credentials.api_key(KEY)
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.005)
UNLIMITED = Rate(10_000, 1.0)
SCENARIO_ID = "E83E787CF2613450157ADA3476171E3F"
SCENARIO_PATH = f"/voice/ivr/1/scenarios/{SCENARIO_ID}"
SCENARIO = {
    "id": SCENARIO_ID,
    "name": "Welcome",
    "description": "menu",
    "script": [{"say": "Hello"}, "hangup"],
    "createTime": "2023-09-14T15:13:36.735+0000",
    "updateTime": None,
    "lastUsageDate": "2024-05-01",
    "notifyUrl": "https://example.com/dlr",
}

# -- a scripted server ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: "drop": close the connection without an answer; "hang": never answer.
    action: str | None = None


DROP = Reply(action="drop")
HANG = Reply(action="hang")


def error(status: int, message_id: str, text: str, **extra: Any) -> Reply:
    exception = {"messageId": message_id, "text": text, **extra}
    return Reply(status, {"requestError": {"serviceException": exception}})


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """Answers each request with the next reply (the last one repeats)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.seen: list[Seen] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                await request.read(),
            )
        )
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if reply.action == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if reply.action == "hang":
            while request.transport is not None and not request.transport.is_closing():
                await asyncio.sleep(0.01)
            return web.Response()
        if reply.text is not None:
            headers = {k: v for k, v in reply.headers.items() if k != "Content-Type"}
            return web.Response(
                status=reply.status,
                text=reply.text,
                headers=headers,
                content_type=reply.headers.get("Content-Type", "text/plain"),
            )
        if reply.body is None:
            return web.Response(status=reply.status, headers=reply.headers)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            yield f"http://{host}:{port}"
        finally:
            await runner.cleanup()


def client_for(base_url: str, **kwargs: Any) -> IvrClient:
    options: dict[str, Any] = {
        "timeout": 2.0,
        "connections": 4,
        "read_rate": UNLIMITED,
        "write_rate": UNLIMITED,
        "retry": FAST_RETRY,
    }
    options.update(kwargs)
    return IvrClient(base_url, CREDENTIALS, **options)


def against(
    server: ScriptedServer,
    call: Callable[[IvrClient], Awaitable[T]],
    **kwargs: Any,
) -> T:
    """Run ``call(client)`` against ``server`` in a fresh event loop."""

    async def main() -> T:
        async with server.running() as base_url, client_for(base_url, **kwargs) as client:
            return await call(client)

    return asyncio.run(main())


def failure(
    server: ScriptedServer, call: Callable[[IvrClient], Awaitable[Any]], **kwargs: Any
) -> ApiError:
    """The ApiError ``call(client)`` raises against ``server``."""

    async def expect_failure(client: IvrClient) -> ApiError:
        try:
            await call(client)
        except ApiError as exc:
            return exc
        raise AssertionError("the call succeeded")

    return against(server, expect_failure, **kwargs)


def put(client: IvrClient) -> Awaitable[dict[str, Any]]:
    return client.update_scenario(SCENARIO_ID, SCENARIO)


def get(client: IvrClient) -> Awaitable[dict[str, Any]]:
    return client.get_scenario(SCENARIO_ID)


# -- error answers ---------------------------------------------------------------------------


def test_legacy_400_becomes_bad_request_with_validation_errors() -> None:
    reply = error(
        400,
        "BAD_REQUEST",
        "Request body is not valid",
        validationErrors={"script[2].sendSms.to": ["must not be blank"], "name": "too long"},
    )
    exc = failure(ScriptedServer(reply), put)
    assert isinstance(exc, BadRequest)
    assert (exc.status, exc.message_id) == (400, "BAD_REQUEST")
    assert exc.validation_errors == {
        "script[2].sendSms.to": ["must not be blank"],
        "name": ["too long"],
    }
    assert (exc.method, exc.path, exc.scenario_id) == ("PUT", SCENARIO_PATH, SCENARIO_ID)
    assert str(exc).startswith(f"PUT {SCENARIO_PATH} failed: HTTP 400 BAD_REQUEST")
    assert "script[2].sendSms.to: must not be blank" in str(exc)
    assert exc.retryable is False


def test_newer_error_shape_is_parsed_too() -> None:
    body = {
        "errorCode": "E400",
        "description": "Request cannot be processed.",
        "action": "Check the syntax, violations and adjust the request.",
        "violations": [
            {"property": "script[0].say", "violation": "must not be blank"},
            {"property": "script[0].say", "violation": "too short"},
        ],
        "resources": [],
    }
    exc = failure(ScriptedServer(Reply(400, body)), put)
    assert isinstance(exc, BadRequest)
    assert exc.message_id == "E400"
    assert exc.validation_errors == {"script[0].say": ["must not be blank", "too short"]}
    assert "Request cannot be processed." in str(exc)


@pytest.mark.parametrize(
    "reply, expected",
    [
        (error(401, "UNAUTHORIZED", "Invalid login details"), Unauthorized),
        (error(403, "FORBIDDEN", "Missing scope"), Forbidden),
        (error(404, "NOT_FOUND", "Scenario not found"), NotFound),
        (error(429, "TOO_MANY_REQUESTS", "Too many requests"), RateLimited),
        (error(500, "GENERAL_ERROR", "Something went wrong"), ServerError),
        (Reply(502, text="<html><body>Bad Gateway</body></html>"), ServerError),
        (Reply(503), ServerError),
        (Reply(409, {"unexpected": "shape"}), HttpError),
    ],
)
def test_each_status_maps_to_its_exception(reply: Reply, expected: type[HttpError]) -> None:
    exc = failure(ScriptedServer(reply), put)
    assert type(exc) is expected
    assert isinstance(exc, HttpError)
    assert exc.status == reply.status
    assert f"PUT {SCENARIO_PATH}" in str(exc)
    assert "\n" not in str(exc)


def test_non_json_error_body_is_quoted_briefly() -> None:
    page = "<html><body>" + "upstream timed out " * 50 + "</body></html>"
    exc = failure(ScriptedServer(Reply(504, text=page, headers={"Content-Type": "text/html"})), put)
    assert isinstance(exc, ServerError)
    assert "upstream timed out" in str(exc)
    assert len(str(exc)) < 300


def test_429_carries_retry_after_in_seconds() -> None:
    reply = Reply(
        429, error(429, "TOO_MANY_REQUESTS", "slow down").body, headers={"Retry-After": "7"}
    )
    exc = failure(ScriptedServer(reply), put)
    assert isinstance(exc, RateLimited)
    assert exc.retry_after == 7.0
    assert exc.message_id == "TOO_MANY_REQUESTS"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0.5", 0.5),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),  # now = 07:28:00
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
        ("-4", None),
        ("soon", None),
        ("inf", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after(value, now=now) == expected


@pytest.mark.parametrize(
    "raw, message_id, text, errors",
    [
        (
            b'{"requestError":{"policyException":{"messageId":"UNAUTHORIZED","text":"nope"}}}',
            "UNAUTHORIZED",
            "nope",
            None,
        ),
        (
            b"<ApiException><requestError><serviceException><messageId>BAD_REQUEST</messageId>"
            b"<text>Bad body</text></serviceException></requestError></ApiException>",
            "BAD_REQUEST",
            "Bad body",
            None,
        ),
        (b"plain words\n from a proxy", None, "plain words from a proxy", None),
        (b'["a list"]', None, '["a list"]', None),
        (b"\xff\xfe not utf-8", None, "\ufffd\ufffd not utf-8", None),
        (
            b'{"errorCode":"E429","description":"Too many requests","violations":[]}',
            "E429",
            "Too many requests",
            None,
        ),
    ],
)
def test_parse_error_body_shapes(
    raw: bytes, message_id: str | None, text: str, errors: dict[str, list[str]] | None
) -> None:
    details = parse_error_body(raw)
    assert details is not None
    assert (details.message_id, details.text, details.validation_errors) == (
        message_id,
        text,
        errors,
    )


def test_empty_error_body_falls_back_to_the_reason_phrase() -> None:
    assert parse_error_body(b"  ") is None
    exc = failure(ScriptedServer(Reply(404)), get)
    assert isinstance(exc, NotFound)
    assert str(exc) == f"GET {SCENARIO_PATH} failed: HTTP 404 Not Found"


# -- retries -----------------------------------------------------------------------------------


def test_reads_are_retried_until_success_and_every_attempt_is_reported() -> None:
    attempts: list[Attempt] = []
    server = ScriptedServer(
        error(503, "GENERAL_ERROR", "busy"), DROP, Reply(200, text="{oops"), Reply(200, SCENARIO)
    )
    result = against(server, get, retry=RetryPolicy(5, 0.001, 0.005), on_attempt=attempts.append)
    assert result == SCENARIO
    assert len(server.seen) == 4
    assert [(a.status, a.error_class) for a in attempts] == [
        (503, "ServerError"),
        (None, "TransportError"),
        (200, "BadAnswer"),
        (200, None),
    ]
    assert all(
        (a.method, a.path, a.scenario_id) == ("GET", SCENARIO_PATH, SCENARIO_ID) for a in attempts
    )
    assert all(a.duration >= 0 and a.started_at > 0 for a in attempts)


def test_reads_stop_after_max_attempts() -> None:
    server = ScriptedServer(error(500, "GENERAL_ERROR", "down"))
    exc = failure(server, get, retry=RetryPolicy(4, 0.001, 0.005))
    assert isinstance(exc, ServerError)
    assert len(server.seen) == 4


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_reads_are_not_retried_on_permanent_errors(status: int) -> None:
    server = ScriptedServer(error(status, "X", "no"))
    failure(server, get)
    assert len(server.seen) == 1


class RecordingReadLimiter(ReadLimiter):
    def __init__(self, rate: Rate) -> None:
        super().__init__(rate)
        self.pauses: list[float] = []

    def slow_down(self, seconds: float) -> None:
        self.pauses.append(seconds)
        super().slow_down(seconds)


class RecordingWriteLimiter(WriteLimiter):
    def __init__(self, rate: Rate) -> None:
        super().__init__(rate)
        self.pauses: list[float] = []
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1
        await super().acquire()

    def slow_down(self, seconds: float) -> None:
        self.pauses.append(seconds)
        super().slow_down(seconds)


def test_a_read_429_honours_retry_after_through_the_read_limiter() -> None:
    limiter = RecordingReadLimiter(UNLIMITED)
    limited = Reply(429, headers={"Retry-After": "0.05"})
    server = ScriptedServer(limited, Reply(200, SCENARIO))
    assert against(server, get, read_limiter=limiter) == SCENARIO
    assert limiter.pauses == [0.05]
    assert len(server.seen) == 2


def test_a_read_429_without_retry_after_pauses_at_least_one_interval() -> None:
    limiter = RecordingReadLimiter(Rate(50, 1.0))
    server = ScriptedServer(Reply(429), Reply(429), Reply(200, SCENARIO))
    assert against(server, get, read_limiter=limiter) == SCENARIO
    assert len(limiter.pauses) == 2
    assert all(pause >= limiter.interval for pause in limiter.pauses)


def test_reads_still_rate_limited_after_max_attempts_raise_rate_limited() -> None:
    limiter = RecordingReadLimiter(UNLIMITED)
    server = ScriptedServer(Reply(429, headers={"Retry-After": "0"}))
    exc = failure(server, get, read_limiter=limiter)
    assert isinstance(exc, RateLimited)
    assert len(server.seen) == FAST_RETRY.max_attempts
    assert limiter.pauses == [0.0] * FAST_RETRY.max_attempts


# -- writes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, expected",
    [
        (error(500, "GENERAL_ERROR", "boom"), ServerError),
        (Reply(503), ServerError),
        (DROP, TransportError),
        (HANG, RequestTimeout),
        (Reply(200, text="not json"), BadAnswer),
    ],
    ids=["500", "503", "dropped", "hung", "bad-json"],
)
def test_a_write_is_sent_exactly_once_whatever_happens(
    reply: Reply, expected: type[ApiError]
) -> None:
    attempts: list[Attempt] = []
    server = ScriptedServer(reply, Reply(200, SCENARIO))
    exc = failure(server, put, timeout=0.3, on_attempt=attempts.append)
    assert type(exc) is expected
    assert exc.retryable is True
    assert [s.method for s in server.seen] == ["PUT"]
    assert [(a.method, a.error_class) for a in attempts] == [("PUT", expected.__name__)]


def test_a_write_429_slows_the_write_limiter_then_raises() -> None:
    limiter = RecordingWriteLimiter(UNLIMITED)
    server = ScriptedServer(Reply(429, headers={"Retry-After": "0.05"}), Reply(429))
    first = failure(server, put, write_limiter=limiter)
    assert isinstance(first, RateLimited)
    assert first.retry_after == 0.05
    assert limiter.pauses == [0.05]
    assert len(server.seen) == 1


def test_consecutive_write_429s_without_retry_after_pause_at_least_one_interval() -> None:
    limiter = RecordingWriteLimiter(Rate(100, 1.0))

    async def three_puts(client: IvrClient) -> None:
        for _ in range(3):
            with contextlib.suppress(RateLimited):
                await put(client)

    against(ScriptedServer(Reply(429)), three_puts, write_limiter=limiter)
    assert len(limiter.pauses) == 3
    assert all(pause >= limiter.interval for pause in limiter.pauses)


def test_update_strips_read_only_fields_and_sends_json_with_the_credentials() -> None:
    server = ScriptedServer(Reply(200, SCENARIO))
    before = json.dumps(SCENARIO, sort_keys=True)
    result = against(server, put)
    assert result == SCENARIO
    assert json.dumps(SCENARIO, sort_keys=True) == before  # the caller's dict is untouched
    (seen,) = server.seen
    sent = json.loads(seen.body)
    assert not set(READ_ONLY_FIELDS) & set(sent)
    assert sent == {k: v for k, v in SCENARIO.items() if k not in READ_ONLY_FIELDS}
    assert list(sent) == ["name", "description", "script", "notifyUrl"]  # order kept
    assert (seen.method, seen.path) == ("PUT", SCENARIO_PATH)
    assert seen.headers["Authorization"] == f"App {KEY}"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"


def test_a_put_answer_wrapped_in_an_array_is_unwrapped() -> None:
    assert against(ScriptedServer(Reply(200, [SCENARIO])), put) == SCENARIO


def test_create_strips_read_only_fields_and_delete_sends_no_body() -> None:
    server = ScriptedServer(Reply(200, SCENARIO), Reply(200))

    async def create_then_delete(client: IvrClient) -> dict[str, Any]:
        created = await client.create_scenario(SCENARIO)
        await client.delete_scenario(created["id"])
        return created

    assert against(server, create_then_delete)["id"] == SCENARIO_ID
    create, delete = server.seen
    assert (create.method, create.path) == ("POST", "/voice/ivr/1/scenarios")
    assert "id" not in json.loads(create.body)
    assert (delete.method, delete.path, delete.body) == ("DELETE", SCENARIO_PATH, b"")


def test_scenario_ids_are_quoted_into_the_path() -> None:
    server = ScriptedServer(Reply(200, SCENARIO))
    against(server, lambda client: client.get_scenario("a/b?c"))
    assert server.seen[0].path == "/voice/ivr/1/scenarios/a/b?c"  # decoded by the server
    assert server.seen[0].query == {}


# -- credentials never leak --------------------------------------------------------------------


def _rendered(exc: BaseException) -> str:
    return str(exc) + repr(exc) + "".join(traceback.format_exception(exc))


@pytest.mark.parametrize(
    "reply",
    [
        error(401, "UNAUTHORIZED", f"Invalid key App {KEY}"),
        error(400, "BAD_REQUEST", "Bad body", validationErrors={"auth": [f"App {KEY}"]}),
        Reply(500, text=f"proxy saw Authorization: App {KEY}"),
        Reply(200, text=f"not json {KEY}"),
        DROP,
        HANG,
    ],
    ids=[
        "echoed-in-401",
        "echoed-in-validation",
        "echoed-in-500-text",
        "echoed-in-bad-json",
        "dropped",
        "hung",
    ],
)
def test_credentials_never_appear_in_exceptions(reply: Reply) -> None:
    attempts: list[Attempt] = []
    exc = failure(ScriptedServer(reply), get, timeout=0.3, on_attempt=attempts.append)
    assert KEY not in _rendered(exc)
    assert KEY not in repr(vars(exc))
    assert KEY not in repr(attempts)


def test_a_garbled_answer_is_not_chained_because_aiohttp_would_print_the_headers() -> None:
    async def main() -> ApiError:
        async def garble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HELLO THERE\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(garble, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with client_for(f"http://127.0.0.1:{port}") as client:
                try:
                    await put(client)
                except ApiError as exc:
                    return exc
        finally:
            server.close()
            await server.wait_closed()
        raise AssertionError("the call succeeded")

    exc = asyncio.run(main())
    assert isinstance(exc, TransportError)
    assert "ClientResponseError" in str(exc)
    assert exc.__cause__ is None and exc.__context__ is None
    assert KEY not in _rendered(exc)


def test_the_client_repr_hides_the_credentials() -> None:
    client = client_for("http://127.0.0.1:9")
    assert KEY not in repr(client)
    assert "hidden" in repr(client)


# -- connecting --------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_connection_refused_fails_fast_with_one_attempt() -> None:
    attempts: list[Attempt] = []

    async def main() -> ApiError:
        async with client_for(
            f"http://127.0.0.1:{_closed_port()}", on_attempt=attempts.append
        ) as client:
            try:
                await client.check_connection()
            except ApiError as exc:
                return exc
        raise AssertionError("connected")

    exc = asyncio.run(main())
    assert type(exc) is TransportError
    assert "cannot connect" in str(exc)
    assert isinstance(exc.__cause__, aiohttp.ClientConnectorError)  # transport errors chain
    assert len(attempts) == 1
    assert "\n" not in str(exc)


def test_check_connection_reports_a_wrong_key() -> None:
    server = ScriptedServer(error(401, "UNAUTHORIZED", "Invalid login details"))
    exc = failure(server, lambda client: client.check_connection())
    assert isinstance(exc, Unauthorized)
    assert server.seen[0].query == {"page": "1", "pageSize": "1"}


def test_check_connection_passes_on_a_good_answer() -> None:
    server = ScriptedServer(Reply(200, []))
    assert against(server, lambda client: client.check_connection()) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://api.infobip.com",
        "http://10.0.0.1:8080",
        "http://example.localhost.evil.com",
        "ftp://api.infobip.com",
        "api.infobip.com",
        "https://user:s3cr3tpass@api.infobip.com",
        "https://api.infobip.com/?x=1",
    ],
)
def test_unsafe_or_unusable_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        IvrClient(url, CREDENTIALS, read_rate=UNLIMITED, write_rate=UNLIMITED)
    message = str(caught.value)
    assert "\n" not in message
    assert "s3cr3tpass" not in message


@pytest.mark.parametrize(
    "url",
    [
        "https://xxxxx.api.infobip.com",
        "https://api.infobip.com/",
        "http://127.0.0.1:8080",
        "http://127.3.4.5",
        "http://[::1]:8080",
        "http://localhost:1234",
        "http://LOCALHOST",
    ],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert check_base_url(url).host


def test_using_the_client_outside_its_context_is_a_bug() -> None:
    client = client_for("http://127.0.0.1:9")
    with pytest.raises(RuntimeError, match="async with"):
        asyncio.run(client.get_scenario(SCENARIO_ID))


# -- TLS ---------------------------------------------------------------------------------------


@pytest.fixture
def self_signed(tmp_path: Path) -> Iterator[ssl.SSLContext]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    yield context


def test_tls_certificates_are_verified(self_signed: ssl.SSLContext) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.json_response(SCENARIO)

    async def main() -> ApiError:
        app = web.Application()
        app.router.add_get("/{tail:.*}", answer)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self_signed)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with client_for(f"https://localhost:{port}") as client:
                try:
                    await get(client)
                except ApiError as exc:
                    return exc
        finally:
            await runner.cleanup()
        raise AssertionError("a self-signed certificate was accepted")

    exc = asyncio.run(main())
    assert type(exc) is TransportError
    assert "TLS" in str(exc)
    assert exc.retryable is False


# -- every aiohttp error is mapped ---------------------------------------------------------------


def _aiohttp_error_classes() -> set[type[BaseException]]:
    found: set[type[BaseException]] = set()
    pending: list[type[BaseException]] = [aiohttp.ClientError]
    while pending:
        cls = pending.pop()
        if cls not in found and cls.__module__.startswith("aiohttp"):
            found.add(cls)
            pending.extend(cls.__subclasses__())
    return found


def test_every_aiohttp_client_error_is_mapped_deliberately() -> None:
    catch_all = {row[0] for row in _TRANSPORT_ERRORS if row[0] is aiohttp.ClientError}
    listed = [row[0] for row in _TRANSPORT_ERRORS]
    classes = _aiohttp_error_classes()
    assert len(classes) > 20
    for cls in classes - catch_all:
        matched = next(row for row in listed if issubclass(cls, row))
        assert matched is not aiohttp.ClientError, f"{cls.__name__} has no deliberate mapping"
        ours, _, _ = classify_transport_error(cls)
        assert issubclass(ours, TransportError)
        if issubclass(cls, TimeoutError):
            assert ours is RequestTimeout, cls
        else:
            assert ours is TransportError, cls


def test_plain_timeouts_and_socket_errors_are_mapped_too() -> None:
    assert classify_transport_error(TimeoutError)[0] is RequestTimeout
    assert classify_transport_error(asyncio.TimeoutError)[0] is RequestTimeout
    assert classify_transport_error(ConnectionResetError)[0] is TransportError


# -- against the sandbox -------------------------------------------------------------------------


def test_iter_scenarios_pages_through_120_scenarios_in_pages_of_50() -> None:
    config = SandboxConfig(generate=113, write_rate=None)
    with start_sandbox(config) as sandbox:
        assert sandbox.scenario_count() == 120

        async def main() -> list[dict[str, Any]]:
            async with IvrClient(
                sandbox.base_url,
                sandbox.credentials(),
                read_rate=UNLIMITED,
                write_rate=UNLIMITED,
            ) as client:
                return [item async for item in client.iter_scenarios()]

        scenarios = asyncio.run(main())
        searches = [e for e in sandbox.request_log() if e.method == "GET"]
    assert len(scenarios) == 120
    assert len({s["id"] for s in scenarios}) == 120
    assert len(searches) == 3


def test_iter_scenarios_asks_for_one_more_page_after_an_exact_multiple() -> None:
    page = [{"id": f"S{i}"} for i in range(50)]
    server = ScriptedServer(Reply(200, page), Reply(200, [{"id": f"T{i}"} for i in range(50)]))
    server.replies.append(Reply(200, []))

    async def collect(client: IvrClient) -> list[dict[str, Any]]:
        return [item async for item in client.iter_scenarios(name="Welcome")]

    assert len(against(server, collect)) == 100
    assert [s.query for s in server.seen] == [
        {"page": str(n), "pageSize": "50", "name": "Welcome"} for n in (1, 2, 3)
    ]


def test_iter_scenarios_stops_when_the_server_ignores_the_page() -> None:
    server = ScriptedServer(Reply(200, [{"id": f"S{i}"} for i in range(50)]))

    async def collect(client: IvrClient) -> list[dict[str, Any]]:
        return [item async for item in client.iter_scenarios()]

    assert len(against(server, collect)) == 50
    assert len(server.seen) == 2


def test_search_validates_paging_arguments() -> None:
    client = client_for("http://127.0.0.1:9")
    with pytest.raises(ValueError):
        asyncio.run(client.search(page_size=51))
    with pytest.raises(ValueError):
        asyncio.run(client.search(page=0))


def test_writes_against_a_strict_window_sandbox_get_no_429() -> None:
    rate = Rate(3, 0.5)
    with start_sandbox(SandboxConfig(write_rate=rate)) as sandbox:
        ids = [s["id"] for s in sandbox.scenarios()][:2]

        async def main() -> None:
            # a wider margin than the default: this machine's scheduling jitter is not the test
            limiter = WriteLimiter(rate, margin=0.2)
            async with IvrClient(
                sandbox.base_url,
                sandbox.credentials(),
                read_rate=UNLIMITED,
                write_rate=rate,
                write_limiter=limiter,
            ) as client:
                bodies = {i: await client.get_scenario(i) for i in ids}
                await asyncio.gather(
                    *(client.update_scenario(i, bodies[i]) for i in ids for _ in range(4))
                )

        asyncio.run(main())
        puts = [e for e in sandbox.request_log() if e.method == "PUT"]
    assert len(puts) == 8
    assert [e.status for e in puts] == [200] * 8


def test_a_bursting_client_meets_the_sandbox_429_with_retry_after() -> None:
    rate = Rate(2, 30.0)
    with start_sandbox(SandboxConfig(write_rate=rate, retry_after=True)) as sandbox:
        scenario_id = sandbox.scenarios()[0]["id"]

        async def main() -> list[BaseException | dict[str, Any]]:
            async with IvrClient(
                sandbox.base_url,
                sandbox.credentials(),
                read_rate=UNLIMITED,
                write_rate=UNLIMITED,  # deliberately too fast for the server
            ) as client:
                body = await client.get_scenario(scenario_id)
                return [await _outcome(client.update_scenario(scenario_id, body)) for _ in range(3)]

        first, second, third = asyncio.run(main())
    assert isinstance(first, dict) and isinstance(second, dict)
    assert isinstance(third, RateLimited)
    assert third.retry_after is not None and 0 < third.retry_after <= 30


async def _outcome(call: Awaitable[T]) -> T | BaseException:
    try:
        return await call
    except ApiError as exc:
        return exc


def test_create_get_delete_round_trip_on_the_sandbox() -> None:
    with start_sandbox(SandboxConfig(seed_dir=None, write_rate=None)) as sandbox:

        async def main() -> ApiError:
            async with IvrClient(
                sandbox.base_url,
                sandbox.credentials(),
                read_rate=UNLIMITED,
                write_rate=UNLIMITED,
                retry=FAST_RETRY,
            ) as client:
                created = await client.create_scenario(SCENARIO)
                assert created["id"] != SCENARIO_ID  # ours was stripped; the server chose one
                assert (await client.get_scenario(created["id"]))["name"] == "Welcome"
                await client.delete_scenario(created["id"])
                outcome = await _outcome(client.get_scenario(created["id"]))
                assert isinstance(outcome, ApiError)
                return outcome

        assert isinstance(asyncio.run(main()), NotFound)
