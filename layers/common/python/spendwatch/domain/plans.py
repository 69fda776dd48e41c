"""The config's pricing and plan tables: rate cards, plan limits, unit costs and allocations.

Money and quantities are exact decimals: written as strings (``"0.15"``) or integers, never TOML floats,
whose binary value is not the number written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from spendwatch.domain.scope import CostScope

NAME = r"^[a-z0-9][a-z0-9-]{0,39}$"
PricingPeriod = Literal["day", "month"]
Basis = Literal["level", "sum"]
DEFAULT_LIMIT_THRESHOLDS = ("75%", "90%")
_PERCENT = re.compile(r"^(?P<n>[0-9]+(?:\.[0-9]+)?)%$")
_WITHIN = re.compile(r"^within:(?P<n>[0-9]+)d$")
_DECIMAL_SCHEMA = {"type": "string", "pattern": r"^[0-9]{1,15}(?:\.[0-9]{1,15})?$"}


def _exact(value: object) -> object:
    """Refuse what cannot be an exact decimal as written: TOML floats (binary) and booleans."""
    if isinstance(value, bool):
        raise ValueError('must be a decimal string such as "12.5"')
    if isinstance(value, float):
        raise ValueError(f'write it as a string ("{value!r}"): a TOML float is not an exact decimal')
    return value


# A non-negative exact decimal: at most 15 integer and 15 fractional digits.
Quantity = Annotated[
    Decimal,
    BeforeValidator(_exact),
    Field(ge=0, max_digits=30, decimal_places=15),
    WithJsonSchema(_DECIMAL_SCHEMA, mode="validation"),
]
Metric = Annotated[str, Field(min_length=1, max_length=128)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class UsageScope(_Table):
    """Which usage of a metric a card or limit covers; unset keys match every value (``{}``: all usage)."""

    tenant: str | None = Field(default=None, min_length=1, max_length=128)
    service: str | None = Field(default=None, min_length=1, max_length=128)

    def matches(self, tenant: str, service: str) -> bool:
        """Whether usage of this tenant and service falls in the scope."""
        return (self.tenant is None or self.tenant == tenant) and (self.service is None or self.service == service)


class Tier(_Table):
    """One step of a graduated price: ``price`` per unit for the quantity up to ``up_to`` (none: beyond)."""

    up_to: Quantity | None = None
    price: Quantity


class RateCard(_Table):
    """How a usage metric becomes cost items: a free allowance, then graduated tiers, per period."""

    name: str = Field(pattern=NAME)
    metric: Metric
    provider: str = Field(min_length=1, max_length=128)
    service: str = Field(min_length=1, max_length=128)
    basis: Basis
    period: PricingPeriod = "month"
    free: Quantity = Decimal(0)
    tiers: list[Tier] = Field(min_length=1, max_length=50)
    per_tenant: bool = True
    scope: UsageScope = Field(default_factory=UsageScope)

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, tiers: list[Tier]) -> list[Tier]:
        *bounded, last = tiers
        previous = Decimal(0)
        for index, tier in enumerate(bounded):
            if tier.up_to is None:
                raise ValueError(f"tiers.{index}.up_to: only the last tier may omit up_to")
            if tier.up_to <= previous:
                raise ValueError(f"tiers.{index}.up_to: bounds must be above zero and strictly increasing")
            previous = tier.up_to
        if last.up_to is not None:
            # Usage beyond the last bound would have no price: the last tier is open-ended.
            raise ValueError(f"tiers.{len(tiers) - 1}.up_to: the last tier has no up_to (it prices everything beyond)")
        return tiers


@dataclass(frozen=True)
class LimitLevel:
    """One threshold of a limit: a share of the limit (``ratio``) or a forecast horizon (``within_days``)."""

    label: str
    severity: Literal["warning", "critical"]
    ratio: Decimal | None = None
    within_days: int | None = None


def parse_limit_threshold(text: str) -> tuple[Decimal | None, int | None]:
    """``"N%"`` -> (N/100, None); ``"within:Nd"`` -> (None, N); ValueError otherwise."""
    percent = _PERCENT.match(text)
    if percent:
        value = Decimal(percent["n"])
        if value <= 0 or value > 1000:
            raise ValueError(f"threshold {text!r}: a percentage must be above 0% and at most 1000%")
        return value / 100, None
    within = _WITHIN.match(text)
    if within:
        days = int(within["n"])
        if not 1 <= days <= 365:
            raise ValueError(f"threshold {text!r}: within:Nd takes 1 to 365 days")
        return None, days
    raise ValueError(f"threshold {text!r}: use 'N%' (e.g. '75%') or 'within:Nd' (e.g. 'within:7d')")


class Upgrade(_Table):
    """The plan a limit's owner could move to: its name, its price and its limit."""

    plan: str = Field(min_length=1, max_length=100)
    price: Quantity
    limit: Quantity = Field(gt=0)
    # What a month at the limit costs the business (sign-ups refused, a service stopped), when someone knows:
    # the plan-upgrade recommendation weighs it against the upgrade's price, next to any overage a rate card
    # on the limit's metric would charge.
    cost_of_hitting: Quantity | None = None


class Limit(_Table):
    """A plan limit on a usage metric, with the thresholds that raise capacity alerts."""

    name: str = Field(pattern=NAME)
    metric: Metric
    limit: Quantity = Field(gt=0)
    basis: Basis = "level"
    # The period a ``sum`` limit adds up over; a ``level`` limit reads the latest day and ignores it.
    period: PricingPeriod = "month"
    scope: UsageScope = Field(default_factory=UsageScope)
    thresholds: list[str] = Field(default_factory=lambda: list(DEFAULT_LIMIT_THRESHOLDS), max_length=20)
    plan: str | None = Field(default=None, min_length=1, max_length=100)
    upgrade: Upgrade | None = None

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("thresholds must be distinct")
        for value in values:
            parse_limit_threshold(value)
        return values

    @model_validator(mode="after")
    def _upgrade_above(self) -> Limit:
        if self.upgrade is not None and self.upgrade.limit <= self.limit:
            raise ValueError(f"upgrade.limit: {self.upgrade.limit} is not above the current limit {self.limit}")
        return self

    @property
    def levels(self) -> list[LimitLevel]:
        """The thresholds parsed: percentages lowest first (the lowest is a warning, the rest critical), then
        forecast horizons (warnings), shortest first."""
        parsed = [(text, *parse_limit_threshold(text)) for text in self.thresholds]
        shares = sorted((ratio, text) for text, ratio, _ in parsed if ratio is not None)
        horizons = sorted((days, text) for text, _, days in parsed if days is not None)
        levels = [
            LimitLevel(label=text, severity="warning" if index == 0 else "critical", ratio=ratio)
            for index, (ratio, text) in enumerate(shares)
        ]
        return levels + [LimitLevel(label=text, severity="warning", within_days=days) for days, text in horizons]


class UnitCost(_Table):
    """The cost of a scope divided by a usage metric (per tenant unless ``per_tenant = false``)."""

    name: str = Field(pattern=NAME)
    scope: CostScope = Field(default_factory=dict)
    metric: Metric
    per_tenant: bool = True


class Allocation(_Table):
    """A shared cost (the scope) split over tenants in proportion to their usage of a metric."""

    name: str = Field(pattern=NAME)
    scope: CostScope = Field(default_factory=dict)
    metric: Metric


def check_unique_names(table: str, names: Sequence[str]) -> None:
    """ValueError naming ``table.index.name`` of the first repeated name."""
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise ValueError(f"{table}.{index}.name: {name!r} is already the name of {table}.{seen[name]}")
        seen[name] = index


def overlap(a: UsageScope, b: UsageScope) -> bool:
    """Whether some usage could fall in both scopes (each key unset on one side or equal on both)."""
    return all(x is None or y is None or x == y for x, y in ((a.tenant, b.tenant), (a.service, b.service)))


def check_rate_cards(cards: Sequence[RateCard]) -> None:
    """Unique names, and no usage priced twice: cards on one metric need scopes that cannot overlap."""
    check_unique_names("rate_cards", [card.name for card in cards])
    for index, card in enumerate(cards):
        for other in range(index):
            if cards[other].metric == card.metric and overlap(cards[other].scope, card.scope):
                same = "the same" if cards[other].scope == card.scope else "an overlapping"
                raise ValueError(
                    f"rate_cards.{index}.scope: rate_cards.{other} already prices {card.metric!r} in {same} scope"
                )
