"""Response models: what the OpenAPI document promises and what the routes return."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from spendwatch.domain.alerts import Alert
from spendwatch.domain.audit import AuditEntry
from spendwatch.domain.money import format_money
from spendwatch.domain.recommendations.model import Confidence, Kind, Status

Money = str  # a decimal string such as "12.34"; never a float


class ErrorBody(BaseModel):
    """What went wrong: a stable machine code and a human message."""

    model_config = ConfigDict(defer_build=True)

    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every non-2xx response."""

    model_config = ConfigDict(defer_build=True)

    error: ErrorBody


class Point(BaseModel):
    """Cost in one period."""

    model_config = ConfigDict(defer_build=True)

    period: str = Field(description="YYYY-MM-DD (day) or YYYY-MM (month)")
    amount: Money


class CostGroup(BaseModel):
    """One group's total and series."""

    model_config = ConfigDict(defer_build=True)

    key: str
    total: Money
    points: list[Point]
    allocated: Money | None = Field(
        default=None,
        description="group_by=tenant with [[allocations]] configured: the signed amount allocations moved into this "
        "group (a tenant's share of shared costs) or out of it (negative, on the (none) group); included in total "
        "and points, and adding up to zero over the groups. Null otherwise",
    )


class AllocationOut(BaseModel):
    """How one allocation split its shared cost (the scope's charges without a tenant) over tenants."""

    model_config = ConfigDict(defer_build=True)

    name: str
    scope: dict[str, Any]
    metric: str
    shared: Money = Field(description="Cost of the scope's charges without a tenant over the range (and filters)")
    allocated: Money = Field(description="The part split over tenants, day by day, by that day's usage of the metric")
    unallocated: Money = Field(description="shared - allocated: days without usage of the metric stay under (none)")
    tenants: dict[str, Money] = Field(description="tenant -> amount allocated to it")
    skipped: str | None = Field(
        default=None, description="Why nothing was allocated (its scope may overlap an earlier allocation's)"
    )


class CostsResponse(BaseModel):
    """Cost history."""

    model_config = ConfigDict(defer_build=True)

    currency: str
    start: date
    end: date
    granularity: str
    group_by: str | None
    filters: dict[str, Any] = Field(
        default_factory=dict, description="The filters applied: dimension -> value, and tag -> {key: value}"
    )
    total: Money
    groups: list[CostGroup]
    other_currencies: list[str] = Field(
        default_factory=list, description="Currencies present in the range but not included in these totals"
    )
    allocations: list[AllocationOut] = Field(
        default_factory=list,
        description="group_by=tenant only: each [[allocations]] entry's shared cost in the range and how it was split",
    )


class Window(BaseModel):
    """Days a collection covered (inclusive)."""

    model_config = ConfigDict(defer_build=True)

    start: date | None
    end: date | None


class CollectionRunOut(BaseModel):
    """One collection run."""

    model_config = ConfigDict(defer_build=True)

    run_id: str
    source: str
    type: str
    status: str
    window: Window
    started_at: datetime
    finished_at: datetime | None
    records_read: int
    records_written: int
    rejected: int
    first_rejection: str | None
    requests: int
    data_through: datetime | None
    error: str | None
    notes: list[str] = Field(
        default_factory=list, description="What a person should know that is not an error (e.g. a rate card removed)"
    )


class CollectionsResponse(BaseModel):
    """A page of collection runs, newest first."""

    model_config = ConfigDict(defer_build=True)

    items: list[CollectionRunOut]
    next_token: str | None


class Health(BaseModel):
    """Liveness."""

    model_config = ConfigDict(defer_build=True)

    status: str


class UsageAccepted(BaseModel):
    """The result of a push."""

    model_config = ConfigDict(defer_build=True)

    accepted: int
    replayed: bool = Field(description="True when this idempotency key had already been stored")


class UsageOut(BaseModel):
    """A day's total of one metric."""

    model_config = ConfigDict(defer_build=True)

    day: date
    metric: str
    unit: str
    tenant: str
    service: str
    source: str
    quantity: str = Field(description="a decimal string")


class UsagePage(BaseModel):
    """A page of daily usage."""

    model_config = ConfigDict(defer_build=True)

    items: list[UsageOut]
    next_token: str | None


class BudgetStatus(BaseModel):
    """Where the current period stands."""

    model_config = ConfigDict(defer_build=True)

    period: str
    start: date
    end: date
    spent: str
    utilisation: str = Field(description="Percent of the amount spent so far, one decimal")


class BudgetOut(BaseModel):
    """A budget as served."""

    model_config = ConfigDict(defer_build=True)

    id: str
    origin: str = Field(description="config (spendwatch.toml, read-only here) or api")
    name: str
    amount: str
    currency: str
    period: str
    scope: dict[str, Any]
    thresholds: list[str]
    created_at: datetime | None
    updated_at: datetime | None
    status: BudgetStatus | None


class BudgetPage(BaseModel):
    """Budgets."""

    model_config = ConfigDict(defer_build=True)

    items: list[BudgetOut]
    next_token: str | None


class AlertPage(BaseModel):
    """A page of alerts."""

    model_config = ConfigDict(defer_build=True)

    items: list[Alert]
    next_token: str | None


class ChannelTest(BaseModel):
    """What one channel did with the test alert."""

    model_config = ConfigDict(defer_build=True)

    channel: str = Field(description="sns, slack (or console), or a [[channels]] entry's name")
    delivered: bool
    error: str | None = Field(description="Why it was not delivered (never a secret)")


class AlertTestResult(BaseModel):
    """Every channel's outcome for one test alert."""

    model_config = ConfigDict(defer_build=True)

    channels: list[ChannelTest]


class MoneyInterval(BaseModel):
    """An amount with its prediction interval."""

    model_config = ConfigDict(defer_build=True)

    amount: str
    lower: str
    upper: str


def money_interval(value: tuple[Decimal, Decimal, Decimal]) -> MoneyInterval:
    """An exact ``(amount, lower, upper)`` as money strings."""
    amount, lower, upper = value
    return MoneyInterval(amount=format_money(amount), lower=format_money(lower), upper=format_money(upper))


class ProjectionPoint(BaseModel):
    """One forecast day."""

    model_config = ConfigDict(defer_build=True)

    period: date
    amount: str
    lower: str
    upper: str


class ProjectionGroup(BaseModel):
    """One group's forecast."""

    model_config = ConfigDict(defer_build=True)

    key: str
    method: str
    month_to_date: str
    month_end: MoneyInterval
    accuracy: dict[str, Any] | None = Field(description="This group's own backtested month-end error and coverage")
    points: list[ProjectionPoint]


class ProjectionsResponse(BaseModel):
    """Forecasts per group."""

    model_config = ConfigDict(defer_build=True)

    currency: str
    interval: float
    start: date
    end: date
    horizon_days: int
    group_by: str | None
    groups: list[ProjectionGroup]


class BudgetSummary(BaseModel):
    """A budget's standing in the summary."""

    model_config = ConfigDict(defer_build=True)

    id: str
    name: str
    amount: str
    status: BudgetStatus


class RecommendationsSummary(BaseModel):
    """The open recommendations in the summary."""

    model_config = ConfigDict(defer_build=True)

    open: int = Field(description="How many recommendations are open (every currency)")
    monthly_savings: Money = Field(
        description="The sum of the open ones' monthly_savings in currency (a plan upgrade's may be negative)"
    )
    currency: str
    other_currencies: list[str] = Field(
        default_factory=list, description="Currencies of open recommendations not included in monthly_savings"
    )


class SummaryResponse(BaseModel):
    """Month to date, the same days last month, the projected month end and budget status."""

    model_config = ConfigDict(defer_build=True)

    currency: str
    month: str
    month_to_date: str
    same_period_last_month: str
    change_pct: str | None
    projected_month_end: MoneyInterval
    accuracy: dict[str, Any] | None
    budgets: list[BudgetSummary]
    recommendations: RecommendationsSummary


Quantity = str  # a decimal string such as "12.5"; never a float


class CapacityOut(BaseModel):
    """One plan limit's standing."""

    model_config = ConfigDict(defer_build=True)

    name: str
    metric: str
    scope: dict[str, str] = Field(description="The usage the limit covers: tenant and/or service ({}: all)")
    plan: str | None
    limit: Quantity
    used: Quantity = Field(description="level: the latest day's quantity; sum: the period-to-date sum")
    utilisation: str = Field(description="used / limit as a decimal string (1 = at the limit)")
    status: str = Field(description="ok, warning, critical or exceeded")
    growth_per_day: Quantity = Field(description="Forecast growth of the used quantity per day (may be negative)")
    days_to_limit: int | None = Field(description="Days after data_through until the forecast reaches the limit")
    limit_date: date | None = Field(description="data_through + days_to_limit; null when not within 365 days")
    data_through: date | None = Field(description="The last day with usage of the limit's metric in its scope")
    period: str = Field(description="The alert period: YYYY-MM (level limits, sum limits by month) or YYYY-MM-DD")


class CapacityPage(BaseModel):
    """Every plan limit's standing, paged."""

    model_config = ConfigDict(defer_build=True)

    items: list[CapacityOut]
    next_token: str | None


class UsageForecastPoint(BaseModel):
    """One forecast day of a usage metric."""

    model_config = ConfigDict(defer_build=True)

    day: date
    quantity: Quantity
    lower: Quantity
    upper: Quantity


class UsageForecastResponse(BaseModel):
    """A usage metric's daily forecast with its prediction interval."""

    model_config = ConfigDict(defer_build=True)

    metric: str
    tenant: str | None = Field(description="The tenant forecast; null: every tenant summed")
    unit: str
    interval: float
    horizon_days: int
    history_days: int = Field(description="How many days of usage the forecast was fitted on")
    data_through: date = Field(description="The last day with usage in that history")
    points: list[UsageForecastPoint]


class UnitCostOut(BaseModel):
    """A unit cost over a range for one tenant ("" : per_tenant = false, or charges and usage without a tenant)."""

    model_config = ConfigDict(defer_build=True)

    name: str
    tenant: str
    cost: Money
    quantity: Quantity
    unit_cost: str | None = Field(description="cost / quantity, exact to 10 places; null when the quantity is zero")
    currency: str


class UnitCostsResponse(BaseModel):
    """Unit costs over [start, end]."""

    model_config = ConfigDict(defer_build=True)

    start: date
    end: date
    items: list[UnitCostOut]
    next_token: str | None = None


Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"}, description="ISO 8601 with its UTC offset")]


class ResourceOut(BaseModel):
    """What a recommendation is about."""

    model_config = ConfigDict(defer_build=True)

    provider: str
    type: str = Field(description="droplet, volume, reserved_ip, snapshot, namespace, limit, account...")
    id: str
    name: str
    region: str


class RecommendationOut(BaseModel):
    """A recommendation with money attached (``Recommendation.item()``)."""

    model_config = ConfigDict(defer_build=True)

    id: str
    kind: Kind
    resource: ResourceOut
    title: str
    detail: str
    monthly_savings: Money = Field(description="From the provider's own prices; a plan upgrade's may be negative")
    currency: str
    confidence: Confidence
    evidence: dict[str, Any] = Field(description="The numbers the rule used (money and ratios as decimal strings)")
    status: Status
    created_at: Timestamp
    updated_at: Timestamp


class RecommendationPage(BaseModel):
    """A page of recommendations, biggest monthly savings first."""

    model_config = ConfigDict(defer_build=True)

    items: list[RecommendationOut]
    next_token: str | None


class AuditPage(BaseModel):
    """A page of the audit log, newest first."""

    model_config = ConfigDict(defer_build=True)

    items: list[AuditEntry]
    next_token: str | None
