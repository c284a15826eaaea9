"""``plan``: read the sheet, fetch every target once, apply its rules, validate, journal.

Reads only. The result of each target is one journal row in state ``planned`` (a body to PUT),
``unchanged`` (the rules changed nothing), ``invalid`` (the result fails validation, or a rule
refused the scenario), ``not_found`` (404) or ``failed`` (the read failed; retryable).
Results stream into the journal in batches, in plan order, so memory stays flat whatever the
size of the sheet.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import time
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from migrate import __version__
from migrate.client import IvrClient
from migrate.engine.options import (
    AccountTally,
    Connection,
    ProgressCallback,
    ProgressEvent,
    Tally,
    as_connections,
    no_progress,
    notices,
)
from migrate.engine.pool import Aborted, Stop, run_pool, signals_stop
from migrate.engine.runfolder import copy_sheet, create_run_folder, now_iso
from migrate.engine.session import AttemptStats, attempt_context, check_connection, open_client
from migrate.errors import ApiError, NotFound, UsageError
from migrate.journal import JOURNAL_FILE, LOCK_FILE, GroupCommit, Journal, rows_write
from migrate.plugins import rule_catalogue
from migrate.sheet import SheetRow, check_accounts, read_sheet
from migrate.vocabulary import (
    AttemptKind,
    Meta,
    Operation,
    PlannedChange,
    PlannedRow,
    Problem,
    RowState,
    SheetRef,
)
from transforms.body import fingerprint, writable
from transforms.rules.base import RuleError, copy_tree
from transforms.validate import check_scenario, validate_scenario

#: Plan results journaled per transaction.
BATCH_ROWS: Final = 200


@dataclass
class PreparedRun:
    """A checked sheet and the run folder made for it; nothing sent yet."""

    run_dir: Path
    run_id: str
    sheet_path: Path
    sheet_copy: str
    sheet_sha256: str
    rows: list[SheetRow]


def prepare_run(
    sheet_path: str | Path,
    *,
    sheet: str | None = None,
    out: Path | None = None,
    reports_dir: Path | None = None,
    accounts: Collection[str] | None = None,
) -> PreparedRun:
    """Read and check the sheet (``SheetError`` lists every problem) and its account column
    against ``accounts`` (the names of the accounts file; empty: none was given, so the sheet
    may name no account; None: not checked), then make the run folder."""
    path = Path(sheet_path)
    if not path.is_file():
        raise UsageError(f"no sheet at {path}")
    rows = read_sheet(path, sheet=sheet)
    if not rows:
        raise UsageError(f"{path} has no rows to apply")
    if accounts is not None:
        check_accounts(rows, accounts, str(path))
    if accounts is not None and len(accounts) == 1 and not any(row.account for row in rows):
        # one account in the file and no account column: every row is that account's
        only = next(iter(accounts))
        rows = [replace(row, account=only) for row in rows]
    run_dir, run_id = create_run_folder(path, out=out, reports_dir=reports_dir)
    copy_name, digest = copy_sheet(path, run_dir)
    return PreparedRun(run_dir, run_id, path, copy_name, digest, rows)


def discard_run_folder(prepared: PreparedRun) -> None:
    """Remove a run folder whose plan could not start (the connection check failed)."""
    for name in (JOURNAL_FILE, f"{JOURNAL_FILE}-wal", f"{JOURNAL_FILE}-shm", LOCK_FILE):
        (prepared.run_dir / name).unlink(missing_ok=True)
    (prepared.run_dir / prepared.sheet_copy).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        prepared.run_dir.rmdir()


def plan_run(
    prepared: PreparedRun,
    connections: Connection | Sequence[Connection],
    *,
    progress: ProgressCallback = no_progress,
    handle_signals: bool = True,
) -> Tally:
    """Plan a prepared run against one account, or several at once; returns counts and the
    ETA of the writes (the slowest account's)."""
    return asyncio.run(
        _plan(prepared, as_connections(connections), progress, handle_signals, read=True)
    )


def queue_run(
    prepared: PreparedRun,
    connections: Connection | Sequence[Connection],
    *,
    progress: ProgressCallback = no_progress,
    handle_signals: bool = True,
) -> Tally:
    """Find the targets of a prepared run (ids, and the selectors' matches) without reading
    them: each becomes a ``planned`` row with no body yet, which ``apply`` plans from a read
    made in the same write turn as its PUT (``run --yes``: one read per scenario, not two)."""
    return asyncio.run(
        _plan(prepared, as_connections(connections), progress, handle_signals, read=False)
    )


def sheet_ref(row: SheetRow) -> SheetRef:
    """What the journal keeps of a sheet row: enough to re-plan it and to write it back."""
    return SheetRef(
        file=row.file,
        row=row.row,
        target=str(row.target),
        rule=row.rule,
        params=_plain(row.params),
        cells=row.cells,
        note=row.note,
        account=row.account,
    )


_PLAIN_TYPES: Final = (str, bool, int, float, type(None))


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON values (they are stored, and read back when re-planning)."""
    if all(isinstance(value, _PLAIN_TYPES) for value in params.values()):
        return dict(params)
    plain: dict[str, Any] = json.loads(json.dumps(params, default=str))
    return plain


def _operator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (container without passwd entry)
        return "unknown"


def _metadata(prepared: PreparedRun, connections: Sequence[Connection]) -> dict[str, str]:
    first = connections[0]
    meta: dict[str, str] = {
        Meta.RUN_ID: prepared.run_id,
        Meta.TOOL_VERSION: __version__,
        Meta.OPERATOR: _operator(),
        Meta.BASE_URL: first.base_url,
        Meta.TARGET: first.target,
        Meta.SHEET_NAME: prepared.sheet_path.name,
        Meta.SHEET_COPY: prepared.sheet_copy,
        Meta.SHEET_SHA256: prepared.sheet_sha256,
        Meta.CREATED_AT: now_iso(),
        Meta.PLAN_STARTED_AT: now_iso(),
        Meta.WRITE_RATE: str(first.write_rate),
        Meta.READ_RATE: str(first.read_rate),
        Meta.CONCURRENCY: str(first.concurrency),
    }
    if first.account:
        accounts = {
            c.account: {"base_url": c.base_url, "target": c.target, "write_rate": str(c.write_rate)}
            for c in connections
        }
        meta[Meta.ACCOUNTS] = json.dumps(accounts)
    return meta


@dataclass
class _AccountPlan:
    """One account's part of a plan."""

    connection: Connection
    stop: Stop
    stats: AttemptStats = field(default_factory=AttemptStats)
    planner: _Planner | None = None
    #: Why the account could not be planned (its credentials refused, unreachable).
    down: UsageError | None = None


async def _plan(
    prepared: PreparedRun,
    connections: Sequence[Connection],
    progress: ProgressCallback,
    handle_signals: bool,
    *,
    read: bool,
) -> Tally:
    started = time.monotonic()
    stop = Stop()
    with signals_stop(stop, handle_signals):
        journal = Journal.create(prepared.run_dir / JOURNAL_FILE, _metadata(prepared, connections))
        try:
            journal.lock(str(Operation.PLAN))
            notice = notices(progress, Operation.PLAN)
            stop.on_first_signal = lambda: notice(
                "stopping: no new read; the plan so far is kept but cannot be applied"
            )
            parts = [_AccountPlan(connection, stop.child()) for connection in connections]
            commit = GroupCommit(journal)
            try:
                results = await asyncio.gather(
                    *(
                        _plan_account(prepared, journal, commit, part, progress, read)
                        for part in parts
                    ),
                    return_exceptions=True,
                )
            finally:
                await commit.finish()
            errors = [r for r in results if isinstance(r, BaseException)]
            down = [part.down for part in parts if part.down is not None]
            if errors or len(down) == len(parts):
                error = errors[0] if errors else down[0]
                if isinstance(error, UsageError):
                    journal.close()
                    discard_run_folder(prepared)
                raise error
            if not stop.requested:
                journal.set_metadata({Meta.PLAN_FINISHED_AT: now_iso()})
            return _plan_tally(prepared, journal, parts, stop, started)
        finally:
            journal.close()


async def _plan_account(
    prepared: PreparedRun,
    journal: Journal,
    commit: GroupCommit,
    part: _AccountPlan,
    progress: ProgressCallback,
    read: bool,
) -> None:
    connection, stop = part.connection, part.stop
    rows = [row for row in prepared.rows if row.account == connection.account]
    refs = [sheet_ref(row) for row in rows]
    async with open_client(
        connection, journal, Operation.PLAN, part.stats, stop, progress
    ) as client:
        try:
            await check_connection(client, connection.base_url)
        except UsageError as exc:
            if not connection.account:
                raise
            # one account's refused key or unreachable host: its rows fail, the others go on
            part.down = exc
            stop.request(str(exc))
            commit.submit(rows_write(_unreachable_rows(connection.account, rows, refs, exc)))
            return
        targets = await _expand_targets(client, rows, stop, progress, connection.account)
        if not read:
            for start in range(0, len(targets), BATCH_ROWS):
                queued = [
                    PlannedRow(
                        target.scenario_id,
                        target.name,
                        [refs[i] for i in target.sheet_indices],
                        RowState.PLANNED,
                        account=connection.account,
                    )
                    for target in targets[start : start + BATCH_ROWS]
                ]
                commit.submit(rows_write(queued, queued=True))
            return
        planner = _Planner(
            journal, commit, client, connection.account, refs, targets, stop, progress
        )
        part.planner = planner
        if not stop.requested:
            await run_pool(
                planner.items(), planner.plan_one, concurrency=connection.concurrency, stop=stop
            )
        await planner.flush(final=True)


def _unreachable_rows(
    account: str, rows: Sequence[SheetRow], refs: Sequence[SheetRef], exc: UsageError
) -> list[PlannedRow]:
    """The id targets of an account whose connection check failed: failed, retryable."""
    found: dict[str, PlannedRow] = {}
    for row, ref in zip(rows, refs, strict=True):
        if row.target.kind != "id":
            continue
        planned = found.setdefault(
            row.target.value,
            PlannedRow(row.target.value, None, [], RowState.FAILED, account=account),
        )
        planned.sheet_refs.append(ref)
        planned.retryable = True
        planned.error_class = type(exc).__name__
        planned.error_text = str(exc)
    return list(found.values())


def _plan_tally(
    prepared: PreparedRun,
    journal: Journal,
    parts: Sequence[_AccountPlan],
    stop: Stop,
    started: float,
) -> Tally:
    counts = journal.counts()
    multi = any(part.connection.account for part in parts)
    tally = Tally(
        operation=str(Operation.PLAN),
        run_dir=prepared.run_dir,
        run_id=prepared.run_id,
        counts=counts,
        interrupted=stop.interrupted,
        stopped=stop.reason,
        elapsed=time.monotonic() - started,
        rate_limited=sum(part.stats.rate_limited for part in parts),
        planned=counts[RowState.PLANNED],
    )
    etas = []
    for part in parts:
        outcomes = dict(part.planner.outcomes) if part.planner else {}
        for key, count in outcomes.items():
            tally.this_run[key] = tally.this_run.get(key, 0) + count
        account_counts = journal.counts(part.connection.account)
        planned = account_counts[RowState.PLANNED]
        eta = planned * part.connection.write_rate.interval
        etas.append(eta)
        if multi:
            tally.accounts[part.connection.account] = AccountTally(
                counts=account_counts,
                this_run=outcomes,
                stopped=part.stop.reason,
                rate_limited=part.stats.rate_limited,
                planned=planned,
                eta_seconds=eta,
            )
    # the accounts are written at once, each within its own window: the slowest one decides
    tally.eta_seconds = max(etas, default=0.0)
    reasons = [f"{p.connection.account}: {p.stop.reason}" for p in parts if p.stop.reason]
    if multi and reasons and stop.reason is None:
        tally.stopped = "; ".join(reasons)
    return tally


@dataclass
class _Target:
    scenario_id: str
    name: str | None
    sheet_indices: list[int]


async def _expand_targets(
    client: IvrClient,
    rows: list[SheetRow],
    stop: Stop,
    progress: ProgressCallback,
    account: str = "",
) -> list[_Target]:
    """Turn ids and selectors into one target per scenario, in sheet order.

    Selectors (``*``, ``name:GLOB``) are matched against every scenario of the account through
    the paged search; only ids and names are kept.
    """
    selectors = [(i, row) for i, row in enumerate(rows) if row.target.kind != "id"]
    matched: dict[str, tuple[str, list[int]]] = {}
    if selectors:
        seen = 0
        with attempt_context(AttemptKind.SEARCH, None):
            async for item in client.iter_scenarios():
                seen += 1
                scenario_id, name = str(item.get("id", "")), str(item.get("name", ""))
                hits = [i for i, row in selectors if row.target.matches(scenario_id, name)]
                if hits and scenario_id:
                    matched[scenario_id] = (name, hits)
                if seen % 50 == 0:
                    progress(
                        ProgressEvent(Operation.PLAN, "search", seen, None, {}, account=account)
                    )
                if stop.requested:
                    break
    targets: dict[str, _Target] = {}
    for index, row in enumerate(rows):
        if row.target.kind == "id":
            target = targets.setdefault(row.target.value, _Target(row.target.value, None, []))
            target.sheet_indices.append(index)
            continue
        for scenario_id, (name, hits) in matched.items():
            if index in hits:
                target = targets.setdefault(scenario_id, _Target(scenario_id, name, []))
                target.sheet_indices.append(index)
    return list(targets.values())


def build_plan(scenario_id: str, body: Mapping[str, Any], refs: list[SheetRef]) -> PlannedRow:
    """Apply the rules of ``refs`` in order to ``body`` and validate the result.

    The planned body is the scenario as read, minus its read-only fields, with the rules'
    edits: keys the tool does not model go back unchanged (the PUT replaces the whole scenario).
    """
    name = body.get("name")
    row = PlannedRow(scenario_id, name if isinstance(name, str) else None, refs, RowState.PLANNED)
    row.read_body = dict(body)
    work: dict[str, Any] = copy_tree(writable(body))
    try:
        catalogue = rule_catalogue()
        for ref in refs:
            row.changes.extend(
                PlannedChange(c.action_path, c.field, c.before, c.after, c.rule, ref.row)
                for c in catalogue.find(ref.rule).body(work, dict(ref.params))
            )
    except RuleError as exc:
        row.state = RowState.INVALID
        row.changes = []
        row.error_class = "RuleError"
        row.error_text = str(exc)
        return row
    except Exception as exc:  # a broken rule must not stop the other rows
        row.state = RowState.FAILED
        row.changes = []
        row.retryable = False
        row.error_class = type(exc).__name__
        row.error_text = f"a rule failed on this scenario: {exc!r}"
        return row
    row.read_fingerprint = fingerprint(body)
    if not row.changes:
        row.state = RowState.UNCHANGED
        return row
    row.planned_fingerprint = fingerprint(work)
    if row.planned_fingerprint == row.read_fingerprint:
        row.state = RowState.UNCHANGED
        row.changes = []
        row.planned_fingerprint = None
        return row
    row.planned_body = work
    checked = check_scenario(work, request=True)
    errors = checked.errors
    # keys the tool does not model go back as read: worth a look, never a reason to refuse
    row.warnings = [Problem(w.path, w.message) for w in checked.warnings]
    if errors:
        before = {str(e) for e in validate_scenario(writable(body), request=True)}
        row.state = RowState.INVALID
        row.validation_errors = [Problem(e.path, e.message) for e in errors]
        old = sum(1 for e in errors if str(e) in before)
        row.error_class = "ValidationError"
        row.error_text = f"{len(errors)} validation error(s) in the planned body" + (
            f" ({old} already in the scenario as read)" if old else ""
        )
    return row


def failed_read(
    scenario_id: str, name: str | None, refs: list[SheetRef], exc: ApiError
) -> PlannedRow:
    """The plan of a target whose read failed: ``not_found`` or ``failed`` (retryable)."""
    status = getattr(exc, "status", None)
    if isinstance(exc, NotFound):
        state, retryable = RowState.NOT_FOUND, None
    else:
        state, retryable = RowState.FAILED, True
    return PlannedRow(
        scenario_id,
        name,
        refs,
        state,
        retryable=retryable,
        http_status=status,
        error_class=exc.error_class,
        error_text=exc.message,
    )


class _Planner:
    """Reads and plans targets with a pool of workers; journals results in plan order."""

    def __init__(
        self,
        journal: Journal,
        commit: GroupCommit,
        client: IvrClient,
        account: str,
        refs: list[SheetRef],
        targets: list[_Target],
        stop: Stop,
        progress: ProgressCallback,
    ) -> None:
        self.journal = journal
        self.commit = commit
        self.client = client
        self.account = account
        self.refs = refs
        self.targets = targets
        self.stop = stop
        self.progress = progress
        self.outcomes: dict[str, int] = {}
        self.done = 0
        self._ready: dict[int, PlannedRow] = {}
        self._pending: list[PlannedRow] = []
        self._next = 0

    async def items(self) -> AsyncIterator[int]:
        for index in range(len(self.targets)):
            yield index

    async def plan_one(self, index: int) -> None:
        target = self.targets[index]
        refs = [self.refs[i] for i in target.sheet_indices]
        try:
            with attempt_context(AttemptKind.GET, None):
                body = await self.stop.guard(self.client.get_scenario(target.scenario_id))
        except Aborted:
            return
        except ApiError as exc:
            row = failed_read(target.scenario_id, target.name, refs, exc)
        else:
            try:
                row = build_plan(target.scenario_id, body, refs)
            except Exception as exc:  # a body we could not digest fails its row, not the plan
                row = PlannedRow(target.scenario_id, target.name, refs, RowState.FAILED)
                row.retryable = False
                row.error_class = type(exc).__name__
                row.error_text = f"internal error on this scenario: {exc!r}"[:500]
        row.account = self.account
        self._ready[index] = row
        self.outcomes[str(row.state)] = self.outcomes.get(str(row.state), 0) + 1
        self.done += 1
        await self.flush()
        self.progress(
            ProgressEvent(
                Operation.PLAN,
                "read",
                self.done,
                len(self.targets),
                dict(self.outcomes),
                account=self.account,
            )
        )

    async def flush(self, *, final: bool = False) -> None:
        """Journal the contiguous prefix of finished targets once a batch is ready."""
        batch: list[PlannedRow] = []
        while self._next in self._ready:
            batch.append(self._ready.pop(self._next))
            self._next += 1
        if batch:
            self._pending.extend(batch)
        if self._pending and (final or len(self._pending) >= BATCH_ROWS):
            pending, self._pending = self._pending, []
            self.commit.submit(rows_write(pending))
        if final and self._ready:
            # interrupted: keep what finished, in order, even past a gap
            rest = [self._ready[i] for i in sorted(self._ready)]
            self._ready.clear()
            self.commit.submit(rows_write(rest))
