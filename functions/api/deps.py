"""What routes need (settings, config, store), created once per container."""

from __future__ import annotations

from functools import lru_cache

from spendwatch.aws import client
from spendwatch.config import Config, cached_config
from spendwatch.settings import FunctionSettings
from spendwatch.store import Store


@lru_cache(maxsize=1)
def settings() -> FunctionSettings:
    """The function's settings, read once."""
    return FunctionSettings.from_env()


def config() -> Config:
    """The deployed configuration."""
    return cached_config(settings().config_path)


def store() -> Store:
    """A store for this request (its request counter starts at zero)."""
    return Store(client("dynamodb"), settings().table)
