"""The PUT is a full replace: keys the tool does not model go back unchanged, never dropped.

The sandbox here replaces the whole scenario on PUT, as the real API does (a key left out of
the body is gone), and is seeded with a scenario that carries unmodelled keys at the top level
and inside actions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_engine_support import NO_SIGNALS, connect, journal_of, plan, sandbox

from migrate.engine import apply_run
from migrate.vocabulary import RowState

SEED = Path(__file__).resolve().parent / "data" / "scenarios" / "unmodelled"
SCENARIO = json.loads(next(SEED.glob("*.json")).read_text(encoding="utf-8"))
SHEET = [
    {"scenario_id": SCENARIO["id"], "rule": "sms-sender", "old": "Kestrel", "new": "KestrelRW"},
    {
        "scenario_id": SCENARIO["id"],
        "rule": "url",
        "find": "https://api.kestrel-rewards.example",
        "replace": "https://crm.kestrel.example",
    },
]


def without(value: Any, *paths: tuple[Any, ...]) -> Any:
    """A copy of a JSON value with the leaves at ``paths`` removed (the fields the rules edit)."""
    copy = json.loads(json.dumps(value))
    for path in paths:
        node = copy
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return copy


def test_a_sender_swap_keeps_every_unmodelled_key(tmp_path: Path) -> None:
    with sandbox(seed_dir=SEED, put_replaces=True) as running:
        prepared, tally = plan(tmp_path, running, SHEET)
        assert tally.counts[RowState.PLANNED] == 1
        with journal_of(prepared.run_dir) as journal:
            row = next(journal.rows())
        # reported, never a reason to refuse: the server itself returned them
        assert row.state is RowState.PLANNED and row.validation_errors == []
        warned = {problem.path for problem in row.warnings}
        assert {"label", "folder", "x-owner", "script[0].x-note"} <= warned

        tally = apply_run(prepared.run_dir, connect(running), NO_SIGNALS)
        assert tally.counts[RowState.UPDATED] == 1, tally.as_json()

        stored = running.scenario(SCENARIO["id"])
        assert stored is not None
        then = stored["script"][2]["then"]
        assert then[1]["sendSms"]["from"] == "KestrelRW"
        assert then[0]["request"].startswith("https://crm.kestrel.example/v2/members/")
        for key in ("label", "folder", "x-owner", "notifyUrl", "description"):
            assert stored[key] == SCENARIO[key], key
        edited = (2, "then", 1, "sendSms", "from"), (2, "then", 0, "request")
        assert without(stored["script"], *edited) == without(SCENARIO["script"], *edited)
