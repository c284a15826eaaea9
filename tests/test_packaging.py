"""Packaging metadata that setuptools accepts without a deprecation warning."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_license_is_an_spdx_expression() -> None:
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    license_ = data["project"]["license"]
    # a table ({text = ...}) is deprecated since setuptools 77, which reads SPDX strings
    assert isinstance(license_, str) and re.fullmatch(r"[A-Za-z0-9.+-]+", license_)
    requires = data["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d|\d{3,})(\.\d+)*", r) for r in requires)
