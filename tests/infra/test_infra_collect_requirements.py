"""The collect function's own dependencies are the ones the local environment installs."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_collect_requirements_match_the_providers_extra() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["providers"]
    lines = (ROOT / "functions/collect/requirements.txt").read_text().split("\n")
    pinned = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(pinned) == sorted(extra)
    assert all("==" in requirement for requirement in pinned)
