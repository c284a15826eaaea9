"""``show RUN`` and the preview before a write: the planned changes, read from the journal.

Per scenario, the action-level changes as the reports show them (``script[4].sendSms.from:
"OldBrand" → "NewBrand"``), with the rule and sheet row that made each. Values come from the
account and the sheet, so they are printed as :class:`rich.text.Text`, never as markup.
The journal is opened read-only: an archived run on a read-only disk can still be shown.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rich.console import Console
from rich.text import Text

from migrate.commands.hints import command_line
from migrate.journal import JOURNAL_FILE, Journal
from migrate.vocabulary import (
    PROBLEM_STATES,
    Meta,
    Operation,
    PlannedChange,
    RowRecord,
    RowState,
    state_label,
    tally_line,
)

#: Characters of a value shown before it is cut (``show --json`` gives them whole).
MAX_VALUE_CHARS: Final = 160
#: Scenarios a confirmation shows before asking.
PREVIEW_SCENARIOS: Final = 3

_STYLES: Final = {
    RowState.PLANNED: "yellow",
    RowState.UPDATED: "green",
    RowState.ROLLED_BACK: "cyan",
    RowState.IN_FLIGHT: "magenta",
}


def console(*, stderr: bool = False) -> Console:
    """A console that never wraps a long path or value into two lines, nor colours numbers."""
    return Console(stderr=stderr, soft_wrap=True, highlight=False)


@dataclass
class RunChanges:
    """A run's rows as :func:`shown` keeps them, streamed from the journal; what the other
    rows are is counted while they stream by."""

    run_id: str
    dry_run: bool
    counts: dict[str, int]
    journal: Journal
    states: Collection[RowState] | None = None
    account: str | None = None

    def __post_init__(self) -> None:
        self.not_shown: Counter[str] = Counter()

    def rows(self) -> Iterator[RowRecord]:
        for row in self.journal.rows(self.states, bodies=False, account=self.account):
            if shown(row):
                yield row
            else:
                self.not_shown[str(row.state)] += 1


def shown(row: RowRecord) -> bool:
    """Rows with changes, and rows that ended badly (with why)."""
    return bool(row.changes) or row.state in PROBLEM_STATES


@contextmanager
def read_changes(
    run_dir: Path, states: Collection[RowState] | None = None, account: str | None = None
) -> Iterator[RunChanges]:
    """The run's rows that :func:`shown` keeps (only those in ``states``, of ``account``)."""
    with Journal.open(run_dir / JOURNAL_FILE, read_only=True) as journal:
        meta = journal.metadata()
        counts = {str(state): n for state, n in journal.counts(account).items() if n}
        dry_run = not meta.get(Meta.APPLY_STARTED_AT) and not meta.get(Meta.ROLLBACK_STARTED_AT)
        run_id = meta.get(Meta.RUN_ID, run_dir.name)
        yield RunChanges(run_id, dry_run, counts, journal, states, account)


def value_text(value: Any, *, side: str) -> str:
    """A JSON value as one line: strings quoted, ``None`` (an absent field) in words."""
    if value is None:
        return "(absent)" if side == "before" else "(removed)"
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def change_text(change: PlannedChange) -> Text:
    where = f"{change.rule}" + (f", row {change.sheet_row}" if change.sheet_row else "")
    return Text.assemble(
        "    ",
        (change.path, "bold"),
        ": ",
        (value_text(change.before, side="before"), "red"),
        " → ",
        (value_text(change.after, side="after"), "green"),
        (f"  ({where})", "dim"),
    )


def row_text(row: RowRecord, *, dry_run: bool) -> Iterator[Text]:
    """A scenario's heading, its changes, and its error if it has one."""
    label = state_label(row.state, dry_run=dry_run)
    style = _STYLES.get(row.state, "red" if row.state in PROBLEM_STATES else "")
    changes = f"{len(row.changes)} change{'s' * (len(row.changes) != 1)}"
    yield Text.assemble(
        (f"{row.account}: " if row.account else "", "bold"),
        (row.scenario_id, "bold"),
        f"  {row.name or '(no name)'}  ",
        (label, style),
        (f"  {changes}; {', '.join(dict.fromkeys(row.rules))}", "dim"),
    )
    for change in row.changes:
        yield change_text(change)
    if row.error_text or row.validation_errors:
        status = f"HTTP {row.http_status}" if row.http_status else None
        head = " ".join(part for part in (row.error_class, status) if part)
        yield Text.assemble("    ", (f"{head or 'error'}: ", "red"), row.error_text or "")
    for problem in row.validation_errors[:5]:
        yield Text(f"      {problem}")


def print_run_changes(run_dir: Path, out: Console, account: str | None = None) -> None:
    """``show RUN``: every scenario with changes or problems, then what the others are."""
    with read_changes(run_dir, account=account) as found:
        head = f": {tally_line(found.counts)}"
        out.print(Text.assemble(("run ", "bold"), (found.run_id, "bold"), head))
        for row in found.rows():
            out.print()
            for line in row_text(row, dry_run=found.dry_run):
                out.print(line)
        if found.not_shown:
            out.print()
            rest = tally_line(found.not_shown)
            out.print(Text(f"not shown (nothing changes): {rest}", style="dim"))


def write_run_changes_json(
    run_dir: Path, write: Callable[[str], object], account: str | None = None
) -> None:
    """``show RUN --json``: one JSON object, written scenario by scenario."""
    with read_changes(run_dir, account=account) as found:
        head = {"run_id": found.run_id, "run_dir": str(run_dir), "dry_run": found.dry_run}
        write(json.dumps(head)[:-1] + f', "counts": {json.dumps(found.counts)}, "scenarios": [')
        for index, row in enumerate(found.rows()):
            write(("," if index else "") + "\n  " + json.dumps(_row_json(row), ensure_ascii=False))
        write(f'\n], "not_shown": {json.dumps(dict(found.not_shown))}}}\n')


def _row_json(row: RowRecord) -> dict[str, Any]:
    return {
        **({"account": row.account} if row.account else {}),
        "scenario_id": row.scenario_id,
        "name": row.name,
        "state": str(row.state),
        "rules": list(dict.fromkeys(row.rules)),
        "changes": [
            {
                "path": change.path,
                "before": change.before,
                "after": change.after,
                "rule": change.rule,
                "sheet_row": change.sheet_row,
            }
            for change in row.changes
        ],
        "error_class": row.error_class,
        "error": row.error_text,
        "validation_errors": [str(problem) for problem in row.validation_errors],
    }


def print_preview(
    run_dir: Path, states: Collection[RowState], out: Console, *, what: str = "to write"
) -> None:
    """Before a confirmation: the scenarios in ``states`` per rule, and the first few diffs."""
    per_rule: Counter[str] = Counter()
    changes: Counter[str] = Counter()
    first: list[RowRecord] = []
    with read_changes(run_dir, states) as found:
        for row in found.rows():
            per_rule.update({change.rule for change in row.changes})
            changes.update(change.rule for change in row.changes)
            if len(first) < PREVIEW_SCENARIOS + 1:
                first.append(row)
        total = sum(found.counts.get(str(state), 0) for state in states)
    by_rule = ", ".join(
        f"{rule} {count} ({changes[rule]} change{'s' * (changes[rule] != 1)})"
        for rule, count in sorted(per_rule.items())
    )
    out.print(Text(f"{total} scenario(s) {what}" + (f"; by rule: {by_rule}" if by_rule else "")))
    for row in first[:PREVIEW_SCENARIOS]:
        for line in row_text(row, dry_run=False):
            out.print(line)
    if len(first) > PREVIEW_SCENARIOS:
        more = total - PREVIEW_SCENARIOS
        out.print(Text(f"… {more} more: {command_line('show', run_dir)}", style="dim"))


def operation_states(operation: str) -> tuple[RowState, ...]:
    """The rows an operation's confirmation previews."""
    if operation == Operation.ROLLBACK:
        return (RowState.UPDATED,)
    return (RowState.IN_FLIGHT, RowState.PLANNED)
