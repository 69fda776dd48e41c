"""A function's own dependencies are the ones the local environment installs (its pyproject extra)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("function", "extra"), [("collect", "providers"), ("api", "signin")])
def test_function_requirements_match_their_extra(function: str, extra: str) -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    lines = (ROOT / f"functions/{function}/requirements.txt").read_text().split("\n")
    pinned = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(pinned) == sorted(extras[extra])
    assert all("==" in requirement for requirement in pinned)
