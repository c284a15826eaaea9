"""The HTTP layer of the sandbox: the IVR scenario endpoints and a small admin API.

Endpoints (reference §4)::

    GET    /voice/ivr/1/scenarios         search: page, pageSize, name, lastUsageDateSince/Until
    POST   /voice/ivr/1/scenarios         create
    GET    /voice/ivr/1/scenarios/{id}    get one
    PUT    /voice/ivr/1/scenarios/{id}    full replace (``put_replaces``; else a merge)
    DELETE /voice/ivr/1/scenarios/{id}    delete (200, empty body)

Bodies may carry keys the sandbox does not model, at the top level and inside actions (the 2026
schema forbids no extra property): they are stored and served back as sent. Only the read-only
fields (``id``, ``createTime``, ``updateTime``, ``lastUsageDate``) are ignored.

Every request to them passes, in order: authentication (401), the account's scope (403 for
writes of a read-only account), the account's rate limit (429), the faults, then the handler.
Every error answer has Infobip's legacy body
``{"requestError": {"serviceException": {"messageId", "text", "validationErrors"?}}}``,
including aiohttp's own 404/405/413 and unexpected exceptions (500 GENERAL_ERROR).

Admin endpoints under ``/_sandbox/`` (a prefix Infobip does not use) take any account's
credentials, are neither limited, faulted nor logged::

    GET  /_sandbox/faults        current faults as JSON
    PUT  /_sandbox/faults        replace them (JSON object with the fields of ``Faults``)
    GET  /_sandbox/log           request log entries (``?since=SEQ`` for newer ones only); a hung
                                 or held request is there (``held``) while it is held
    GET  /_sandbox/put-counts    stored PUTs per scenario id (``?account=NAME``)
    POST /_sandbox/reset-log     clear the log and the PUT counts
    POST /_sandbox/reset-limits  forget every rate window
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from http import HTTPStatus
from typing import Any, Final, Protocol

from aiohttp import hdrs, web

from migrate.errors import ConfigError
from migrate.sandbox import faults as fault
from migrate.sandbox import requestlog as outcome
from migrate.sandbox.auth import Account
from migrate.sandbox.faultbodies import nested_json, stream_huge_json
from migrate.sandbox.faults import Faults
from migrate.sandbox.settings import SandboxConfig
from migrate.sandbox.state import READ, WRITE, SandboxState
from migrate.sandbox.store import READ_ONLY_FIELDS, SearchQuery
from transforms.validate import ValidationError, errors_by_path, validate_scenario

logger = logging.getLogger(__name__)

STATE: Final = web.AppKey("sandbox_state", SandboxState)
API_ROOT: Final = "/voice/ivr/1/scenarios"
ADMIN_PREFIX: Final = "/_sandbox/"
MAX_PAGE_SIZE: Final = 50
JSON_TYPE: Final = "application/json"
WRITE_METHODS: Final = frozenset({"PUT", "POST", "DELETE"})
READ_METHODS: Final = frozenset({"GET", "HEAD"})
SCENARIO_ID: Final = re.compile(r"^[0-9A-F]{32}$")
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: How ``transforms.validate_fields.unknown_key_message`` starts.
UNKNOWN_KEY_MESSAGE: Final = "unknown key "

# Keys of per-request values set by the middleware and the handlers.
_ACCOUNT: Final = web.RequestKey("sandbox_account", Account)
_STORED: Final = web.RequestKey("sandbox_stored", bool)
_SCENARIO: Final = web.RequestKey("sandbox_scenario_id", str)

MESSAGE_IDS: Final = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
    500: "GENERAL_ERROR",
}
_TEXTS: Final = {
    401: "Invalid login details",
    403: "Forbidden: this account may not change scenarios",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body is too large",
    429: "Too many requests",
    500: "Something went wrong; please try again later",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def message_id(status: int) -> str:
    """Infobip's ``messageId`` for a status (``TOO_MANY_REQUESTS``), HTTP's name otherwise."""
    if status in MESSAGE_IDS:
        return MESSAGE_IDS[status]
    try:
        return HTTPStatus(status).name
    except ValueError:
        return f"E{status}"


def error_body(
    status: int, text: str, validation_errors: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    exception: dict[str, Any] = {"messageId": message_id(status), "text": text}
    if validation_errors:
        exception["validationErrors"] = dict(validation_errors)
    return {"requestError": {"serviceException": exception}}


def error_response(
    status: int,
    text: str | None = None,
    validation_errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    if text is None:
        text = _TEXTS.get(status) or _reason(status)
    return web.json_response(
        error_body(status, text, validation_errors), status=status, headers=headers
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class InfobipError(Exception):
    """Raised by handlers; the middleware answers it with Infobip's error body."""

    def __init__(
        self, status: int, text: str, validation_errors: Mapping[str, list[str]] | None = None
    ) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.validation_errors = validation_errors

    def response(self) -> web.Response:
        return error_response(self.status, self.text, self.validation_errors)


def _json_text(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type=JSON_TYPE)


# -- middleware ---------------------------------------------------------------------------


@web.middleware
async def sandbox_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    if request.path.startswith(ADMIN_PREFIX):
        if state.auth.authenticate(request.headers.get(hdrs.AUTHORIZATION)) is None:
            return error_response(401)
        return await _run(handler, request)
    return await _serve_api(request, handler, state)


async def _serve_api(
    request: web.Request, handler: Handler, state: SandboxState
) -> web.StreamResponse:
    arrival = state.config.clock()
    wall = time.time()
    method = request.method
    account = state.auth.authenticate(request.headers.get(hdrs.AUTHORIZATION))

    def log(status: int | None, result: str, stored: bool = False, held: bool = False) -> None:
        state.log.add(
            time=wall,
            method=method,
            path=request.path,
            scenario_id=request.get(_SCENARIO) or request.match_info.get("id"),
            account=account.name if account else None,
            status=status,
            outcome=result,
            stored=stored,
            held=held,
        )

    if account is None:
        log(401, outcome.ANSWERED)
        return error_response(401)
    request[_ACCOUNT] = account
    kind = WRITE if method in WRITE_METHODS else READ if method in READ_METHODS else None
    if kind == WRITE and account.read_only:
        log(403, outcome.ANSWERED)
        return error_response(403)
    if kind is not None:
        wait = state.admit(account, kind, arrival)
        if wait is not None:
            log(429, outcome.LIMITED)
            headers = {"Retry-After": str(max(1, int(-(-wait // 1))))}
            return error_response(429, headers=headers if state.config.retry_after else None)
    return await _with_faults(request, handler, state, log)


class _Log(Protocol):
    def __call__(
        self, status: int | None, result: str, stored: bool = False, held: bool = False
    ) -> None: ...


async def _with_faults(
    request: web.Request, handler: Handler, state: SandboxState, log: _Log
) -> web.StreamResponse:
    """Run the handler under this request's fault decision, and log what the client got."""
    faults = state.faults.faults
    decision = state.faults.decide(request.method)
    if decision.latency > 0 and await _stopped_during(state, decision.latency):
        log(None, outcome.DROPPED_BEFORE)
        return _drop(request)
    action = decision.outcome
    if action in (fault.HANG, fault.HOLD_BEFORE):
        log(None, outcome.HUNG if action == fault.HANG else outcome.HELD_BEFORE, held=True)
        return await _hold(request, state)
    if action == fault.DROP_BEFORE:
        log(None, outcome.DROPPED_BEFORE)
        return _drop(request)
    if isinstance(action, int):
        log(action, outcome.INJECTED)
        return error_response(action, f"Injected fault: {_reason(action)}")

    response = await _run(handler, request)
    stored = bool(request.get(_STORED))
    if action == fault.DROP_AFTER:
        log(None, outcome.DROPPED_AFTER, stored)
        return _drop(request)
    if action == fault.HOLD_AFTER:
        log(None, outcome.HELD_AFTER, stored, held=True)
        return await _hold(request, state)
    if action == fault.NESTED:
        log(200, outcome.NESTED, stored)
        return web.Response(body=nested_json(faults.nested_depth), content_type=JSON_TYPE)
    if action == fault.HUGE:
        log(200, outcome.HUGE, stored)
        return await stream_huge_json(request, faults.huge_body_bytes)
    log(response.status, outcome.STORED if stored else outcome.ANSWERED, stored)
    return response


async def _run(handler: Handler, request: web.Request) -> web.StreamResponse:
    """Run a handler, turning every failure into an Infobip-shaped answer."""
    try:
        return await handler(request)
    except InfobipError as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = exc.headers.get(hdrs.ALLOW)
        return error_response(exc.status, headers={hdrs.ALLOW: allow} if allow else None)
    except RecursionError:
        return error_response(400, "Request body is nested too deeply")
    except Exception:
        logger.exception("sandbox handler failed on %s %s", request.method, request.path)
        return error_response(500)


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer; aiohttp then fails to write and moves on."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response()


async def _stopped_during(state: SandboxState, seconds: float) -> bool:
    """Sleep, but wake up when the server stops (so stopping never waits for latency)."""
    if state.stopping is None:
        await asyncio.sleep(seconds)
        return False
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(state.stopping.wait(), seconds)
    return state.stopping.is_set()


async def _hold(request: web.Request, state: SandboxState) -> web.StreamResponse:
    """Never answer: wait for the client or the server to end it, then close the connection."""
    await _hang(request, state)
    return _drop(request)


async def _hang(request: web.Request, state: SandboxState) -> None:
    """Wait until the client gives up (closes the connection) or the server stops."""
    stopping = state.stopping
    while request.transport is not None and not request.transport.is_closing():
        if stopping is None:
            await asyncio.sleep(0.05)
            continue
        if stopping.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), 0.05)


# -- scenario endpoints -------------------------------------------------------------------


def _context(request: web.Request) -> tuple[SandboxState, Account]:
    return request.app[STATE], request[_ACCOUNT]


def _scenario_id(request: web.Request) -> str:
    scenario_id = request.match_info["id"]
    if not SCENARIO_ID.match(scenario_id):
        raise InfobipError(
            400,
            "Invalid scenario id",
            {"id": ["must be 32 upper-case hexadecimal characters"]},
        )
    return scenario_id


def _not_found(scenario_id: str) -> InfobipError:
    return InfobipError(404, f"Scenario {scenario_id} not found")


def parse_search(query: Mapping[str, str]) -> SearchQuery:
    """Search parameters (reference §4.1); every bad one is reported in ``validationErrors``."""
    problems: dict[str, list[str]] = {}

    def integer(key: str, default: int, low: int, high: int | None) -> int:
        text = query.get(key)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            problems[key] = [f"must be an integer {bounds}"]
            return default
        return value

    def day(key: str) -> str | None:
        text = query.get(key)
        if not text:
            return None
        try:
            if _DATE.match(text):
                date.fromisoformat(text)
                return text
        except ValueError:
            pass
        problems[key] = ["must be a date written yyyy-MM-dd"]
        return None

    page = integer("page", 1, 1, None)
    page_size = integer("pageSize", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    since, until = day("lastUsageDateSince"), day("lastUsageDateUntil")
    if problems:
        raise InfobipError(400, "Invalid search parameters", problems)
    return SearchQuery(
        name=query.get("name") or None,
        since=since,
        until=until,
        offset=(page - 1) * page_size,
        limit=page_size,
    )


async def search_scenarios(request: web.Request) -> web.StreamResponse:
    state, account = _context(request)
    found = state.store.search(account.name, parse_search(request.query))
    return _json_text("[" + ",".join(s.to_json() for s in found) + "]")


async def get_scenario(request: web.Request) -> web.StreamResponse:
    state, account = _context(request)
    scenario_id = _scenario_id(request)
    found = state.store.get(account.name, scenario_id)
    if found is None:
        raise _not_found(scenario_id)
    return _json_text(found.to_json())


async def create_scenario(request: web.Request) -> web.StreamResponse:
    state, account = _context(request)
    body = _validated(await _read_json(request))
    created = state.create(account.name, body)
    request[_STORED] = True
    request[_SCENARIO] = created.id
    return _json_text(created.to_json())


async def update_scenario(request: web.Request) -> web.StreamResponse:
    state, account = _context(request)
    scenario_id = _scenario_id(request)
    body = await _read_json(request)
    if state.store.get(account.name, scenario_id) is None:
        raise _not_found(scenario_id)
    updated = state.replace(account.name, scenario_id, _validated(body))
    if updated is None:
        raise _not_found(scenario_id)
    request[_STORED] = True
    return _json_text(updated.to_json())


async def delete_scenario(request: web.Request) -> web.StreamResponse:
    state, account = _context(request)
    scenario_id = _scenario_id(request)
    if not state.store.delete(account.name, scenario_id):
        raise _not_found(scenario_id)
    request[_STORED] = True
    return web.Response(status=200)


async def _read_json(request: web.Request) -> Any:
    """The request's JSON body: 415 for another content type, 413 when too big, 400 if bad."""
    content_type = request.content_type
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise InfobipError(415, "Content-Type must be application/json")
    limit = request.app[STATE].config.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise InfobipError(413, f"Request body is larger than {limit} bytes")
    raw = await request.read()
    if not raw.strip():
        raise InfobipError(400, "Request body is missing")
    try:
        text = raw.decode(request.charset or "utf-8")
        return json.loads(text, parse_constant=_refuse_constant)
    except LookupError:
        raise InfobipError(415, "Unknown charset in Content-Type") from None
    except ValueError as exc:
        raise InfobipError(400, f"Request body is not valid JSON: {exc}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _validated(body: Any) -> dict[str, Any]:
    errors = [e for e in validate_scenario(body, request=True) if not _is_unmodelled_key(e)]
    if errors:
        raise InfobipError(400, "Request body is not valid", errors_by_path(errors))
    assert isinstance(body, dict)
    return {key: value for key, value in body.items() if key not in READ_ONLY_FIELDS}


def _is_unmodelled_key(error: ValidationError) -> bool:
    """An extra key beside known ones, which the 2026 schema allows and the sandbox stores.

    Only the validator's "unknown key" message: an object with no action key, or one holding
    two action keys, stays an error. (Until the validator reports extra keys as warnings.)
    """
    return error.message.startswith(UNKNOWN_KEY_MESSAGE)


# -- admin endpoints ----------------------------------------------------------------------


async def admin_get_faults(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[STATE].faults.faults.to_json())


async def admin_put_faults(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        faults = Faults.from_json(await _read_json(request))
    except ConfigError as exc:
        raise InfobipError(400, str(exc)) from None
    state.faults.set(faults)
    return web.json_response(faults.to_json())


async def admin_log(request: web.Request) -> web.StreamResponse:
    try:
        since = int(request.query.get("since", "0"))
    except ValueError:
        raise InfobipError(400, "since must be an integer") from None
    entries = request.app[STATE].log.entries(since)
    return web.json_response([entry.to_json() for entry in entries])


async def admin_put_counts(request: web.Request) -> web.StreamResponse:
    return web.json_response(request.app[STATE].log.put_counts(request.query.get("account")))


async def admin_reset_log(request: web.Request) -> web.StreamResponse:
    request.app[STATE].log.clear()
    return web.json_response({})


async def admin_reset_limits(request: web.Request) -> web.StreamResponse:
    request.app[STATE].reset_limits()
    return web.json_response({})


# -- application --------------------------------------------------------------------------


def create_app(config: SandboxConfig | None = None) -> web.Application:
    """The sandbox as an aiohttp application; seeds (or opens) its store right away."""
    state = SandboxState(config or SandboxConfig())
    app = web.Application(
        middlewares=[sandbox_middleware], client_max_size=state.config.max_body_bytes
    )
    app[STATE] = state
    app.router.add_get(API_ROOT, search_scenarios)
    app.router.add_post(API_ROOT, create_scenario)
    app.router.add_get(API_ROOT + "/{id}", get_scenario)
    app.router.add_put(API_ROOT + "/{id}", update_scenario)
    app.router.add_delete(API_ROOT + "/{id}", delete_scenario)
    app.router.add_get(ADMIN_PREFIX + "faults", admin_get_faults)
    app.router.add_put(ADMIN_PREFIX + "faults", admin_put_faults)
    app.router.add_get(ADMIN_PREFIX + "log", admin_log)
    app.router.add_get(ADMIN_PREFIX + "put-counts", admin_put_counts)
    app.router.add_post(ADMIN_PREFIX + "reset-log", admin_reset_log)
    app.router.add_post(ADMIN_PREFIX + "reset-limits", admin_reset_limits)
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)
    app.on_cleanup.append(_on_cleanup)
    return app


async def _on_startup(app: web.Application) -> None:
    app[STATE].stopping = asyncio.Event()


async def _on_shutdown(app: web.Application) -> None:
    # Lets hung requests end, so that stopping does not wait for them.
    stopping = app[STATE].stopping
    if stopping is not None:
        stopping.set()


async def _on_cleanup(app: web.Application) -> None:
    app[STATE].close()
