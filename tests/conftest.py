"""Shared pytest configuration. Keep it small: only fixtures used by several test modules."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Property tests: CI replays the same draws on every run (derandomize), so a CI failure is one a
# local run can reproduce and a change cannot fail CI on a draw nobody has seen before. Locally
# the draws stay random, exploring new cases, and failures are kept in .hypothesis/ for replay.
# Loaded here, before any test module builds its own settings(...) on top of the default.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", derandomize=False)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
