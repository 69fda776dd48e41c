"""Settings: one model per function with every environment variable it reads, validated once per cold start.

CDK sets these when deployed and the local runtime sets them locally. The provider overrides (tokens, URLs)
let a developer point a collector at a local server or use a token without Secrets Manager; deployed, they
are unset. ``SPENDWATCH_NOW`` (the clock shift for tests and demos) is read by ``spendwatch.platform.clock``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from spendwatch.platform import resources


class SettingsError(RuntimeError):
    """A required environment variable is missing or invalid; the message names it (never its value)."""


class FunctionSettings(BaseModel):
    """What every function reads: its table and its configuration file."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=True)

    table: str = Field(alias=resources.ENV_TABLE, min_length=3)
    config_path: str = Field("spendwatch.toml", alias=resources.ENV_CONFIG)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read from the environment (an empty variable counts as unset); SettingsError names what is wrong."""
        source = os.environ if environ is None else environ
        names = {field.alias or name for name, field in cls.model_fields.items()}
        values: dict[str, Any] = {name: source[name] for name in names if source.get(name)}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(f"{_variable(cls, error['loc'])}: {error['msg']}" for error in exc.errors())
            raise SettingsError(f"invalid settings: {problems}") from None

    @classmethod
    def variables(cls) -> list[str]:
        """The environment variables this model reads."""
        return sorted(field.alias or name for name, field in cls.model_fields.items())


def _variable(model: type[BaseModel], location: tuple[int | str, ...]) -> str:
    name = str(location[0]) if location else "?"
    field = model.model_fields.get(name)
    return (field.alias or name) if field else name


class CollectSettings(FunctionSettings):
    """The collect function: the table, the bucket FOCUS exports are read from, and provider overrides."""

    bucket: str | None = Field(None, alias=resources.ENV_BUCKET)
    digitalocean_token: SecretStr | None = Field(None, alias="DIGITALOCEAN_TOKEN")
    digitalocean_api_url: str | None = Field(None, alias="DIGITALOCEAN_API_URL")
    vercel_token: SecretStr | None = Field(None, alias="VERCEL_TOKEN")
    vercel_api_url: str | None = Field(None, alias="VERCEL_API_URL")
    opencost_url: str | None = Field(None, alias="OPENCOST_URL")

    def provider_environment(self) -> dict[str, str]:
        """The provider overrides that are set, by variable name, as the collectors look them up."""
        found: dict[str, str] = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if name in FunctionSettings.model_fields or name == "bucket" or value is None:
                continue
            found[field.alias or name] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        return found


class ChannelSettings(FunctionSettings):
    """What sending alerts reads: the SNS topic and, locally, the channels' secrets instead of Secrets Manager.

    Deployed only the topic is set: the Slack webhook, PagerDuty routing key and webhook signing secret are
    read from the Secrets Manager secrets ``[secrets]`` (or a channel's ``secret``) names.
    """

    topic_arn: str | None = Field(None, alias=resources.ENV_TOPIC)
    slack_webhook_url: SecretStr | None = Field(None, alias="SLACK_WEBHOOK_URL")
    pagerduty_routing_key: SecretStr | None = Field(None, alias="PAGERDUTY_ROUTING_KEY")
    pagerduty_events_url: str | None = Field(None, alias="PAGERDUTY_EVENTS_URL", pattern=r"^https?://")
    webhook_signing_secret: SecretStr | None = Field(None, alias="WEBHOOK_SIGNING_SECRET")

    def secret_overrides(self) -> dict[str, str]:
        """The secrets set in the environment, by variable name, as ``read_secret`` looks them up."""
        found: dict[str, str] = {}
        for name in ("slack_webhook_url", "pagerduty_routing_key", "webhook_signing_secret"):
            value = getattr(self, name)
            if value is not None:
                found[type(self).model_fields[name].alias or name] = value.get_secret_value()
        return found


_URL = r"^https?://[^\s?#]+$"


class ApiSettings(ChannelSettings):
    """The API function: who authenticates callers, and the bearer token when the function does it itself.

    Behind the gateway, people may sign in to the page through a Cognito user pool: its id, the app client's
    id and the managed login's domain, with the API's own URL (where the login sends them back). Either all
    four are set or none. ``COGNITO_IDP_URL`` moves the issuer (and its JWKS) off
    ``https://cognito-idp.<region>.amazonaws.com``, for tests.

    It sends test alerts (``POST /v1/alerts/test``), so it reads the channels' settings too.
    """

    auth: Literal["bearer", "gateway"] = Field("bearer", alias=resources.ENV_API_AUTH)
    token: SecretStr | None = Field(None, alias=resources.ENV_API_TOKEN)
    public_url: str | None = Field(None, alias=resources.ENV_PUBLIC_URL, pattern=r"^https?://[^\s?#]+/$")
    cognito_pool_id: str | None = Field(None, alias=resources.ENV_COGNITO_POOL_ID, pattern=r"^[a-z0-9-]+_[A-Za-z0-9]+$")
    cognito_client_id: str | None = Field(None, alias=resources.ENV_COGNITO_CLIENT_ID, pattern=r"^[A-Za-z0-9]+$")
    cognito_login_url: str | None = Field(None, alias=resources.ENV_COGNITO_LOGIN_URL, pattern=_URL)
    cognito_idp_url: str | None = Field(None, alias="COGNITO_IDP_URL", pattern=_URL)

    @model_validator(mode="after")
    def _signin_complete(self) -> Self:
        names = ("public_url", "cognito_pool_id", "cognito_client_id", "cognito_login_url")
        missing = [type(self).model_fields[name].alias or name for name in names if getattr(self, name) is None]
        if 0 < len(missing) < len(names):
            raise ValueError(f"signing people in needs all of its settings; {', '.join(missing)} missing")
        return self

    @property
    def signs_in_people(self) -> bool:
        """Whether the page is for people signed in through Cognito (deployed only: locally the token serves)."""
        return self.auth == "gateway" and self.cognito_pool_id is not None


class EvaluateSettings(FunctionSettings):
    """The evaluate function: the table and the configuration (budgets, sources, currency)."""


class DeliverSettings(ChannelSettings):
    """The deliver function: the SNS topic and, locally, the channels' secrets instead of the configured ones."""


class ReportSettings(FunctionSettings):
    """The report function: the table, and the bucket its HTML and CSV files go to."""

    bucket: str = Field(alias=resources.ENV_BUCKET, min_length=3)
