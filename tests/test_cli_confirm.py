"""Before a write, on a terminal: what will be written (rows per rule, the first changes), then
the question; "no" writes nothing. Run as an operator would, with a pseudo-terminal as stdin."""

from __future__ import annotations

from pathlib import Path

from cli_support import environment, in_terminal, the_hint
from test_engine_support import MIGRATION_SHEET, sandbox, write_sheet

from migrate.journal import JOURNAL_FILE, Journal
from migrate.sandbox import Account

DEMO = Path(__file__).resolve().parent.parent / "migrate" / "examples" / "demo-sheet.csv"
KEY = "confirm-test-key"


def counts(run_dir: Path) -> dict[str, int]:
    with Journal.open(run_dir / JOURNAL_FILE, read_only=True) as journal:
        return {str(state): n for state, n in journal.counts().items() if n}


def test_apply_shows_rows_per_rule_and_the_first_changes_then_asks(tmp_path: Path) -> None:
    planned = in_terminal(["ivr-migrate", "plan", str(DEMO), "--sandbox", "--out", "run"],
                          tmp_path, environment())  # fmt: skip
    assert planned.returncode == 0, planned.stderr

    refused = in_terminal(["ivr-migrate", "apply", "run", "--sandbox"], tmp_path, environment(),
                          answer="n")  # fmt: skip
    assert refused.returncode == 1
    err = refused.stderr
    assert (
        "3 scenario(s) to write; by rule: sms-sender 3 (3 changes), sms-text 1 (1 change), "
        "url 1 (1 change)"
    ) in err
    assert '    script[3].sendSms.from: "SakuraWx" → "Sakura"  (sms-sender, row 4)' in err
    # the question names the embedded sandbox, not its loopback port
    assert "Write 3 scenario(s) to the embedded sandbox? [y/N]" in err
    assert "127.0.0.1" not in err
    assert err.rstrip().endswith("not confirmed: nothing was written")
    assert counts(tmp_path / "run") == {"planned": 3, "unchanged": 4}


def test_run_previews_a_few_scenarios_and_points_at_show_for_the_rest(tmp_path: Path) -> None:
    env = environment(INFOBIP_API_KEY=KEY)
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),), generate=14) as running:
        sheet = write_sheet(tmp_path / "s.csv", MIGRATION_SHEET)
        argv = ["ivr-migrate", "run", "s.csv", "--out", "run", "--base-url", running.base_url]
        refused = in_terminal(argv, tmp_path, env, answer="n")
        assert refused.returncode == 1, refused.stderr
        assert running.put_counts() == {}
    err = refused.stderr
    assert "9 scenario(s) to write; by rule: sms-sender 6 (6 changes), url 3 (6 changes)" in err
    assert f"Write 9 scenario(s) to {running.base_url}? [y/N]" in err
    more = the_hint(err, "… 6 more:")
    assert more == ["ivr-migrate", "show", "run"]
    shown = in_terminal(more, tmp_path, env)
    assert shown.returncode == 0 and shown.stdout.count(" would update ") == 9
    assert sheet.is_file()


def test_retry_all_replans_shows_the_new_plan_and_asks(tmp_path: Path) -> None:
    env = environment(INFOBIP_API_KEY=KEY)
    edited = "97D7570CA5C53185824F6D896957394D"
    with sandbox(accounts=(Account("acme", api_keys=(KEY,)),)) as running:
        base = ["--base-url", running.base_url]
        assert in_terminal(["ivr-migrate", "plan", str(DEMO), "--out", "run", *base], tmp_path,
                           env).returncode == 0  # fmt: skip
        running.edit_scenario(edited, {"description": "edited"})
        applied = in_terminal(["ivr-migrate", "apply", "run", "--yes", *base], tmp_path, env)
        assert applied.returncode == 1 and len(running.put_counts()) == 2

        refused = in_terminal(["ivr-migrate", "retry", "run", "--all", *base], tmp_path, env,
                              answer="n")  # fmt: skip
        assert refused.returncode == 1
        # re-planned from a fresh read (the edit is in it), shown, and nothing written
        assert len(running.put_counts()) == 2
        assert counts(tmp_path / "run") == {"planned": 1, "updated": 2, "unchanged": 4}
        err = refused.stderr
        assert "1 scenario(s) to write; by rule: sms-sender 1 (1 change)" in err
        assert '"SakuraWx" → "Sakura"' in err
        assert "just planned again from a fresh read" in err
        assert (
            f"Write 1 re-planned row(s) and retry 0 failed (retryable) row(s) on "
            f"{running.base_url}? [y/N]"
        ) in err

        accepted = in_terminal(["ivr-migrate", "retry", "run", "--all", *base], tmp_path, env,
                               answer="y")  # fmt: skip
        assert accepted.returncode == 0, accepted.stderr
        assert running.put_counts()[edited] == 1 and len(running.put_counts()) == 3
        stored = running.scenario(edited)
        assert stored is not None and stored["description"] == "edited"
    assert counts(tmp_path / "run") == {"updated": 3, "unchanged": 4}
