"""Settings every function reads from its environment, validated once per cold start."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

from spendwatch import resources


class SettingsError(RuntimeError):
    """A required environment variable is missing or invalid."""


class FunctionSettings(BaseModel):
    """Where the function's table and config live."""

    table: str = Field(min_length=3)
    bucket: str | None = None
    config_path: str = "spendwatch.toml"

    @classmethod
    def from_env(cls) -> FunctionSettings:
        """Read from the environment; SettingsError names what is missing."""
        table = os.environ.get(resources.ENV_TABLE)
        if not table:
            raise SettingsError(f"{resources.ENV_TABLE} is not set")
        return cls(
            table=table,
            bucket=os.environ.get(resources.ENV_BUCKET) or None,
            config_path=os.environ.get(resources.ENV_CONFIG) or "spendwatch.toml",
        )
