"""The config the local runtime runs with: the user's file, plus the demo source when asked for."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spendwatch.config import Config, ConfigError, parse_config
from spendwatch.resources import ENV_CONFIG

from spendwatch_local import tomlout

DEFAULT_CONFIG = "spendwatch.toml"
STATE_DIR = ".spendwatch"  # gitignored; what the runtime generates lives here
EFFECTIVE_CONFIG = "config.toml"
DEMO_SOURCE = "demo-focus"
DEMO_PREFIX = "demo/focus/"
DEMO_SCHEDULE = "rate(1 day)"


class MissingConfigError(ConfigError):
    """There is no config file where one was expected."""


def config_path(flag: str | None, environ: Mapping[str, str]) -> Path:
    """``--config``, else ``$SPENDWATCH_CONFIG``, else ``./spendwatch.toml``."""
    return Path(flag or environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def read_config(path: Path, allow_missing: bool = False, hint: str = "") -> Config:
    """The validated user config; an empty one if the file is missing and that is allowed."""
    if not path.exists():
        if allow_missing:
            return parse_config("", str(path))
        raise MissingConfigError(f"no config file at {path}: create it (see README) or pass --config PATH{hint}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from exc
    return parse_config(text, str(path))


def demo_source(bucket: str) -> dict[str, Any]:
    """The source that collects the demo dataset from the local bucket."""
    return {"name": DEMO_SOURCE, "type": "focus", "path": f"s3://{bucket}/{DEMO_PREFIX}", "schedule": DEMO_SCHEDULE}


def with_demo(config: Config, bucket: str) -> Config:
    """The config with the demo source added, validated like any config file."""
    data = config.model_dump(mode="json")
    data["sources"] = [*data.get("sources", []), demo_source(bucket)]
    return parse_config(tomlout.dumps(data), "effective config (your config + demo source)")


def write_effective(config: Config, directory: Path) -> Path:
    """Write ``config`` as TOML under ``directory/.spendwatch/`` and return the file's absolute path."""
    text = tomlout.dumps(config.model_dump(mode="json"))
    target = directory / STATE_DIR / EFFECTIVE_CONFIG
    # Validate what the functions will read, not just what this process holds in memory.
    parse_config(text, str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the effective config {target}: {exc.strerror}") from exc
    return target.resolve()
