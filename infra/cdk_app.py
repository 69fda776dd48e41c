"""CDK entry point: ``python infra/cdk_app.py`` (or ``cdk synth``) builds the assets and synthesises the stack.

Settings, as CDK context (``-c key=value``) or environment:
- ``config`` / ``SPENDWATCH_CONFIG``: the config file (default ``spendwatch.toml``, else ``spendwatch.example.toml``).
- ``bundle_dependencies=false`` / ``SPENDWATCH_SKIP_DEPS=1``: skip installing the pinned dependencies into the
  layer (fast, for tests; the assets are then not deployable).
- ``build_dir``: where assets are assembled (default ``.build``).
- ``collect_concurrency``: reserved concurrency of the collect function, or ``none`` for accounts whose quota is
  still the initial 10.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts only infra/ on sys.path; the app imports infra.* and the shared package.
for _path in (ROOT / "layers" / "common" / "python", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402
from spendwatch.domain.config import load_config  # noqa: E402

from infra.bundling import Project, build_assets  # noqa: E402
from infra.stacks import names  # noqa: E402
from infra.stacks.spendwatch_stack import SpendwatchStack  # noqa: E402

DEPLOYED_FUNCTIONS = ("collect", "api", "alert", "price", "recommend", "report")
_FALSE = {"0", "false", "no", "off"}


def feature_flags(root: Path = ROOT) -> dict[str, Any]:
    """The ``context`` of ``cdk.json``, so a plain ``python infra/cdk_app.py`` synthesises like the CLI does."""
    cdk_json = root / "cdk.json"
    if not cdk_json.is_file():
        return {}
    context = json.loads(cdk_json.read_text(encoding="utf-8")).get("context", {})
    return dict(context)


def config_path(app: cdk.App, root: Path = ROOT) -> Path:
    """Context ``config``, else ``SPENDWATCH_CONFIG``, else ``spendwatch.toml``, else ``spendwatch.example.toml``."""
    explicit = app.node.try_get_context("config") or os.environ.get("SPENDWATCH_CONFIG")
    if explicit:
        return Path(str(explicit))
    default = root / "spendwatch.toml"
    return default if default.is_file() else root / "spendwatch.example.toml"


def bundle_dependencies(app: cdk.App) -> bool:
    """Whether pinned dependencies go into the layer: context ``bundle_dependencies``, env ``SPENDWATCH_SKIP_DEPS``."""
    value = app.node.try_get_context("bundle_dependencies")
    if value is not None:
        return str(value).strip().lower() not in _FALSE
    return os.environ.get("SPENDWATCH_SKIP_DEPS", "").strip().lower() in {"", *_FALSE}


def collect_concurrency(app: cdk.App) -> int | None:
    """Reserved concurrency for collect from context ``collect_concurrency``; ``none`` leaves it unreserved."""
    value = app.node.try_get_context("collect_concurrency")
    if value is None:
        return names.COLLECT_RESERVED_CONCURRENCY
    text = str(value).strip().lower()
    if text in {"none", "0", ""}:
        return None
    return int(text)


def create_app(
    *, root: Path = ROOT, outdir: str | None = None, context: Mapping[str, Any] | None = None
) -> tuple[cdk.App, SpendwatchStack]:
    """Build the assets and an App holding the stack, with the cdk-nag AwsSolutions checks attached."""
    app = cdk.App(
        outdir=outdir or os.environ.get("CDK_OUTDIR") or str(root / "cdk.out"),
        context={**feature_flags(root), **(context or {})},
    )
    config_file = config_path(app, root)
    config = load_config(config_file)
    build_dir = Path(str(app.node.try_get_context("build_dir") or root / ".build"))
    assets = build_assets(
        Project(root=root, build_dir=build_dir),
        DEPLOYED_FUNCTIONS,
        # The file as written, comments included; load_config above has validated it.
        config_file.read_text(encoding="utf-8"),
        config_file_name=names.CONFIG_FILE_NAME,
        include_dependencies=bundle_dependencies(app),
    )
    stack = SpendwatchStack(
        app,
        names.STACK_ID,
        config=config,
        assets=assets,
        collect_concurrency=collect_concurrency(app),
        description="spendwatch: multi-provider cloud-cost watchdog",
    )
    for key, value in names.TAGS.items():
        cdk.Tags.of(app).add(key, value)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> None:
    """Synthesise into ``cdk.out`` (or the CLI's ``CDK_OUTDIR``)."""
    app, _ = create_app()
    app.synth()


if __name__ == "__main__":
    main()
