"""Shared test helpers. Keep it small: fixtures used by more than one test module only."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def vectors_dir() -> Path:
    """``../shared/vectors`` next to the repository; the test skips when it is absent."""
    path = REPO_ROOT.parent / "shared" / "vectors"
    if not (path / "INDEX.md").is_file():
        pytest.skip(f"published payload vectors not found at {path}")
    return path
