"""The config the local runtime runs with: the user's file, plus the demo source when asked for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spendwatch.domain.config import Config, ConfigError, parse_config
from spendwatch.platform.resources import ENV_CONFIG

from spendwatch_local import tomlout
from spendwatch_local.demo.data import DEMO_DAYS
from spendwatch_local.demo.shapes import CLUSTER
from spendwatch_local.demo.usage import PLANS

DEFAULT_CONFIG = "spendwatch.toml"
STATE_DIR = ".spendwatch"  # gitignored; what the runtime generates lives here
EFFECTIVE_CONFIG = "config.toml"
DEMO_SOURCE = "demo-focus"
DEMO_AWS = "demo-aws"
DEMO_DO = "demo-do"
DEMO_K8S = "demo-k8s"
DEMO_PREFIX = "demo/focus/"
DEMO_SCHEDULE = "rate(1 day)"
# Collectors read the trailing lookback_days up to and including today; the history ends yesterday, so one day
# more reaches its first day.
DEMO_LOOKBACK_DAYS = DEMO_DAYS + 1


@dataclass(frozen=True)
class DemoUrls:
    """Where the demo's fake DigitalOcean and OpenCost servers listen."""

    digitalocean: str
    opencost: str


# The fakes' ports are known only once they listen; until then names and schedules are checked with this stand-in.
PENDING_URLS = DemoUrls("http://127.0.0.1", "http://127.0.0.1")


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
    """The source that collects the demo FOCUS sample from the local bucket."""
    return {"name": DEMO_SOURCE, "type": "focus", "path": f"s3://{bucket}/{DEMO_PREFIX}", "schedule": DEMO_SCHEDULE}


def demo_sources(bucket: str, urls: DemoUrls) -> list[dict[str, Any]]:
    """Every demo source: the FOCUS sample, then Cost Explorer (moto), DigitalOcean and OpenCost (the fakes)."""
    common = {"schedule": DEMO_SCHEDULE, "lookback_days": DEMO_LOOKBACK_DAYS}
    return [
        demo_source(bucket),
        {"name": DEMO_AWS, "type": "aws_ce", **common},
        {"name": DEMO_DO, "type": "digitalocean", "url": urls.digitalocean, **common},
        {
            "name": DEMO_K8S,
            "type": "opencost",
            "url": urls.opencost,
            "aggregate": "namespace",
            "cluster": CLUSTER,
            **common,
        },
    ]


def with_demo(config: Config, bucket: str, urls: DemoUrls = PENDING_URLS) -> Config:
    """The config with the demo sources and the demo application's rate cards, limits, unit costs and
    allocations added, validated like any config file."""
    data = config.model_dump(mode="json")
    data["sources"] = [*data.get("sources", []), *demo_sources(bucket, urls)]
    for table, entries in PLANS.items():
        data[table] = [*data.get(table, []), *entries]
    return parse_config(tomlout.dumps(data), "effective config (your config + demo sources)")


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
