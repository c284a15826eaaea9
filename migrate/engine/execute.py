"""The write path shared by ``apply``, ``retry`` and ``rollback``.

Each of them moves a scenario from a *base* body (what we expect to find) to a *target* body
(what we write): apply goes from what the plan read to the planned body, rollback from the
planned body back to the pre-image. For one row:

1. read the scenario (inside a *write turn*, so that the read is at most a few write intervals
   older than the PUT it guards);
2. it already equals the target → done, no PUT; it differs from the base → conflict, untouched;
3. it equals the base → mark the row ``in_flight`` (apply also stores the pre-image), committed,
   then PUT the target;
4. a 2xx whose body equals the target → done (otherwise a verifying read decides);
   a 429 → wait (the client has slowed the limiter), re-read, send again; 5xx, timeout or a
   dropped connection → the write may have landed: re-read and reconcile (target → done with
   no second PUT, base → back off and send again, anything else → conflict); 400 → refused;
   404 → gone. Retries are bounded by the run's :class:`RetryPolicy`.

An ``in_flight`` row found on resume starts at step 1 with a RECONCILE read; the same rules
give the decision of DESIGN §6.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrate.client import IvrClient
from migrate.engine.options import (
    ApplyOptions,
    Connection,
    ProgressCallback,
    ProgressEvent,
    Tally,
)
from migrate.engine.pool import Aborted, Stop, run_pool, signals_stop
from migrate.engine.runfolder import check_writable, now_iso
from migrate.engine.session import AttemptStats, attempt_context, check_connection, open_client
from migrate.engine.testhooks import crash_point
from migrate.errors import (
    ApiError,
    BadRequest,
    ConfigError,
    Forbidden,
    JournalError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from migrate.journal import (
    JOURNAL_FILE,
    META_BASE_URL,
    META_PLAN_FINISHED_AT,
    META_SANDBOX,
    AttemptKind,
    GroupCommit,
    Journal,
    Operation,
    RowHead,
    RowState,
    compact_json,
    fingerprint,
    in_flight_write,
    note_write,
    state_write,
)


@dataclass(frozen=True)
class Direction:
    """What one operation writes, what it expects to find, and how outcomes map to states."""

    operation: Operation
    #: Name in tallies and progress: apply, retry, rollback.
    name: str
    #: The stored body to write (``planned_body`` or ``pre_image``), and what to send of it.
    body_column: str
    target_body: Callable[[dict[str, Any]], dict[str, Any]]
    target_fingerprint: Callable[[RowHead], str | None]
    base_fingerprint: Callable[[RowHead], str | None]
    done: RowState
    conflict: RowState
    #: Apply stores the scenario read before the PUT as the row's pre-image; rollback does not.
    store_pre_image: bool
    #: Metadata keys for the first start and the end (no row left in ``pending`` states).
    started_key: str
    finished_key: str
    pending: frozenset[RowState]


@dataclass
class Outcome:
    """The decision for one row, before it is journaled."""

    state: RowState
    retryable: bool | None = None
    error: ApiError | None = None
    text: str | None = None
    final_fingerprint: str | None = None
    #: Certainly not stored and the run is stopping: back to where a rerun picks the row up.
    paused: bool = False


class Executor:
    """Runs one operation over selected rows with a fixed pool of workers."""

    def __init__(
        self,
        journal: Journal,
        client: IvrClient,
        connection: Connection,
        direction: Direction,
        options: ApplyOptions,
        stop: Stop,
        progress: ProgressCallback,
        total: int,
    ) -> None:
        self.journal = journal
        self.commit = GroupCommit(journal)
        self.client = client
        self.connection = connection
        self.direction = direction
        self.options = options
        self.stop = stop
        self.progress = progress
        self.total = total
        self.policy = connection.retry
        self.outcomes: dict[str, int] = {}
        self.done = 0
        self.failures = 0
        self.not_restored = 0
        limit = options.max_failures
        self.failure_threshold = None if limit is None else limit.threshold(total)
        # Reads that guard a PUT happen inside a turn: at most this many rows sit between their
        # read and their PUT, so a read is never more than a few write intervals old.
        interval = connection.write_rate.interval
        turns = min(connection.concurrency, max(2, math.ceil(1.0 / interval)))
        self.turns = asyncio.Semaphore(turns)

    # -- bookkeeping ----------------------------------------------------------------------------

    async def record(self, row: RowHead, outcome: Outcome) -> None:
        """Journal a decision, count it, and apply the --max-failures rail."""
        error = outcome.error
        status = getattr(error, "status", None) if error is not None else None
        validation = None
        if isinstance(error, BadRequest) and error.validation_errors:
            validation = [
                {"path": path, "message": message}
                for path, messages in error.validation_errors.items()
                for message in messages
            ]
        # not awaited: until it is committed the row is still in_flight, which resumes safely
        self.commit.submit(
            state_write(
                row.id,
                outcome.state,
                self.direction.operation,
                retryable=outcome.retryable,
                http_status=status,
                error_class=error.error_class if error is not None else None,
                error_text=outcome.text or (error.message if error is not None else None),
                validation_errors=validation,
                final_fingerprint=outcome.final_fingerprint,
            )
        )
        self.count(str(outcome.state))
        failed = outcome.state in (RowState.FAILED, RowState.CONFLICT, RowState.ROLLBACK_CONFLICT)
        if outcome.paused:
            failed = False
        elif self.direction.operation is Operation.ROLLBACK and outcome.state is RowState.UPDATED:
            self.not_restored += 1
            failed = True
        if failed:
            self.failures += 1
            limit = self.options.max_failures
            if self.failure_threshold is not None and self.failures > self.failure_threshold:
                self.stop.request(
                    f"{self.failures} rows failed or conflicted, more than --max-failures {limit}"
                )

    def count(self, key: str) -> None:
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        self.done += 1
        self.progress(
            ProgressEvent(self.direction.name, "write", self.done, self.total, dict(self.outcomes))
        )

    async def leave_in_flight(self, row: RowHead, error: ApiError | None, text: str) -> None:
        """The outcome is unknown (the run stops, or the reconciling read failed)."""
        await self.commit.write(
            note_write(
                row.id,
                getattr(error, "status", None),
                error.error_class if error is not None else "Interrupted",
                text,
            )
        )
        self.count(str(RowState.IN_FLIGHT))

    # -- one row --------------------------------------------------------------------------------

    async def read(self, row: RowHead, kind: AttemptKind) -> dict[str, Any]:
        with attempt_context(kind, row.id):
            return await self.stop.guard(self.client.get_scenario(row.scenario_id))

    async def process(self, row_id: int) -> None:
        """Take one row from its current state to a decision (or leave it resumable)."""
        row = self.journal.head(row_id)
        direction = self.direction
        target_fp = direction.target_fingerprint(row)
        base_fp = direction.base_fingerprint(row)
        if target_fp is None or base_fp is None:
            raise JournalError(f"row {row.id} ({row.scenario_id}) has no body to write")
        in_flight = row.state is RowState.IN_FLIGHT
        async with self.turns:
            if self.stop.requested and not in_flight:
                return
            try:
                current = await self.read(
                    row, AttemptKind.RECONCILE if in_flight else AttemptKind.GET
                )
            except Aborted:
                return
            except NotFound as exc:
                await self.record(row, self.gone(exc))
                return
            except ApiError as exc:
                if in_flight:
                    await self.leave_in_flight(row, exc, f"could not reconcile: {exc.message}")
                else:
                    await self.record(row, Outcome(self.unsent_state(), retryable=True, error=exc))
                if isinstance(exc, (Unauthorized, Forbidden)):
                    self.stop.request(f"the API refused the credentials (HTTP {exc.status})")
                return
            found = fingerprint(current)
            if found == target_fp:
                await self.record(row, self.already_done(row, found))
                return
            if found != base_fp:
                await self.record(row, self.changed(row, current, in_flight))
                return
            if self.stop.requested and not in_flight:
                return
            await self.commit.write(
                in_flight_write(
                    row.id,
                    current if direction.store_pre_image else None,
                    direction.operation,
                    found,
                )
            )
            crash_point("in_flight")
            await self.write(row, target_fp, base_fp)

    def already_done(self, row: RowHead, found: str) -> Outcome:
        if self.direction.operation is Operation.APPLY and row.pre_fingerprint is None:
            # we never sent this row: someone made the same change already
            return Outcome(RowState.UNCHANGED, text="already as planned when applied")
        return Outcome(self.direction.done, final_fingerprint=found)

    def changed(self, row: RowHead, current: dict[str, Any], in_flight: bool) -> Outcome:
        if in_flight:
            text = "changed by someone else while our write was in flight"
        elif self.direction.operation is Operation.ROLLBACK:
            text = "changed by someone else since this run wrote it"
        else:
            text = (
                f"changed since the plan read it (updateTime {row.read_update_time} → "
                f"{current.get('updateTime')})"
            )
        return Outcome(self.direction.conflict, text=text, final_fingerprint=fingerprint(current))

    def gone(self, exc: ApiError) -> Outcome:
        if self.direction.operation is Operation.ROLLBACK:
            return Outcome(RowState.ROLLBACK_CONFLICT, error=exc, text="the scenario was deleted")
        return Outcome(RowState.NOT_FOUND, error=exc)

    def unsent_state(self) -> RowState:
        """Where a row goes when its write was certainly not stored."""
        if self.direction.operation is Operation.ROLLBACK:
            return RowState.UPDATED
        return RowState.FAILED

    def unsent(self, exc: ApiError, retryable: bool, text: str | None = None) -> Outcome:
        if self.direction.operation is Operation.ROLLBACK:
            return Outcome(RowState.UPDATED, error=exc, text=text or f"not restored: {exc.message}")
        return Outcome(RowState.FAILED, retryable=retryable, error=exc, text=text)

    def paused(self, exc: ApiError, text: str) -> Outcome:
        """Not stored, and the run stops: the row goes back to where a rerun takes it."""
        if self.direction.operation is Operation.ROLLBACK:
            return Outcome(RowState.UPDATED, error=exc, text=text, paused=True)
        return Outcome(RowState.PLANNED, error=exc, text=text, paused=True)

    async def write(self, row: RowHead, target_fp: str, base_fp: str) -> None:
        """PUT the target body of an ``in_flight`` row until it is decided (bounded)."""
        stored = self.journal.body(row.id, self.direction.body_column)
        if stored is None:
            raise JournalError(
                f"row {row.id} ({row.scenario_id}) has no {self.direction.body_column}"
            )
        body = self.direction.target_body(stored)
        attempt = 0
        while True:
            attempt += 1
            try:
                with attempt_context(AttemptKind.PUT, row.id):
                    update = self.client.update_scenario(row.scenario_id, body)
                    response = await self.stop.guard(update)
            except Aborted:
                await self.leave_in_flight(row, None, "interrupted while the write was in flight")
                return
            except RateLimited as exc:
                # never stored: wait, then check nobody changed it meanwhile, then send again
                if attempt >= self.policy.max_attempts:
                    text = f"still rate limited after {attempt} attempts"
                    await self.record(row, self.unsent(exc, True, text))
                    return
                if not await self.stop.sleep(self.policy.delay_for(exc, attempt)):
                    await self.record(row, self.paused(exc, "stopped while rate limited"))
                    return
                if not await self.reconcile(row, target_fp, base_fp):
                    return
                continue
            except BadRequest as exc:
                await self.record(row, self.unsent(exc, False))
                return
            except NotFound as exc:
                await self.record(row, self.gone(exc))
                return
            except (Unauthorized, Forbidden) as exc:
                await self.record(row, self.unsent(exc, True))
                self.stop.request(f"the API refused the credentials (HTTP {exc.status})")
                return
            except (ServerError, TransportError) as exc:
                # ambiguous: the write may have been stored before the failure
                if not await self.reconcile(row, target_fp, base_fp, error=exc):
                    return
                if attempt >= self.policy.max_attempts:
                    text = f"gave up after {attempt} attempts: {exc.message}"
                    await self.record(row, self.unsent(exc, True, text))
                    return
                if not await self.stop.sleep(self.policy.delay_for(exc, attempt)):
                    await self.record(
                        row, self.paused(exc, "stopped before sending the write again")
                    )
                    return
                continue
            except ApiError as exc:
                await self.record(row, self.unsent(exc, False))
                return
            crash_point("put")
            await self.verify(row, response, target_fp, body)
            return

    async def reconcile(
        self, row: RowHead, target_fp: str, base_fp: str, error: ApiError | None = None
    ) -> bool:
        """Re-read after an unsuccessful write; True when the row should be written again."""
        try:
            current = await self.read(row, AttemptKind.RECONCILE)
        except Aborted:
            await self.leave_in_flight(row, error, "interrupted while reconciling")
            return False
        except NotFound as exc:
            await self.record(row, self.gone(exc))
            return False
        except ApiError as exc:
            await self.leave_in_flight(row, exc, f"could not reconcile: {exc.message}")
            return False
        found = fingerprint(current)
        if found == target_fp:
            await self.record(row, Outcome(self.direction.done, final_fingerprint=found))
            return False
        if found != base_fp:
            await self.record(row, self.changed(row, current, True))
            return False
        return True

    async def verify(
        self, row: RowHead, response: dict[str, Any], target_fp: str, body: dict[str, Any]
    ) -> None:
        """Check the stored scenario equals what we sent: from the answer, else by reading.

        A rollback always re-reads, and also compares the script's JSON in its original key
        order: the restored scenario must be the original byte for byte.
        """
        rollback = self.direction.operation is Operation.ROLLBACK
        if not rollback and isinstance(response, dict) and fingerprint(response) == target_fp:
            await self.record(row, Outcome(self.direction.done, final_fingerprint=target_fp))
            return
        try:
            current = await self.read(row, AttemptKind.VERIFY)
        except (Aborted, ApiError) as exc:
            error = exc if isinstance(exc, ApiError) else None
            await self.leave_in_flight(
                row, error, "the write was answered but could not be verified"
            )
            return
        found = fingerprint(current)
        if found != target_fp:
            state = RowState.ROLLBACK_CONFLICT if rollback else RowState.FAILED
            different = "the server stored a different body than the one sent"
            await self.record(
                row, Outcome(state, retryable=False, text=different, final_fingerprint=found)
            )
            return
        note = None
        if rollback and compact_json(current.get("script")) != compact_json(body.get("script")):
            note = "restored, but the server returned the script's keys in another order"
        await self.record(row, Outcome(self.direction.done, text=note, final_fingerprint=found))


def open_run(run_dir: Path, connection: Connection) -> Journal:
    """Open and lock a planned run's journal, checking it matches this connection."""
    journal = Journal.open(run_dir / JOURNAL_FILE)
    try:
        journal.lock()
        meta = journal.metadata()
        if not meta.get(META_PLAN_FINISHED_AT):
            raise ConfigError(
                f"the plan of {run_dir} did not finish (it was interrupted): plan the sheet again"
            )
        if meta.get(META_SANDBOX) == "true" and not connection.sandbox:
            raise ConfigError(f"{run_dir} was planned against the embedded sandbox: add --sandbox")
        if meta.get(META_SANDBOX) != "true" and connection.sandbox:
            raise ConfigError(
                f"{run_dir} was planned against {meta.get(META_BASE_URL)}, not --sandbox"
            )
        if not connection.sandbox and meta.get(META_BASE_URL) != connection.base_url:
            raise ConfigError(
                f"{run_dir} was planned against {meta.get(META_BASE_URL)}, not "
                f"{connection.base_url}: pass --base-url {meta.get(META_BASE_URL)}"
            )
        check_writable(run_dir)
    except BaseException:
        journal.close()
        raise
    return journal


async def execute(
    run_dir: Path,
    connection: Connection,
    direction: Direction,
    options: ApplyOptions,
    progress: ProgressCallback,
    select: Callable[[Journal], tuple[int, AsyncIterator[int]]],
    prepare_row: Callable[[Executor, int], Any] | None = None,
) -> Tally:
    """Open the run, check the connection, and run the pool over the selected rows."""
    started = time.monotonic()
    journal = open_run(run_dir, connection)
    try:
        meta = journal.metadata()
        stop = Stop()
        stats = AttemptStats()
        with signals_stop(stop, options.handle_signals):
            async with open_client(connection, journal, direction.operation, stats) as client:
                await check_connection(client, connection.base_url)
                if not meta.get(direction.started_key):
                    journal.set_metadata({direction.started_key: now_iso()})
                total, rows = select(journal)
                cap = options.row_cap
                if cap is not None:
                    total = min(total, cap)
                executor = Executor(
                    journal, client, connection, direction, options, stop, progress, total
                )
                handle = executor.process if prepare_row is None else _with(prepare_row, executor)
                try:
                    await run_pool(
                        _capped(rows, cap), handle, concurrency=connection.concurrency, stop=stop
                    )
                finally:
                    await executor.commit.drain()
                    executor.commit.close()
            journal.flush()
        counts = journal.counts()
        pending = [s for s in direction.pending if counts.get(str(s))]
        if not pending and not stop.requested:
            journal.set_metadata({direction.finished_key: now_iso()})
        tally = Tally(
            operation=direction.name,
            run_dir=run_dir,
            run_id=meta.get("run_id", run_dir.name),
            counts=counts,
            this_run=dict(executor.outcomes),
            stopped=stop.reason,
            interrupted=stop.interrupted,
            elapsed=time.monotonic() - started,
            puts=stats.puts,
            rate_limited=stats.rate_limited,
            not_restored=executor.not_restored,
        )
        if cap is not None and not stop.requested and executor.done >= cap:
            tally.stopped = "canary" if options.canary == cap else "limit"
        return tally
    finally:
        journal.close()


def _with(prepare: Callable[[Executor, int], Any], executor: Executor) -> Callable[[int], Any]:
    async def handle(row_id: int) -> None:
        await prepare(executor, row_id)

    return handle


async def _capped(rows: AsyncIterator[int], cap: int | None) -> AsyncIterator[int]:
    taken = 0
    async for row_id in rows:
        if cap is not None and taken >= cap:
            return
        taken += 1
        yield row_id


#: A selection of rows: a state, and for ``failed`` whether retryable (``None``: any).
Selection = list[tuple[RowState, bool | None]]


def select_rows(
    journal: Journal, selection: Selection, operation: Operation
) -> tuple[int, AsyncIterator[int]]:
    """How many rows match, and their ids (selection by selection, each in plan order).

    ``in_flight`` rows are taken only when they belong to ``operation``.
    """
    total = sum(
        journal.count_rows([state], retryable=retryable, operation=operation)
        for state, retryable in selection
    )

    async def ids() -> AsyncIterator[int]:
        for state, retryable in selection:
            last = 0
            while page := journal.row_ids(
                state, retryable=retryable, operation=operation, after_id=last
            ):
                for row_id in page:
                    yield row_id
                last = page[-1]

    return total, ids()
