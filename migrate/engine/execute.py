"""One row of the write path, for any :class:`~migrate.engine.operations.OperationSpec`.

For one row:

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
from dataclasses import dataclass, replace
from typing import Any, Final

from migrate.client import IvrClient
from migrate.engine.operations import OperationSpec
from migrate.engine.options import ApplyOptions, Connection, ProgressCallback, ProgressEvent
from migrate.engine.plan import build_plan, failed_read
from migrate.engine.pool import Aborted, NotStarted, Stop
from migrate.engine.session import attempt_context
from migrate.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    JournalError,
    NotFound,
    RateLimited,
    RowDataError,
    ServerError,
    TransportError,
    Unauthorized,
)
from migrate.journal import (
    GroupCommit,
    Journal,
    combined,
    in_flight_from_read_write,
    in_flight_write,
    note_write,
    replan_write,
    state_write,
)
from migrate.vocabulary import AttemptKind, Problem, RowHead, RowState
from transforms.body import compact_json, fingerprint, same_scenario, writable

#: Rows in a row whose requests got no answer at all before the run stops (the API is down).
UNREACHABLE_ROWS: Final = 10


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
    """Runs one operation over selected rows; each worker calls :meth:`process`."""

    def __init__(
        self,
        journal: Journal,
        commit: GroupCommit,
        client: IvrClient,
        connection: Connection,
        spec: OperationSpec,
        options: ApplyOptions,
        stop: Stop,
        progress: ProgressCallback,
        total: int,
    ) -> None:
        self.journal = journal
        self.commit = commit
        self.client = client
        self.account = connection.account
        self.spec = spec
        self.options = options
        self.stop = stop
        self.progress = progress
        self.total = total
        self.policy = connection.retry
        self.outcomes: dict[str, int] = {}
        self.done = 0
        self.failures = 0
        #: Rows handed back unfinished (``spec.not_sent``), other than paused ones.
        self.unfinished = 0
        #: Rows in a row that ended on a transport error (no answer at all).
        self.unreachable = 0
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
        validation = None
        if isinstance(error, BadRequest) and error.validation_errors:
            validation = [
                Problem(path, message)
                for path, messages in error.validation_errors.items()
                for message in messages
            ]
        # not awaited: until it is committed the row is still in_flight, which resumes safely
        self.commit.submit(
            state_write(
                row.id,
                outcome.state,
                self.spec.operation,
                retryable=outcome.retryable if outcome.state is RowState.FAILED else None,
                http_status=getattr(error, "status", None),
                error_class=error.error_class if error is not None else None,
                error_text=outcome.text or (error.message if error is not None else None),
                validation_errors=validation,
                final_fingerprint=outcome.final_fingerprint,
            )
        )
        self.count(outcome.state)
        self.note_reachability(error)
        if outcome.paused:
            return
        if outcome.state is self.spec.not_sent:
            self.unfinished += 1
        if outcome.state in self.spec.failure_states:
            self.failures += 1
            limit = self.options.max_failures
            if self.failure_threshold is not None and self.failures > self.failure_threshold:
                self.stop.request(
                    f"{self.failures} rows failed or conflicted, more than --max-failures {limit}"
                )

    def note_reachability(self, error: ApiError | None) -> None:
        """Stop the run when the API could not be reached for many rows in a row."""
        if not isinstance(error, TransportError):
            self.unreachable = 0
            return
        self.unreachable += 1
        if self.unreachable >= UNREACHABLE_ROWS:
            self.stop.request(
                f"the API could not be reached for {self.unreachable} rows in a row "
                f"({error.message})"
            )

    def count(self, key: str) -> None:
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        self.done += 1
        self.progress(
            ProgressEvent(
                self.spec.name,
                "write",
                self.done,
                self.total,
                dict(self.outcomes),
                account=self.account,
            )
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
        self.count(RowState.IN_FLIGHT)
        if error is not None:
            self.note_reachability(error)

    # -- outcomes -------------------------------------------------------------------------------

    def found_done(self, row: RowHead, found: str) -> Outcome:
        if row.pre_fingerprint is None:
            # we never sent this row: someone made the same change already
            return Outcome(self.spec.found_done, text=self.spec.found_done_text)
        return Outcome(self.spec.done, final_fingerprint=found)

    def changed(self, row: RowHead, current: dict[str, Any], in_flight: bool) -> Outcome:
        if in_flight:
            text = "changed by someone else while our write was in flight"
        else:
            text = self.spec.conflict_text(row, current)
        return Outcome(self.spec.conflict, text=text, final_fingerprint=fingerprint(current))

    def gone(self, exc: ApiError) -> Outcome:
        return Outcome(self.spec.gone, error=exc, text=self.spec.gone_text)

    def not_sent(self, exc: ApiError, retryable: bool, text: str | None = None) -> Outcome:
        prefix = self.spec.not_sent_prefix
        if text is None and prefix is not None:
            text = f"{prefix}: {exc.message}"
        return Outcome(self.spec.not_sent, retryable=retryable, error=exc, text=text)

    def paused(self, exc: ApiError, text: str) -> Outcome:
        """Not stored, and the run stops: the row goes back to where a rerun takes it."""
        return Outcome(self.spec.paused, error=exc, text=text, paused=True)

    # -- one row --------------------------------------------------------------------------------

    async def handle(self, row_id: int) -> None:
        """:meth:`process` one row; an error that escapes it fails that row, not the run.

        What concerns the run as a whole (the journal cannot be written: a full disk) is raised
        and stops every worker; the journal stays consistent and a rerun continues.
        """
        try:
            row = self.journal.head(row_id)
            replan = self.spec.replan
            if replan is not None and row.state is not RowState.IN_FLIGHT and replan(row):
                await self.replan_and_write(row)
            elif not self.spec.plan_only:
                await self.process(row)
        except (JournalError, OSError) as exc:
            if not isinstance(exc, RowDataError):
                raise
            await self.fail_row(row_id, exc, "damaged journal row")
        except Exception as exc:  # a bug or a server answer we could not digest
            await self.fail_row(row_id, exc, "internal error")

    async def fail_row(self, row_id: int, exc: Exception, what: str) -> None:
        row = self.journal.head(row_id)
        text = f"{what}: {type(exc).__name__}: {exc}"[:500]
        if row.state is RowState.IN_FLIGHT:
            # a PUT may have been sent: the next run reconciles the row by reading it
            await self.commit.write(note_write(row.id, None, type(exc).__name__, text))
            self.count(RowState.IN_FLIGHT)
            return
        self.commit.submit(
            state_write(
                row.id,
                self.spec.not_sent,
                self.spec.operation,
                retryable=False if self.spec.not_sent is RowState.FAILED else None,
                error_class=type(exc).__name__,
                error_text=text,
            )
        )
        self.count(self.spec.not_sent)
        self.unfinished += 1
        self.failures += 1

    async def read(self, row: RowHead, kind: AttemptKind) -> dict[str, Any]:
        with attempt_context(kind, row.id):
            return await self.stop.guard(self.client.get_scenario(row.scenario_id))

    async def process(self, row: RowHead) -> None:
        """Take one row from its current state to a decision (or leave it resumable)."""
        target_fp = self.spec.target_fingerprint(row)
        base_fp = self.spec.base_fingerprint(row)
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
                    await self.record(row, self.not_sent(exc, True))
                if isinstance(exc, (Unauthorized, Forbidden)):
                    self.stop.request(f"the API refused the credentials (HTTP {exc.status})")
                return
            found = fingerprint(current)
            if found == target_fp:
                await self.record(row, self.found_done(row, found))
                return
            if found != base_fp:
                await self.record(row, self.changed(row, current, in_flight))
                return
            if self.stop.requested and not in_flight:
                return
            # decoded before the row goes in flight: a damaged body fails the row, unsent
            stored = self.journal.body(row.id, self.spec.body_column)
            if stored is None:
                raise RowDataError(f"row {row.id} has no {self.spec.body_column}")
            await self.commit.write(
                in_flight_write(
                    row.id,
                    current if self.spec.store_pre_image else None,
                    self.spec.operation,
                    found,
                )
            )
            await self.write(row, writable(stored), target_fp, base_fp)

    async def replan_and_write(self, row: RowHead) -> None:
        """Plan a row from a fresh read inside a write turn, then write it: the plan read is
        as recent as a guard read would be, so it is the guard (no second read)."""
        record = self.journal.row(row.id, bodies=False)
        async with self.turns:
            if self.stop.requested:
                return
            try:
                current = await self.read(row, AttemptKind.GET)
            except Aborted:
                return
            except ApiError as exc:
                fresh = failed_read(row.scenario_id, record.name, record.sheet_refs, exc)
                await self.commit.write(replan_write(row.id, fresh))
                self.count(fresh.state)
                self.note_reachability(exc)
                if isinstance(exc, (Unauthorized, Forbidden)):
                    self.stop.request(f"the API refused the credentials (HTTP {exc.status})")
                return
            fresh = build_plan(row.scenario_id, current, record.sheet_refs)
            if fresh.state is not RowState.PLANNED or self.stop.requested or self.spec.plan_only:
                await self.commit.write(replan_write(row.id, fresh))
                if fresh.state is not RowState.PLANNED or self.spec.plan_only:
                    self.count(fresh.state)
                return
            read_fp, planned_fp = fresh.fingerprints()
            assert read_fp is not None and planned_fp is not None and fresh.planned_body
            mark = (
                in_flight_from_read_write(row.id, self.spec.operation)
                if self.spec.store_pre_image
                else in_flight_write(row.id, None, self.spec.operation)
            )
            await self.commit.write(combined(replan_write(row.id, fresh), mark))
            head = replace(
                row,
                state=RowState.IN_FLIGHT,
                read_update_time=current.get("updateTime"),
                read_fingerprint=read_fp,
                planned_fingerprint=planned_fp,
                pre_fingerprint=None,
            )
            await self.write(head, writable(fresh.planned_body), planned_fp, read_fp)

    async def write(self, row: RowHead, body: dict[str, Any], target_fp: str, base_fp: str) -> None:
        """PUT the target body of an ``in_flight`` row until it is decided (bounded)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                with attempt_context(AttemptKind.PUT, row.id):
                    update = self.client.update_scenario(row.scenario_id, body)
                    response = await self.stop.guard(update)
            except NotStarted:
                # it gave up its turn: never sent, the row goes back to where a rerun takes it
                await self.record(
                    row, Outcome(self.spec.paused, text="stopped before sending", paused=True)
                )
                return
            except Aborted:
                await self.leave_in_flight(row, None, "interrupted while the write was in flight")
                return
            except RateLimited as exc:
                # never stored: wait, then check nobody changed it meanwhile, then send again
                if attempt >= self.policy.max_attempts:
                    text = f"still rate limited after {attempt} attempts"
                    await self.record(row, self.not_sent(exc, True, text))
                    return
                if not await self.stop.sleep(self.policy.delay_for(exc, attempt)):
                    await self.record(row, self.paused(exc, "stopped while rate limited"))
                    return
                if not await self.reconcile(row, target_fp, base_fp):
                    return
                continue
            except BadRequest as exc:
                await self.record(row, self.not_sent(exc, False))
                return
            except NotFound as exc:
                await self.record(row, self.gone(exc))
                return
            except (Unauthorized, Forbidden) as exc:
                await self.record(row, self.not_sent(exc, True))
                self.stop.request(f"the API refused the credentials (HTTP {exc.status})")
                return
            except (ServerError, TransportError) as exc:
                # ambiguous: the write may have been stored before the failure
                if not await self.reconcile(row, target_fp, base_fp, error=exc):
                    return
                if attempt >= self.policy.max_attempts:
                    text = f"gave up after {attempt} attempts: {exc.message}"
                    await self.record(row, self.not_sent(exc, True, text))
                    return
                if not await self.stop.sleep(self.policy.delay_for(exc, attempt)):
                    await self.record(
                        row, self.paused(exc, "stopped before sending the write again")
                    )
                    return
                continue
            except ApiError as exc:
                await self.record(row, self.not_sent(exc, False))
                return
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
            await self.record(row, Outcome(self.spec.done, final_fingerprint=found))
            return False
        if found != base_fp:
            await self.record(row, self.changed(row, current, True))
            return False
        return True

    async def verify(
        self, row: RowHead, response: dict[str, Any], target_fp: str, body: dict[str, Any]
    ) -> None:
        """Check the stored scenario equals what we sent: from the answer, else by reading.

        An operation that verifies by reading (rollback) also compares the script's JSON in
        its original key order: the restored scenario must be the original byte for byte.
        """
        by_reading = self.spec.verify_by_reading
        # the body sent is the target: comparing the answer to it needs no serialisation
        if not by_reading and same_scenario(response, body):
            await self.record(row, Outcome(self.spec.done, final_fingerprint=target_fp))
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
            different = "the server stored a different body than the one sent"
            await self.record(
                row,
                Outcome(
                    self.spec.stored_different,
                    retryable=False,
                    text=different,
                    final_fingerprint=found,
                ),
            )
            return
        note = None
        if by_reading and compact_json(current.get("script")) != compact_json(body.get("script")):
            note = "restored, but the server returned the script's keys in another order"
        await self.record(row, Outcome(self.spec.done, text=note, final_fingerprint=found))
