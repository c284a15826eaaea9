"""Run folders: ``reports/<run-id>/`` with the sheet copy, the journal and, later, the reports."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from migrate.config import DEFAULT_REPORTS_DIR
from migrate.errors import ConfigError, JournalError
from migrate.journal import JOURNAL_FILE

#: Free space a run folder needs before we send a write: the journal grows with every row.
MIN_FREE_BYTES: Final = 64 * 1024 * 1024
SHEET_COPY_PREFIX: Final = "sheet"


def now_iso() -> str:
    """The current UTC time for metadata: ``2026-11-26T14:15:02.125+00:00``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def make_run_id(sheet_path: Path, now: float | None = None) -> str:
    """``20261126-141502-demo-sheet-3f9a``: time, sheet name, and a short random suffix."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    slug = re.sub(r"[^a-z0-9]+", "-", sheet_path.stem.lower()).strip("-")[:40] or "sheet"
    return f"{stamp}-{slug}-{secrets.token_hex(2)}"


def create_run_folder(
    sheet_path: Path, *, out: Path | None = None, reports_dir: Path | None = None
) -> tuple[Path, str]:
    """Create the run folder (``out`` exactly, or a new one under ``reports/``)."""
    run_id = make_run_id(sheet_path)
    if out is not None:
        run_dir = Path(out)
        if run_dir.exists() and not run_dir.is_dir():
            raise ConfigError(f"--out {run_dir} is not a folder: give a new or empty folder")
        if run_dir.exists() and any(run_dir.iterdir()):
            raise ConfigError(f"--out {run_dir} is not empty: give a new or empty folder")
        run_id = run_dir.name or run_id
    else:
        run_dir = Path(reports_dir or DEFAULT_REPORTS_DIR) / run_id
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the run folder {run_dir}: {exc.strerror}") from exc
    check_writable(run_dir)
    return run_dir, run_id


def copy_sheet(sheet_path: Path, run_dir: Path) -> tuple[str, str]:
    """Copy the sheet into the run folder; returns the copy's file name and its sha256."""
    name = f"{SHEET_COPY_PREFIX}{sheet_path.suffix.lower()}"
    digest = hashlib.sha256()
    with open(sheet_path, "rb") as source, open(run_dir / name, "wb") as target:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
            target.write(chunk)
    return name, digest.hexdigest()


def resolve_run(run: str | os.PathLike[str], reports_dir: Path | None = None) -> Path:
    """A run folder from a path or a run id under ``reports/``."""
    candidates = [Path(run), Path(reports_dir or DEFAULT_REPORTS_DIR) / str(run)]
    for candidate in candidates:
        if (candidate / JOURNAL_FILE).is_file():
            return candidate
    raise JournalError(
        f"no run {str(run)!r}: give a run folder (with {JOURNAL_FILE}) or a run id under "
        f"{reports_dir or DEFAULT_REPORTS_DIR}/"
    )


def check_writable(run_dir: Path, min_free: int = MIN_FREE_BYTES) -> None:
    """Fail before any write is sent if the run folder cannot take the journal's growth."""
    probe = run_dir / f".write-check-{os.getpid()}"
    try:
        with open(probe, "wb") as handle:
            handle.write(b"ok")
            handle.flush()
            os.fsync(handle.fileno())
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"the run folder {run_dir} is not writable: {exc.strerror}") from exc
    free = shutil.disk_usage(run_dir).free
    if free < min_free:
        raise ConfigError(
            f"only {free // (1024 * 1024)} MB free under {run_dir}; the journal needs at least "
            f"{min_free // (1024 * 1024)} MB: free some space or pass --out elsewhere"
        )
