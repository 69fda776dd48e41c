"""``[[channels]]``: where alerts go besides Slack and the SNS topic (e-mail, PagerDuty, signed webhooks).

Pure configuration: which alerts a channel takes (``min_severity``, ``kinds``) and, for e-mail, the SNS
subscription filter policy that says the same thing. Secrets are named here, never held.
"""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from spendwatch.domain.alerts import SEVERITY_RANK, AlertKind, Severity

ChannelType = Literal["email", "pagerduty", "webhook"]
# The test alert's kind: every e-mail filter lets it through, so `spendwatch test-alert` reaches every channel.
TEST_KIND = "test"
REPORT_KIND = "report"
# Alert kinds a channel can ask for; reports are delivered with kind "report".
CHANNEL_KINDS = (*(kind for kind in get_args(AlertKind) if kind != TEST_KIND), REPORT_KIND)
CHANNEL_NAME = r"^[a-z0-9][a-z0-9-]{0,39}$"
# Delivery states of the channels that are not configured here use these names.
BUILT_IN_CHANNELS = frozenset({"sns", "slack", "console"})
# A practical address check (what SNS will accept as an e-mail endpoint): local part @ a dotted domain.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s\"(),:;<>\[\]\\]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
# Which keys each type understands besides type, name, min_severity and kinds.
_TYPE_KEYS: dict[str, set[str]] = {"email": {"address"}, "pagerduty": {"secret"}, "webhook": {"url", "secret"}}
_COMMON_KEYS = {"type", "name", "min_severity", "kinds"}


class ChannelConfig(BaseModel):
    """One ``[[channels]]`` table: a channel, the alerts it takes, and where it sends them."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    type: ChannelType
    name: str = Field(pattern=CHANNEL_NAME, description="Unique; defaults to the type (type-2, type-3 ... for more)")
    min_severity: Severity = "info"
    kinds: list[str] = Field(default_factory=list, max_length=len(CHANNEL_KINDS))
    address: str | None = Field(default=None, max_length=254)
    url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$", max_length=2048)
    secret: str | None = Field(
        default=None, min_length=1, max_length=512, description="Secrets Manager name (default from [secrets])"
    )

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, kinds: list[str]) -> list[str]:
        unknown = sorted(set(kinds) - set(CHANNEL_KINDS))
        if unknown:
            raise ValueError(f"unknown kind(s) {unknown}: use {', '.join(CHANNEL_KINDS)}")
        if len(set(kinds)) != len(kinds):
            raise ValueError("kinds must be distinct")
        return kinds

    @field_validator("address")
    @classmethod
    def _address(cls, address: str | None) -> str | None:
        if address is not None and not _EMAIL.match(address):
            raise ValueError(f"{address!r} is not an e-mail address")
        return address

    @model_validator(mode="after")
    def _type_keys(self) -> ChannelConfig:
        if self.type == "email" and not self.address:
            raise ValueError("type 'email' needs address")
        if self.type == "webhook" and not self.url:
            raise ValueError("type 'webhook' needs url")
        misplaced = sorted(self.model_fields_set - _COMMON_KEYS - _TYPE_KEYS[self.type])
        if misplaced:
            raise ValueError(f"{', '.join(misplaced)} do(es) not apply to type {self.type!r}")
        return self

    def accepts(self, kind: str, severity: Severity) -> bool:
        """Whether an alert of ``kind`` and ``severity`` goes to this channel."""
        return SEVERITY_RANK[severity] >= SEVERITY_RANK[self.min_severity] and (not self.kinds or kind in self.kinds)

    def severities(self) -> list[str]:
        """The severities at or above ``min_severity``, lowest first."""
        floor = SEVERITY_RANK[self.min_severity]
        return [severity for severity, rank in sorted(SEVERITY_RANK.items(), key=lambda p: p[1]) if rank >= floor]

    def filter_policy(self) -> dict[str, Any]:
        """The SNS subscription filter policy (on the message attributes the SNS channel publishes).

        Alerts: at or above ``min_severity``; ``kinds = []`` means no filter on kind, otherwise the kinds plus the
        test kind, so test alerts arrive. Reports (kind ``report``, published as ``info``) arrive whatever the
        severity when ``kinds`` is empty or names ``report``: an ``$or`` of the two.
        """
        alerts: dict[str, Any] = {"severity": self.severities()}
        if self.kinds:
            alerts["kind"] = [*(kind for kind in self.kinds if kind != REPORT_KIND), TEST_KIND]
        if self.kinds and REPORT_KIND not in self.kinds:
            return alerts
        return {"$or": [alerts, {"kind": [REPORT_KIND]}]}


def name_channels(channels: Any) -> Any:
    """Give each raw ``[[channels]]`` table without a name its default: the type, then type-2, type-3 ..."""
    if not isinstance(channels, list):
        return channels
    seen: dict[str, int] = {}
    named = []
    for table in channels:
        if isinstance(table, dict) and "name" not in table and isinstance(table.get("type"), str):
            kind = table["type"]
            seen[kind] = seen.get(kind, 0) + 1
            named.append({**table, "name": kind if seen[kind] == 1 else f"{kind}-{seen[kind]}"})
        else:
            named.append(table)
    return named


def check_channel_names(channels: list[ChannelConfig]) -> None:
    """Names are unique and leave the built-in channels' names alone."""
    names = [channel.name for channel in channels]
    dupes = sorted({name for name in names if names.count(name) > 1})
    if dupes:
        raise ValueError(f"duplicate channel names: {dupes}")
    taken = sorted(set(names) & BUILT_IN_CHANNELS)
    if taken:
        raise ValueError(f"channel names {taken} are the built-in channels' names: choose another name")
