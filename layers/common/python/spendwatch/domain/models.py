"""The normalised records every source writes: FOCUS column names, Decimal money, deterministic keys."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from spendwatch.domain.money import ZERO

# The fields that make two charges the same charge. Re-collecting a day produces the same keys, so the
# store overwrites instead of duplicating; a restated amount becomes a MODIFY, not a second row.
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    """Only a date or ``YYYY-MM-DD`` text is a day: lax parsing would read ``0`` as 1970-01-01 (a Unix time)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return value
    raise ValueError("must be a calendar day as YYYY-MM-DD")


# A calendar day as the API and the config take it: ISO 8601 ``YYYY-MM-DD`` and nothing else.
IsoDay = Annotated[date, BeforeValidator(_iso_day)]


COST_IDENTITY_FIELDS = (
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ServiceName",
    "RegionId",
    "ResourceId",
    "SkuId",
    "SkuPriceId",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "PricingUnit",
    "CommitmentDiscountId",
)


def end_of_day(day: date | None) -> datetime | None:
    """Data through a day runs through its end: the next midnight, UTC (None stays None)."""
    return None if day is None else datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def identity_hash(parts: list[str]) -> str:
    """A short, stable digest of identity parts (the sort key of an item)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:32]


class CostItem(BaseModel):
    """One charge in FOCUS terms, plus spendwatch's own ``x_`` fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    ProviderName: str = Field(min_length=1)
    BillingAccountId: str = ""
    SubAccountId: str = ""
    ServiceName: str = ""
    ServiceCategory: str = ""
    RegionId: str = ""
    ResourceId: str = ""
    SkuId: str = ""
    SkuPriceId: str = ""
    ChargeCategory: str = "Usage"
    ChargeClass: str = ""
    ChargeDescription: str = ""
    CommitmentDiscountId: str = ""
    ChargePeriodStart: datetime
    ChargePeriodEnd: datetime
    BilledCost: Decimal
    EffectiveCost: Decimal = ZERO
    ListCost: Decimal = ZERO
    BillingCurrency: str = Field(pattern=r"^[A-Z]{3}$")
    ConsumedQuantity: Decimal | None = None
    ConsumedUnit: str = ""
    PricingUnit: str = ""
    Tags: dict[str, str] = Field(default_factory=dict)
    x_source: str = Field(min_length=1)
    x_collected_at: datetime
    x_estimated: bool = False
    x_tenant: str = ""
    x_occurrence: int = Field(default=0, ge=0)
    # Set on charges a rate card priced from usage: the card's name and the usage records' service.
    x_rate_card: str = ""
    x_usage_service: str = ""

    @field_validator("ChargePeriodStart", "ChargePeriodEnd", "x_collected_at")
    @classmethod
    def _as_utc(cls, value: datetime) -> datetime:
        return _utc(value)

    @field_validator("BilledCost", "EffectiveCost", "ListCost")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("money must be a finite number")
        return value

    @property
    def day(self) -> date:
        """The UTC calendar day the charge is attributed to (its period start)."""
        return self.ChargePeriodStart.date()

    def identity_parts(self) -> list[str]:
        """Everything that identifies this charge, in a fixed order."""
        parts = [self.x_source, self.ChargePeriodStart.isoformat(), self.ChargePeriodEnd.isoformat()]
        parts += [str(getattr(self, name)) for name in COST_IDENTITY_FIELDS]
        parts.append(json.dumps(self.Tags, sort_keys=True, separators=(",", ":")))
        if self.x_rate_card:
            # One priced charge per card, tenant and day (not per usage service: re-pricing overwrites it).
            parts += [self.x_rate_card, self.x_tenant]
        return parts

    @property
    def identity(self) -> str:
        """Deterministic key: same charge, same key; ``x_occurrence`` separates true duplicate rows."""
        base = identity_hash(self.identity_parts())
        return base if self.x_occurrence == 0 else f"{base}#{self.x_occurrence}"


class UsageItem(BaseModel):
    """A measured quantity (storage GB, emails, requests...) for a day, optionally per tenant."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    metric: str = Field(min_length=1, max_length=128)
    quantity: Decimal
    unit: str = Field(min_length=1, max_length=64)
    day: date
    ProviderName: str = ""
    ServiceName: str = ""
    ResourceId: str = ""
    x_tenant: str = ""
    x_source: str = Field(min_length=1)
    x_collected_at: datetime
    x_event: str = Field(default="", max_length=200)

    @field_validator("quantity")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("quantity must be a finite number")
        return value

    @property
    def identity(self) -> str:
        """Deterministic key from what the quantity measures (and, for pushed events, which event it is)."""
        parts = [self.x_source, self.day.isoformat(), self.metric, self.unit]
        parts += [self.ProviderName, self.ServiceName, self.ResourceId, self.x_tenant, self.x_event]
        return identity_hash(parts)
