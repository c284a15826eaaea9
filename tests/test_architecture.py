"""Guards of the code's shape: one vocabulary, no test hook in shipped code.

The import layers themselves are import-linter contracts (pyproject.toml), run by `make lint`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from migrate.vocabulary import Operation, Outcome, RowState

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(
    path for package in ("migrate", "transforms") for path in (ROOT / package).rglob("*.py")
)
VOCABULARY = ROOT / "migrate" / "vocabulary.py"


def string_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_every_row_state_name_is_spelled_in_the_vocabulary_only() -> None:
    names = {str(state) for state in RowState} | {str(outcome) for outcome in Outcome}
    found = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in SHIPPED
        if path != VOCABULARY
        for line, value in string_literals(path)
        if value in names
    ]
    assert found == []
    spelled = {value for _, value in string_literals(VOCABULARY)}
    assert names <= spelled


def test_operations_are_spelled_in_the_vocabulary_only() -> None:
    # "apply", "plan" and "rollback" are also command names, which click spells; SQL and code
    # use the enum.
    allowed = {
        VOCABULARY,
        ROOT / "migrate" / "cli.py",
        ROOT / "migrate" / "engine" / "operations.py",
    }
    names = {str(operation) for operation in Operation}
    found = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in SHIPPED
        if path not in allowed
        for line, value in string_literals(path)
        if value in names
    ]
    assert found == []


def test_no_test_hook_in_shipped_code() -> None:
    offenders = []
    for path in SHIPPED:
        text = path.read_text(encoding="utf-8")
        if "os._exit" in text or "IVR_MIGRATE_TEST" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_commands_that_write_no_report_do_not_import_pandas(tmp_path: Path) -> None:
    import subprocess
    import sys

    from migrate.journal import JOURNAL_FILE, Journal

    run = tmp_path / "run"
    run.mkdir()
    Journal.create(run / JOURNAL_FILE, {"run_id": "r", "plan_finished_at": "1"}).close()
    for args in (["--help"], ["rules"], ["status"], ["status", "run"], ["show", "run"]):
        probe = (
            "import sys\n"
            "from migrate.cli import cli\n"
            f"try:\n    cli({args!r}, standalone_mode=False)\n"
            "except BaseException:\n    pass\n"
            "print('pandas' in sys.modules)\n"
        )
        found = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True
        )
        assert found.stdout.strip().splitlines()[-1] == "False", args
