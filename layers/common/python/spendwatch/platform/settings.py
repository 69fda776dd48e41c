"""Settings every function reads from its environment, validated once per cold start."""

from __future__ import annotations

import os
from dataclasses import dataclass

from spendwatch.platform import resources


class SettingsError(RuntimeError):
    """A required environment variable is missing or invalid."""


@dataclass(frozen=True)
class FunctionSettings:
    """Where the function's table and config live (a dataclass: no model to build at cold start)."""

    table: str
    bucket: str | None = None
    config_path: str = "spendwatch.toml"

    @classmethod
    def from_env(cls) -> FunctionSettings:
        """Read from the environment; SettingsError names what is missing."""
        table = os.environ.get(resources.ENV_TABLE)
        if not table or len(table) < 3:
            raise SettingsError(f"{resources.ENV_TABLE} is not set to a table name")
        return cls(
            table=table,
            bucket=os.environ.get(resources.ENV_BUCKET) or None,
            config_path=os.environ.get(resources.ENV_CONFIG) or "spendwatch.toml",
        )
