"""Sheet rows that changed nothing: a selector that matched no scenario, or a rule that found
nothing to change in any scenario it reached (a typo in ``old``, a sender already renamed).

Such a row leaves no trace in the tally, so ``plan`` names each one. Read from the journal:
each planned change carries its sheet row, and each journal row the sheet rows that targeted it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from migrate.journal import JOURNAL_FILE, Journal
from migrate.sheet import SheetRow

#: Sheet rows named one per line; the rest are counted (the reports list them all).
MAX_LISTED: Final = 10


def describe(row: SheetRow) -> str:
    """``row 3 (sms-sender old=NoSuchSender new=NewBrand; scenario_id *)``."""
    cells = "".join(f" {name}={value}" for name, value in row.cells.items())
    return f"row {row.row} ({row.rule}{cells}; scenario_id {row.target})"


def idle_rows(run_dir: Path, rows: Sequence[SheetRow]) -> list[str]:
    """One line per sheet row of a finished plan that changed nothing, the longest lists cut
    short after :data:`MAX_LISTED` lines."""
    targeted: Counter[int] = Counter()
    reached: Counter[int] = Counter()
    changed: set[int | None] = set()
    with Journal.open(run_dir / JOURNAL_FILE, read_only=True) as journal:
        for record in journal.rows(bodies=False):
            # a row whose read failed, or whose rule refused the scenario, ran no rule to the end
            # (the plan keeps a read fingerprint only when every rule ran)
            ran = record.read_fingerprint is not None
            for ref in record.sheet_refs:
                targeted[ref.row] += 1
                reached[ref.row] += ran
            changed.update(change.sheet_row for change in record.changes)
    lines = []
    for row in rows:
        if row.row in changed:
            continue
        if not targeted[row.row]:
            lines.append(f"{describe(row)}: matched no scenario")
        elif reached[row.row]:
            count = reached[row.row]
            plural = "s" * (count != 1)
            lines.append(f"{describe(row)}: changed nothing in {count} scenario{plural}")
    if len(lines) > MAX_LISTED:
        more = len(lines) - MAX_LISTED
        lines = [*lines[:MAX_LISTED], f"… and {more} more sheet rows that changed nothing"]
    return lines
