"""The engine's side of the API client: one client per run, every attempt journaled.

The client reports each HTTP exchange through ``on_attempt``; which step of a row it belongs to
(plan read, conflict check, reconciliation, verification) is known only to the engine, so the
engine sets it in a context variable around each call and the callback reads it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from migrate.client import Attempt, IvrClient
from migrate.engine.options import WAIT, Connection, ProgressCallback, notices
from migrate.engine.pool import Stop
from migrate.errors import (
    BadAnswer,
    ConfigError,
    Forbidden,
    RateLimited,
    ServerError,
    Stopped,
    TransportError,
    Unauthorized,
)
from migrate.journal import Journal
from migrate.ledger import AccountLedger
from migrate.vocabulary import AttemptKind, Operation

#: Above this many writes per second a rate is no account limit to share (benchmarks lift the
#: limits this way): the ledger's turn, about 0.25 ms a write, would only slow them down.
SHARED_BUDGET_MAX_RATE: Final = 50.0

_KIND: ContextVar[AttemptKind | None] = ContextVar("ivr_migrate_attempt_kind", default=None)
_ROW: ContextVar[int | None] = ContextVar("ivr_migrate_attempt_row", default=None)


@contextmanager
def attempt_context(kind: AttemptKind, row_id: int | None) -> Iterator[None]:
    """Label the attempts made inside this block (in this task) with ``kind`` and ``row_id``."""
    kind_token = _KIND.set(kind)
    row_token = _ROW.set(row_id)
    try:
        yield
    finally:
        _KIND.reset(kind_token)
        _ROW.reset(row_token)


@dataclass
class AttemptStats:
    """Counters of one invocation, for the tally."""

    puts: int = 0
    rate_limited: int = 0


@asynccontextmanager
async def open_client(
    connection: Connection,
    journal: Journal,
    operation: Operation,
    stats: AttemptStats,
    stop: Stop,
    progress: ProgressCallback,
) -> AsyncIterator[IvrClient]:
    """An :class:`IvrClient` whose every attempt lands in the journal.

    Its writes take their turn in the account's shared ledger (every ivr-migrate process on
    this machine writing to the account counts); when the run stops, it starts no request.
    """

    def on_attempt(attempt: Attempt) -> None:
        if attempt.method == "PUT":
            kind = AttemptKind.PUT
            stats.puts += 1
        else:
            kind = _KIND.get() or AttemptKind.GET
        if attempt.status == 429:
            stats.rate_limited += 1
        journal.record_attempt(
            row_id=_ROW.get(),
            scenario_id=attempt.scenario_id,
            operation=operation,
            kind=kind,
            method=attempt.method,
            path=attempt.path,
            started_at=attempt.started_at,
            duration=attempt.duration,
            status=attempt.status,
            error_class=attempt.error_class,
            account=connection.account,
        )

    waiting = notices(progress, operation, WAIT, connection.account)

    def on_wait(seconds: float) -> None:
        if seconds >= 1:  # shorter waits are the pace itself, not worth a line
            waiting(f"waiting {seconds:.0f} s for the account's write window")

    ledger = None
    rate = connection.write_rate
    if connection.shared_budget and rate.count / rate.period <= SHARED_BUDGET_MAX_RATE:
        ledger = AccountLedger.open(
            connection.base_url, connection.credentials, path=connection.ledger_path,
            on_wait=on_wait,
        )  # fmt: skip
    try:
        client = IvrClient(
            connection.base_url,
            connection.credentials,
            timeout=connection.timeout,
            connections=connection.concurrency,
            read_rate=connection.read_rate,
            write_rate=connection.write_rate,
            retry=connection.retry,
            on_attempt=on_attempt,
            ledger=ledger,
        )
        stop.on_stop = client.stop
        async with client:
            yield client
    finally:
        if ledger is not None:
            ledger.close()


async def check_connection(client: IvrClient, base_url: str) -> None:
    """A one-row search: fail fast, with one line, on a wrong key or an unreachable host.

    A refused connection or a 401/403 is not retried (it will not get better); a 5xx or a 429
    is, per the client's retry policy, since a busy server is no reason to give up a run.
    """
    policy = client.retry
    attempt = 0
    with attempt_context(AttemptKind.SEARCH, None):
        while True:
            attempt += 1
            try:
                await client.check_connection()
                return
            except (Unauthorized, Forbidden) as exc:
                raise ConfigError(
                    f"{base_url} refused the credentials (HTTP {exc.status}): check "
                    "INFOBIP_API_KEY (or the token/username variables) and its scopes"
                ) from None
            except BadAnswer as exc:
                raise ConfigError(
                    f"{base_url} is not the IVR scenario API ({exc.message}): check --base-url; "
                    "it is your account's base URL, e.g. https://xxxxx.api.infobip.com"
                ) from None
            except TransportError as exc:
                raise ConfigError(f"cannot reach {base_url}: {exc.message}") from None
            except (ServerError, RateLimited) as exc:
                if attempt >= policy.max_attempts:
                    raise
                await asyncio.sleep(policy.delay_for(exc, attempt))
            except Stopped:
                return
