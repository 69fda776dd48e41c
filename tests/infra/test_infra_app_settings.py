"""How the CDK app reads its settings from context, the environment and the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra import cdk_app

ROOT = Path(__file__).resolve().parents[2]


def _app(tmp_path: Path, **context: Any) -> cdk.App:
    return cdk.App(outdir=str(tmp_path / "out"), context=context)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SPENDWATCH_CONFIG", "SPENDWATCH_SKIP_DEPS"):
        monkeypatch.delenv(name, raising=False)


def test_config_from_context_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPENDWATCH_CONFIG", "from-env.toml")
    assert cdk_app.config_path(_app(tmp_path, config="from-context.toml"), tmp_path) == Path("from-context.toml")
    assert cdk_app.config_path(_app(tmp_path), tmp_path) == Path("from-env.toml")


def test_config_defaults_to_spendwatch_toml_then_the_example(tmp_path: Path) -> None:
    assert cdk_app.config_path(_app(tmp_path), tmp_path) == tmp_path / "spendwatch.example.toml"
    (tmp_path / "spendwatch.toml").write_text("", encoding="utf-8")
    assert cdk_app.config_path(_app(tmp_path), tmp_path) == tmp_path / "spendwatch.toml"


@pytest.mark.parametrize(
    ("context", "env", "expected"),
    [
        (None, "", True),
        ("false", "", False),
        (False, "", False),
        ("true", "1", True),
        (None, "1", False),
        (None, "0", True),
    ],
)
def test_dependency_bundling_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, context: Any, env: str, expected: bool
) -> None:
    monkeypatch.setenv("SPENDWATCH_SKIP_DEPS", env)
    app = _app(tmp_path) if context is None else _app(tmp_path, bundle_dependencies=context)
    assert cdk_app.bundle_dependencies(app) is expected


@pytest.mark.parametrize(("value", "expected"), [(None, 2), ("none", None), ("0", None), ("5", 5), (3, 3)])
def test_collect_concurrency(tmp_path: Path, value: Any, expected: int | None) -> None:
    app = _app(tmp_path) if value is None else _app(tmp_path, collect_concurrency=value)
    assert cdk_app.collect_concurrency(app) == expected


def test_cdk_json_runs_this_app_with_the_recommended_flags() -> None:
    assert json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["app"].endswith("python infra/cdk_app.py")
    flags = cdk_app.feature_flags(ROOT)
    assert flags["@aws-cdk/aws-apigateway:disableCloudWatchRole"] is True
    assert flags["@aws-cdk/aws-iam:minimizePolicies"] is True
