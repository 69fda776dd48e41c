"""What routes need (settings, config, store), created once per container."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spendwatch.domain.config import Config
    from spendwatch.platform.settings import ApiSettings
    from spendwatch.store import Store


@lru_cache(maxsize=1)
def settings() -> ApiSettings:
    """The function's settings, read once (imported on first use, like the config and the store)."""
    from spendwatch.platform.settings import ApiSettings

    return ApiSettings.from_env()


def config() -> Config:
    """The deployed configuration (imported on first use: building its models is a cold-start cost)."""
    from spendwatch.domain.config import cached_config

    return cached_config(settings().config_path)


def store() -> Store:
    """A store for this request (its request counter starts at zero)."""
    from spendwatch.platform.aws import client
    from spendwatch.store import Store

    return Store(client("dynamodb"), settings().table)
