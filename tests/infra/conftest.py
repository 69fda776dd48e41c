"""Synthesise the stack from a small config, once per test module, without installing dependencies."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii prints an end-of-life banner for node 20 on every start; it says nothing about the code under test.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from aws_cdk import assertions

from infra.cdk_app import create_app
from infra.stacks.spendwatch_stack import SpendwatchStack

BASE_CONFIG = """
currency = "USD"
timezone = "Europe/Berlin"

[[sources]]
name = "focus-exports"
type = "focus"
path = "s3://some-bucket/focus/"
schedule = "rate(6 hours)"

[[sources]]
name = "do"
type = "digitalocean"
schedule = "cron(0 */6 * * ? *)"
enabled = false

[[budgets]]
name = "total"
amount = "500.00"
period = "month"
thresholds = ["50%", "100%", "forecast:100%"]
"""


@dataclass(frozen=True)
class Synthesised:
    """One synthesised app: the stack, its template and where everything was written."""

    stack: SpendwatchStack
    template: assertions.Template
    template_json: dict[str, Any]
    template_file: Path
    outdir: Path
    build_dir: Path
    config_text: str
    warnings: list[str]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of one CloudFormation type, by logical id."""
        return {k: v for k, v in self.template_json["Resources"].items() if v["Type"] == resource_type}

    def validation_report(self) -> dict[str, Any]:
        """The policy validation report cdk-nag (and construct annotations) wrote beside the template."""
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text(encoding="utf-8"))
        return report

    def unused_acknowledgments(self) -> set[tuple[str, str]]:
        """(construct path, rule id) of acknowledgments that suppressed no finding: stale ones hide nothing."""
        key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        made = {
            (construct.node.path, rule)
            for construct in self.stack.node.find_all()
            for entry in construct.node.metadata
            if entry.type == key
            for rule in entry.data
        }
        used = {
            (suppressed["acknowledgedAt"], suppressed["acknowledgedId"])
            for plugin in self.validation_report()["pluginReports"]
            for suppressed in plugin.get("suppressedViolations", [])
        }
        return made - used


Synthesise = Callable[..., Synthesised]


def synthesise(directory: Path, config_text: str, **context: str) -> Synthesised:
    """Write ``config_text`` to ``directory`` and synthesise the app there (cdk-nag runs; errors raise)."""
    config = directory / "spendwatch.toml"
    config.write_text(config_text, encoding="utf-8")
    build_dir = directory / ".build"
    app, stack = create_app(
        outdir=str(directory / "cdk.out"),
        context={"config": str(config), "build_dir": str(build_dir), "bundle_dependencies": "false", **context},
    )
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    return Synthesised(
        stack=stack,
        template=assertions.Template.from_json(artifact.template),
        template_json=artifact.template,
        template_file=Path(assembly.directory) / artifact.template_file,
        outdir=Path(assembly.directory),
        build_dir=build_dir,
        config_text=config_text,
        warnings=[str(entry.data) for entry in artifact.find_metadata_by_type("aws:cdk:warning")],
    )


@pytest.fixture(scope="session")
def synthesiser() -> Synthesise:
    """The synthesis helper, for module-scoped fixtures (one synth per test module keeps the tier fast)."""
    return synthesise
