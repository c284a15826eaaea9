"""Test-only crash points, inert unless ``IVR_MIGRATE_TEST_CRASH_AFTER`` is set.

The crash-safety tests need to kill ``apply`` at exact points (right after an ``in_flight``
commit, right after a PUT was answered but before its outcome is journaled). Waiting for a
SIGKILL from outside cannot hit those points deterministically, so the test sets
``IVR_MIGRATE_TEST_CRASH_AFTER=<point>:<n>`` and the process ends itself with ``os._exit(137)``
(no cleanup, no flush: what SIGKILL does) the n-th time it passes ``<point>``.
Points: ``in_flight`` (committed, PUT not sent), ``put`` (PUT answered, outcome not journaled).
"""

from __future__ import annotations

import os
from typing import Final

ENV_CRASH_AFTER: Final = "IVR_MIGRATE_TEST_CRASH_AFTER"
_passed: dict[str, int] = {}


def crash_point(name: str) -> None:
    """End the process abruptly the n-th time ``name`` is passed, if a test asked for it."""
    wanted = os.environ.get(ENV_CRASH_AFTER)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] == int(count or "1"):
        os._exit(137)
