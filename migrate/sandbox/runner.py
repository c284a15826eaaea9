"""Running the sandbox: in a background thread (sync code), in the current loop, or forever.

``start_sandbox()`` runs the server on its own event loop in a daemon thread, so it works from
sync code (pytest, the CLI) and from async code alike: the caller's loop is never blocked by the
server, and the helpers (``request_log()``, ``edit_scenario()``, …) hop onto the server's loop.
``serve_sandbox()`` runs it inside the caller's running loop instead (``async with``).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any, Final, TypeVar

from aiohttp import web

from migrate.config import Credentials
from migrate.errors import ConfigError
from migrate.sandbox.app import STATE, create_app
from migrate.sandbox.auth import AccountEndpoint
from migrate.sandbox.faults import Faults
from migrate.sandbox.requestlog import LogEntry
from migrate.sandbox.settings import SandboxConfig
from migrate.sandbox.state import SandboxState

DEFAULT_HOST: Final = "127.0.0.1"
#: How long stopping waits for requests in progress (hung ones end at once).
SHUTDOWN_TIMEOUT: Final = 2.0
_CALL_TIMEOUT: Final = 30.0

T = TypeVar("T")


class RunningSandbox:
    """A sandbox that is serving: where it listens, and helpers for tests.

    Every helper is safe to call from any thread. The scenario helpers take ``account`` (a name;
    default: the first account).
    """

    def __init__(
        self,
        app: web.Application,
        base_url: str,
        *,
        loop: asyncio.AbstractEventLoop,
        thread: threading.Thread | None = None,
    ) -> None:
        self.base_url = base_url
        self._app = app
        self._state: SandboxState = app[STATE]
        self._loop = loop
        self._thread = thread
        self._stopped = False

    @property
    def config(self) -> SandboxConfig:
        return self._state.config

    @property
    def api_key(self) -> str:
        """The default account's first API key."""
        account = self.config.default_account
        if not account.api_keys:
            raise ConfigError(f"sandbox account {account.name!r} has no API key")
        return account.api_keys[0]

    def credentials(self, account: str | None = None) -> Credentials:
        """Client credentials of an account (default: the first one)."""
        return self.config.account(account).credentials()

    def endpoint(self, account: str | None = None) -> AccountEndpoint:
        """Base URL and credentials of an account (default: the first one)."""
        return AccountEndpoint(self.base_url, self.config.account(account))

    def endpoints(self) -> dict[str, AccountEndpoint]:
        """Every account's endpoint by name, in configuration order."""
        return {a.name: AccountEndpoint(self.base_url, a) for a in self.config.accounts}

    # -- request log ----------------------------------------------------------------------

    def request_log(self, since: int = 0) -> list[LogEntry]:
        """Every logged request (with ``seq`` > ``since``), oldest first."""
        return self._call(lambda: self._state.log.entries(since))

    def put_counts(self, account: str | None = None) -> dict[str, int]:
        """Stored PUTs per scenario id (dropped-after PUTs included: they were stored)."""
        return self._call(lambda: self._state.log.put_counts(account))

    def reset_log(self) -> None:
        self._call(self._state.log.clear)

    def reset_limits(self) -> None:
        """Forget every rate window (all accounts)."""
        self._call(self._state.reset_limits)

    # -- faults ---------------------------------------------------------------------------

    def set_faults(self, faults: Faults | None = None, **changes: Any) -> Faults:
        """Replace the faults (``Faults()`` clears them); keyword arguments change fields.

        ``set_faults(error_rates={503: 0.2})`` starts from no faults; pass a ``Faults`` to
        combine. The generator is re-seeded and ``sequence`` restarts.
        """
        new = replace(faults or Faults(), **changes)
        self._call(lambda: self._state.faults.set(new))
        return new

    @property
    def faults(self) -> Faults:
        return self._call(lambda: self._state.faults.faults)

    # -- scenarios ------------------------------------------------------------------------

    def scenario(self, scenario_id: str, *, account: str | None = None) -> dict[str, Any] | None:
        """The stored scenario as the API would return it, or None."""
        name = self.config.account(account).name

        def read() -> dict[str, Any] | None:
            found = self._state.store.get(name, scenario_id)
            return None if found is None else found.to_dict()

        return self._call(read)

    def scenarios(self, *, account: str | None = None) -> list[dict[str, Any]]:
        """Every stored scenario of an account, in search order."""
        from migrate.sandbox.store import SearchQuery

        name = self.config.account(account).name
        return self._call(
            lambda: [s.to_dict() for s in self._state.store.search(name, SearchQuery())]
        )

    def scenario_count(self, *, account: str | None = None) -> int:
        name = self.config.account(account).name
        return self._call(lambda: self._state.store.count(name))

    def edit_scenario(
        self, scenario_id: str, body: dict[str, Any], *, account: str | None = None
    ) -> dict[str, Any]:
        """Someone edits the scenario in the portal: the given fields change, ``updateTime``
        moves on; no validation, no rate limit, nothing logged. KeyError if unknown."""
        name = self.config.account(account).name
        return self._call(lambda: self._state.edit(name, scenario_id, body).to_dict())

    def add_scenario(self, body: dict[str, Any], *, account: str | None = None) -> dict[str, Any]:
        """Store a scenario object as is (keeping its id and timestamps when present)."""
        name = self.config.account(account).name
        return self._call(lambda: self._state.add(name, body).to_dict())

    # -- lifecycle ------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop serving (thread mode). In ``serve_sandbox`` the ``async with`` block stops it."""
        if self._thread is None:
            raise RuntimeError("a sandbox from serve_sandbox() stops when its async with ends")
        if self._stopped:
            return
        self._stopped = True
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningSandbox({self.base_url!r})"

    def _call(self, func: Callable[[], T]) -> T:
        """Run ``func`` on the server's loop (the state belongs to it) and return its result."""
        if self._thread is None or threading.current_thread() is self._thread:
            return func()
        if self._stopped or not self._loop.is_running():
            raise RuntimeError("the sandbox is not running")

        async def call() -> T:
            return func()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(_CALL_TIMEOUT)


async def _serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
    except OSError as exc:
        await runner.cleanup()
        reason = exc.strerror or str(exc)
        raise ConfigError(f"the sandbox cannot listen on {host}:{port}: {reason}") from exc
    except BaseException:
        await runner.cleanup()
        raise
    shown = f"[{host}]" if ":" in host else host
    return runner, f"http://{shown}:{bound_port}"


def start_sandbox(
    config: SandboxConfig | None = None, *, host: str = DEFAULT_HOST, port: int = 0
) -> RunningSandbox:
    """Serve a sandbox on ``host`` and a free port (or ``port``) in a background thread.

    Use it as a context manager (``with start_sandbox(cfg) as sandbox:``) or call ``stop()``.
    """
    ready = threading.Event()
    started: dict[str, Any] = {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            app = create_app(config)
            runner, base_url = loop.run_until_complete(_serve(app, host, port))
        except BaseException as exc:
            started["error"] = exc
            loop.close()
            ready.set()
            return
        started.update(app=app, base_url=base_url, loop=loop)
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name="ivr-sandbox", daemon=True)
    thread.start()
    ready.wait()
    if "error" in started:
        thread.join()
        raise started["error"]
    return RunningSandbox(started["app"], started["base_url"], loop=started["loop"], thread=thread)


@contextlib.asynccontextmanager
async def serve_sandbox(
    config: SandboxConfig | None = None, *, host: str = DEFAULT_HOST, port: int = 0
) -> AsyncIterator[RunningSandbox]:
    """Serve a sandbox inside the running event loop for the duration of the block."""
    app = create_app(config)
    runner, base_url = await _serve(app, host, port)
    try:
        yield RunningSandbox(app, base_url, loop=asyncio.get_running_loop())
    finally:
        await runner.cleanup()


def serve_forever(
    config: SandboxConfig | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    on_ready: Callable[[RunningSandbox], None] | None = None,
) -> None:
    """Serve in the current thread until SIGINT or SIGTERM, then stop cleanly and return."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        async with serve_sandbox(config, host=host, port=port) as sandbox:
            if on_ready is not None:
                on_ready(sandbox)
            await stop.wait()

    # Where signal handlers cannot be installed (Windows), Ctrl-C arrives as KeyboardInterrupt.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
