"""Usage pushed by the user's own application: validated batches in, daily sums out."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from spendwatch.domain.models import IsoDay, UsageItem
from spendwatch.domain.money import ZERO
from spendwatch.domain.ports import Usage
from spendwatch.platform.clock import utc_now

PUSH_SOURCE = "api"
MAX_RECORDS = 500
MAX_AGE_DAYS = 3 * 366
IDEMPOTENCY_TTL = timedelta(days=30)


class UsageConflictError(ValueError):
    """The idempotency key was already used for a different batch."""


class UsageRecord(BaseModel):
    """One measured quantity for a day."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    metric: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", description="e.g. storage_gb, emails_sent")]
    quantity: Annotated[
        Decimal,
        Field(
            ge=0,
            max_digits=30,
            decimal_places=15,
            description="a decimal number (string or JSON number): at most 15 digits before the point and 15 after",
        ),
        # The document promises the string form, the one that keeps every digit.
        WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,15}(?:\.[0-9]{1,15})?$"}, mode="validation"),
    ]
    unit: Annotated[str, Field(min_length=1, max_length=32)]
    day: Annotated[IsoDay, Field(description="At most 3 years ago and at most tomorrow (UTC)")]
    tenant: Annotated[str, Field(max_length=128)] = ""
    service: Annotated[str, Field(max_length=128)] = ""

    @field_validator("day")
    @classmethod
    def _recent(cls, value: date) -> date:
        today = utc_now().date()
        if value > today + timedelta(days=1):
            raise ValueError("day is in the future")
        if value < today - timedelta(days=MAX_AGE_DAYS):
            raise ValueError("day is more than 3 years ago")
        return value


class UsageBatch(BaseModel):
    """A batch of usage records; retrying with the same idempotency key never counts them twice."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    idempotency_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{8,128}$")]
    records: Annotated[list[UsageRecord], Field(min_length=1, max_length=MAX_RECORDS)]

    def fingerprint(self) -> str:
        """A digest of the records, to tell a retry from a different batch under the same key."""
        body = json.dumps([r.model_dump(mode="json") for r in self.records], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class IngestResult:
    """What a push did."""

    accepted: int
    replayed: bool


def ingest(store: Usage, batch: UsageBatch, now: datetime) -> IngestResult:
    """Store a batch once: a retry with the same key and records is a no-op replay; other records conflict."""
    previous = store.claim_once(f"usage#{batch.idempotency_key}", batch.fingerprint(), IDEMPOTENCY_TTL)
    if previous is not None and previous != batch.fingerprint():
        raise UsageConflictError("idempotency_key was already used for a different batch")
    # Writing again on a replay is harmless (same keys) and finishes a batch whose first attempt died midway.
    store.put_usage(
        UsageItem(
            metric=record.metric,
            quantity=record.quantity,
            unit=record.unit,
            day=record.day,
            ServiceName=record.service,
            x_tenant=record.tenant,
            x_source=PUSH_SOURCE,
            x_collected_at=now,
            x_event=f"{batch.idempotency_key}#{index}",
        )
        for index, record in enumerate(batch.records)
    )
    return IngestResult(accepted=len(batch.records), replayed=previous is not None)


@dataclass(frozen=True)
class UsageRow:
    """A day's total of one metric for one tenant and service."""

    day: str
    metric: str
    unit: str
    tenant: str
    service: str
    source: str
    quantity: Decimal


def daily_usage(
    store: Usage, start: date, end: date, metric: str | None = None, tenant: str | None = None
) -> list[UsageRow]:
    """Usage summed per (day, metric, unit, tenant, service, source) over [start, end], in a stable order."""
    sums: dict[tuple[str, str, str, str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for record in store.usage(start, end, {metric} if metric else None):
        if tenant is not None and record.get("x_tenant") != tenant:
            continue
        key = (
            record["day"],
            record["metric"],
            record["unit"],
            record.get("x_tenant", ""),
            record.get("ServiceName", ""),
            record["x_source"],
        )
        sums[key] += Decimal(record["quantity"])
    return [UsageRow(*key, quantity) for key, quantity in sorted(sums.items())]


def usage_between(store: Usage, start: date, end: date, metrics: Collection[str]) -> list[UsageItem]:
    """Usage items of ``metrics`` on days [start, end], every source's: one query per metric and month."""
    return list(store.usage_items(start, end, metrics))
