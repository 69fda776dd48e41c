"""What routes need (settings, config, store), created once per container."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from spendwatch.platform.aws import client
from spendwatch.platform.settings import ApiSettings
from spendwatch.store import Store

if TYPE_CHECKING:
    from spendwatch.domain.config import Config


@lru_cache(maxsize=1)
def settings() -> ApiSettings:
    """The function's settings, read once."""
    return ApiSettings.from_env()


def config() -> Config:
    """The deployed configuration (imported on first use: building its models is a cold-start cost)."""
    from spendwatch.domain.config import cached_config

    return cached_config(settings().config_path)


def store() -> Store:
    """A store for this request (its request counter starts at zero)."""
    return Store(client("dynamodb"), settings().table)
