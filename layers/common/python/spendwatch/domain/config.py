"""``spendwatch.toml``: one validated model read by the CDK app, the functions and the local runtime."""

from __future__ import annotations

import re
import tomllib
from datetime import time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from spendwatch.domain.channels import ChannelConfig, check_channel_names, name_channels
from spendwatch.domain.plans import (
    Allocation,
    Limit,
    RateCard,
    UnitCost,
    check_rate_cards,
    check_unique_names,
)
from spendwatch.domain.report_periods import Reports
from spendwatch.domain.scope import SCOPE_SCHEMA, check_scope

SourceType = Literal["aws_ce", "digitalocean", "opencost", "vercel", "focus"]
Period = Literal["day", "week", "month", "quarter", "year"]

_RATE = re.compile(r"^rate\((?P<n>[1-9]\d*) (?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<body>[^()]+)\)$")
# ASCII digits only: the API's document states this pattern, and JSON Schema's \d means [0-9].
_THRESHOLD = re.compile(r"^(?:forecast:)?(?:[0-9]+(?:\.[0-9]+)?%|\$[0-9]+(?:\.[0-9]{1,2})?)$")
# What the API's document promises a budget takes (the validators below enforce it; TOML numbers are accepted too).
_AMOUNT_SCHEMA = {
    "type": "string",
    "pattern": r"^(?:[1-9][0-9]{0,15}(?:\.[0-9]{1,2})?|0\.(?:0[1-9]|[1-9][0-9]?))$",
    "description": "A decimal string greater than zero, at most 2 decimal places",
}
_THRESHOLDS_SCHEMA = {
    "type": "array",
    "items": {"type": "string", "pattern": _THRESHOLD.pattern},
    "maxItems": 20,
    "uniqueItems": True,
    "default": ["80%", "100%"],
}
SOURCE_NAME = r"^[a-z0-9][a-z0-9-]{0,39}$"


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid."""


def validate_schedule(expression: str) -> str:
    """Check an EventBridge schedule expression: ``rate(N unit)`` or six-field ``cron(...)``."""
    rate = _RATE.match(expression)
    if rate:
        singular = rate["n"] == "1"
        if singular == rate["unit"].endswith("s"):
            raise ValueError(f"{expression!r}: use a singular unit for 1 and plural otherwise")
        return expression
    cron = _CRON.match(expression)
    if cron:
        fields = cron["body"].split()
        if len(fields) != 6:
            raise ValueError(f"{expression!r}: cron needs 6 fields (minutes hours day-of-month month day-of-week year)")
        if "?" not in (fields[2], fields[4]) or fields[2] == fields[4] == "?":
            raise ValueError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")
        return expression
    raise ValueError(f"{expression!r} is not an EventBridge schedule: use rate(...) or cron(...)")


_COMMON_SOURCE_KEYS = {"name", "type", "schedule", "enabled"}
# Which optional keys each source type understands; anything else is a mistake worth reporting.
_TYPE_KEYS: dict[str, set[str]] = {
    "focus": {"path"},
    "aws_ce": {"lookback_days", "tag_keys", "group_by_region", "inventory", "utilisation_days"},
    "digitalocean": {"lookback_days", "url", "inventory", "utilisation_days"},
    "opencost": {"lookback_days", "url", "aggregate", "idle", "cluster"},
    "vercel": {"lookback_days", "url", "team_id"},
}


class Source(BaseModel):
    """A provider to collect from, on a schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str = Field(pattern=SOURCE_NAME)
    type: SourceType
    schedule: str = "rate(6 hours)"
    enabled: bool = True
    path: str | None = None
    lookback_days: int = Field(default=3, ge=1, le=400)
    tag_keys: list[str] = Field(default_factory=list, max_length=10)
    group_by_region: bool = False
    url: str | None = Field(default=None, pattern=r"^https?://")
    aggregate: str = Field(default="namespace", min_length=1)
    idle: Literal["separate", "share", "drop"] = "separate"
    cluster: str | None = None
    team_id: str | None = None
    # digitalocean: also read droplets, sizes, volumes, reserved IPs, snapshots and the droplets' CPU and memory
    # over the last ``utilisation_days`` complete days (3 metric requests per droplet). aws_ce (off unless asked
    # for): EC2 instances and their types, EBS volumes, Elastic IPs, their on-demand prices and the instances' CPU.
    inventory: bool = True
    utilisation_days: int = Field(default=14, ge=1, le=30)

    @model_validator(mode="before")
    @classmethod
    def _inventory_default(cls, data: Any) -> Any:
        # The AWS inventory costs API requests the Cost Explorer source did not make before: opt-in there.
        if isinstance(data, dict) and data.get("type") == "aws_ce" and "inventory" not in data:
            return {**data, "inventory": False}
        return data

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_schedule(value)

    @model_validator(mode="after")
    def _path_rules(self) -> Source:
        if self.type == "focus" and not self.path:
            raise ValueError(f"source {self.name!r}: type 'focus' needs a path (s3://bucket/prefix/ or a local path)")
        if self.path and self.path.startswith("s3://") and len(self.path) <= len("s3://"):
            raise ValueError(f"source {self.name!r}: s3 path needs a bucket")
        # A key written out with its default value (a round-tripped config) changes nothing and is fine.
        misplaced = sorted(
            key
            for key in self.model_fields_set - _COMMON_SOURCE_KEYS - _TYPE_KEYS[self.type]
            if getattr(self, key) != type(self).model_fields[key].get_default(call_default_factory=True)
        )
        if misplaced:
            raise ValueError(f"source {self.name!r}: {', '.join(misplaced)} do(es) not apply to type {self.type!r}")
        return self


class Budget(BaseModel):
    """A spending limit on a scope and period, with the thresholds that alert."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: str = Field(min_length=1, max_length=100)
    amount: Annotated[
        Decimal, Field(gt=0, max_digits=18, decimal_places=2), WithJsonSchema(_AMOUNT_SCHEMA, mode="validation")
    ]
    period: Period = "month"
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    scope: Annotated[dict[str, Any], WithJsonSchema(SCOPE_SCHEMA, mode="validation")] = Field(default_factory=dict)
    thresholds: Annotated[list[str], WithJsonSchema(_THRESHOLDS_SCHEMA, mode="validation")] = Field(
        default_factory=lambda: ["80%", "100%"]
    )

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, values: list[str]) -> list[str]:
        if len(values) > 20 or len(set(values)) != len(values):
            raise ValueError("thresholds must be distinct, at most 20")
        for value in values:
            if not _THRESHOLD.match(value):
                raise ValueError(f"threshold {value!r}: use '80%', '$150' or 'forecast:100%'")
        return values

    @field_validator("scope")
    @classmethod
    def _scope(cls, scope: dict[str, Any]) -> dict[str, Any]:
        return check_scope(scope)


# A Cognito prefix domain: lowercase letters, digits and inner hyphens; Cognito refuses these words in it.
_LOGIN_DOMAIN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_RESERVED_IN_LOGIN_DOMAIN = ("aws", "amazon", "cognito")


class ApiSettings(BaseModel):
    """How the deployed API authenticates callers and people, and how hard it may be hit.

    ``auth`` is for machines (``/v1``, ``/metrics``); ``dashboard`` for the page: ``cognito`` signs people in
    through a Cognito user pool's managed login, or it is the same as ``auth``. Locally neither applies: the
    local runtime asks for its bearer token (or ``/?token=``) everywhere.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    auth: Literal["iam", "api_key"] = "iam"
    dashboard: Literal["cognito", "iam", "api_key"] = "cognito"
    # How long a sign-in lasts: the ID token's validity, which is also the session cookie's.
    session_hours: int = Field(default=8, ge=1, le=24)
    # The managed login's prefix domain (https://<login_domain>.auth.<region>.amazoncognito.com), unique in the
    # region; default "spendwatch-<account id>".
    login_domain: str | None = Field(default=None, pattern=_LOGIN_DOMAIN)
    throttle_rate: int = Field(default=20, ge=1)
    throttle_burst: int = Field(default=40, ge=1)
    # With api_key: one key per caller (Grafana, a script...), each throttled on its own by the usage plan.
    keys: list[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9]{0,63}$")]] = Field(
        default_factory=lambda: ["default"], min_length=1, max_length=50
    )

    @field_validator("keys")
    @classmethod
    def _unique_keys(cls, keys: list[str]) -> list[str]:
        if len({k.lower() for k in keys}) != len(keys):
            raise ValueError("api key names must be unique (ignoring case)")
        return keys

    @field_validator("login_domain")
    @classmethod
    def _allowed_login_domain(cls, domain: str | None) -> str | None:
        reserved = [word for word in _RESERVED_IN_LOGIN_DOMAIN if domain and word in domain]
        if reserved:
            raise ValueError(f"Cognito refuses a login domain containing {reserved[0]!r}")
        return domain

    @model_validator(mode="after")
    def _dashboard_is_cognito_or_auth(self) -> ApiSettings:
        if self.dashboard not in ("cognito", self.auth):
            raise ValueError(f'dashboard must be "cognito" or the same as auth ("{self.auth}")')
        return self


class SecretNames(BaseModel):
    """Secrets Manager secret names used when deployed (locally the env vars are read instead)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    digitalocean_token: str = "spendwatch/digitalocean-token"  # noqa: S105 - a secret name, not a secret
    vercel_token: str = "spendwatch/vercel-token"  # noqa: S105 - a secret name, not a secret
    slack_webhook_url: str = "spendwatch/slack-webhook-url"
    pagerduty_routing_key: str = "spendwatch/pagerduty-routing-key"
    webhook_signing_secret: str = "spendwatch/webhook-signing-secret"  # noqa: S105 - a secret name, not a secret


_PERCENT = re.compile(r"^(?P<n>[0-9]+(?:\.[0-9]+)?)%$")
_TAG_KEY = r"^[^\s=,]{1,128}$"


def parse_percent(text: str) -> Decimal:
    """``"70%"`` -> ``Decimal("0.7")``; ValueError unless a percentage above 0 % and at most 100 %."""
    match = _PERCENT.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a percentage such as '70%'")
    value = Decimal(match["n"])
    if value <= 0 or value > 100:
        raise ValueError(f"{text!r}: a percentage above 0% and at most 100%")
    return value / 100


class Policy(BaseModel):
    """``[policy]``: what every resource and charge should carry (``required_tags``: tag keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    required_tags: list[Annotated[str, Field(pattern=_TAG_KEY)]] = Field(default_factory=list, max_length=50)

    @field_validator("required_tags")
    @classmethod
    def _distinct(cls, keys: list[str]) -> list[str]:
        dupes = sorted({key for key in keys if keys.count(key) > 1})
        if dupes:
            raise ValueError(f"required_tags must be distinct: {dupes} repeated")
        return keys


class Utilisation(BaseModel):
    """``[utilisation]``: the daily-average thresholds above which a resource raises a utilisation alert."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    cpu: str = "70%"
    memory: str = "80%"

    @field_validator("cpu", "memory")
    @classmethod
    def _percent(cls, value: str) -> str:
        parse_percent(value)
        return value

    @property
    def cpu_ratio(self) -> Decimal:
        """The CPU threshold as a ratio (``"70%"`` -> 0.7)."""
        return parse_percent(self.cpu)

    @property
    def memory_ratio(self) -> Decimal:
        """The memory threshold as a ratio (``"80%"`` -> 0.8)."""
        return parse_percent(self.memory)


class AlertSettings(BaseModel):
    """``[alerts]``: reminders for critical alerts nobody acknowledged, and a daily digest of ``info`` alerts."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    # An open critical alert nobody acknowledged or snoozed is sent again once, this many hours after it opened
    # (0: never).
    renotify_after_hours: int = Field(default=24, ge=0, le=24 * 14)
    # "each": every alert is sent as it opens; "digest": info alerts are kept for one daily message instead.
    info: Literal["each", "digest"] = "each"
    # When the digest goes out: local time in ``timezone`` (HH:MM).
    digest_at: str = Field(default="09:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

    @property
    def digest_time(self) -> time:
        """``digest_at`` as a time of day."""
        hours, minutes = self.digest_at.split(":")
        return time(int(hours), int(minutes))


class Config(BaseModel):
    """The whole of ``spendwatch.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    timezone: str = "UTC"
    sources: list[Source] = Field(default_factory=list)
    budgets: list[Budget] = Field(default_factory=list)
    rate_cards: list[RateCard] = Field(default_factory=list)
    limits: list[Limit] = Field(default_factory=list)
    unit_costs: list[UnitCost] = Field(default_factory=list)
    allocations: list[Allocation] = Field(default_factory=list)
    api: ApiSettings = Field(default_factory=ApiSettings)
    secrets: SecretNames = Field(default_factory=SecretNames)
    policy: Policy = Field(default_factory=Policy)
    utilisation: Utilisation = Field(default_factory=Utilisation)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    channels: list[ChannelConfig] = Field(default_factory=list, max_length=50)

    @field_validator("channels", mode="before")
    @classmethod
    def _channel_names(cls, channels: Any) -> Any:
        return name_channels(channels)

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, channels: list[ChannelConfig]) -> list[ChannelConfig]:
        check_channel_names(channels)
        return channels

    reports: Reports = Field(default_factory=Reports)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("rate_cards")
    @classmethod
    def _rate_cards(cls, cards: list[RateCard]) -> list[RateCard]:
        check_rate_cards(cards)
        return cards

    @field_validator("limits", "unit_costs", "allocations")
    @classmethod
    def _unique_table_names(cls, rows: list[Limit] | list[UnitCost] | list[Allocation], info: ValidationInfo) -> Any:
        check_unique_names(str(info.field_name), [row.name for row in rows])
        return rows

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        for kind, names in (("source", [s.name for s in self.sources]), ("budget", [b.name for b in self.budgets])):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} names: {dupes}")
        return self

    def source(self, name: str) -> Source:
        """The source called ``name``; KeyError if there is none."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)

    @property
    def enabled_sources(self) -> list[Source]:
        """Sources that are collected on their schedule."""
        return [s for s in self.sources if s.enabled]

    def channel_secret(self, channel: ChannelConfig) -> str | None:
        """The Secrets Manager name a PagerDuty or webhook channel reads (its own, else the ``[secrets]`` one)."""
        defaults = {
            "pagerduty": self.secrets.pagerduty_routing_key,
            "webhook": self.secrets.webhook_signing_secret,
        }
        return channel.secret or defaults.get(channel.type)

    def channel_secrets(self) -> list[str]:
        """Every secret delivery reads: the Slack webhook's and each PagerDuty or webhook channel's."""
        found = [self.secrets.slack_webhook_url]
        for channel in self.channels:
            secret = self.channel_secret(channel)
            if secret and secret not in found:
                found.append(secret)
        return found


def parse_config(text: str, origin: str = "spendwatch.toml") -> Config:
    """Validate TOML text into a Config, with every problem in one readable ConfigError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"{origin}: {problems}") from exc


def load_config(path: str | Path) -> Config:
    """Read and validate a config file (the functions' settings say which: ``SPENDWATCH_CONFIG``)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {file}: {exc.strerror}") from exc
    return parse_config(text, str(file))


@lru_cache(maxsize=4)
def cached_config(path: str) -> Config:
    """Config cached per path for warm Lambda invocations (the file ships with the code)."""
    return load_config(path)
