"""The audit log: one entry per change made through the API, with who made it and the resource before and after.

An entry's id starts with the UTC instant it was made at (fixed width, to the microsecond), so ids sort in time
order and the newest entries come first when they are read in reverse.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AuditAction = Literal[
    "budget.create",
    "budget.update",
    "budget.delete",
    "alert.ack",
    "alert.snooze",
    "alert.resolve",
    "recommendation.accept",
    "recommendation.dismiss",
    "recommendation.implement",
]
TargetType = Literal["budget", "alert", "recommendation"]
# Who made a change when nobody is named: the local runtime's bearer token stands for one person at the machine.
LOCAL_ACTOR = "local"
ID_PATTERN = r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}$"


class AuditTarget(BaseModel):
    """What was changed."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    type: TargetType
    id: str


class AuditEntry(BaseModel):
    """One change made through the API."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    id: str = Field(description="Time-ordered: the UTC instant to the microsecond, then 8 random hex digits")
    at: datetime = Field(description="When the change was made (UTC)")
    actor: str = Field(description="Who made it: the IAM caller's ARN or the API key's id when deployed; 'local'")
    action: AuditAction
    target: AuditTarget
    before: dict[str, Any] | None = Field(
        description="The resource as the API showed it before the change (money as decimal strings); null on create"
    )
    after: dict[str, Any] | None = Field(
        description="The resource as the API shows it after the change; null on delete"
    )


def audit_id(at: datetime, suffix: str | None = None) -> str:
    """A time-ordered id: ``YYYYMMDDTHHMMSS.ffffffZ-<8 hex>`` (the suffix keeps entries of one instant apart)."""
    moment = at.astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S.%fZ}-{suffix or secrets.token_hex(4)}"


def audit_entry(
    action: AuditAction,
    target: tuple[TargetType, str],
    actor: str,
    at: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """The entry recording ``action`` by ``actor`` on ``target`` (type, id) at ``at``."""
    return AuditEntry(
        id=audit_id(at),
        at=at.astimezone(UTC),
        actor=actor,
        action=action,
        target=AuditTarget(type=target[0], id=target[1]),
        before=before,
        after=after,
    )
