"""``--sandbox``: run a command against the emulator, started in-process for one run folder.

The sandbox keeps its scenarios in ``<run folder>/sandbox.sqlite``, so a later ``apply``,
``retry`` or ``rollback`` of the same run with ``--sandbox`` finds the scenarios as the earlier
command left them. Its API key is generated for each start and never written anywhere.
Its write limit is compressed (6 per 2 s instead of 6 per 60 s) so the demo takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from migrate.config import Rate
from migrate.engine.runfolder import SANDBOX_DB
from migrate.errors import ConfigError

#: The embedded sandbox's write limit, and the client's default write rate against it.
SANDBOX_WRITE_RATE: Final = Rate(6, 2.0)
#: Reads are not limited by the embedded sandbox; the client stays polite anyway.
SANDBOX_READ_RATE: Final = Rate(100, 1.0)


@contextmanager
def embedded_sandbox(
    run_dir: Path, seed_dir: Path | None = None, *, new: bool
) -> Iterator[tuple[str, str]]:
    """Serve the run's sandbox; yields ``(base_url, api_key)``.

    ``new``: a run being planned (seeded from ``seed_dir`` or the bundled examples); otherwise
    the run's existing ``sandbox.sqlite`` is reopened as it was left.
    """
    from migrate.sandbox import SandboxConfig, bundled_seed_dir, start_sandbox

    db_path = run_dir / SANDBOX_DB
    if not new and not db_path.is_file():
        raise ConfigError(f"{run_dir} has no {SANDBOX_DB}: it was not planned with --sandbox")
    if seed_dir is not None and not seed_dir.is_dir():
        raise ConfigError(
            f"--sandbox {seed_dir}: not a folder of scenario JSON files (to use the bundled "
            "examples, put --sandbox after the sheet or before another option)"
        )
    config = SandboxConfig(
        write_rate=SANDBOX_WRITE_RATE,
        read_rate=None,
        seed_dir=seed_dir or bundled_seed_dir(),
        db_path=db_path,
    )
    with start_sandbox(config) as sandbox:
        yield sandbox.base_url, sandbox.api_key
