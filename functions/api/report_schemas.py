"""Response models of the reports routes (``GET /v1/reports``, ``GET /v1/reports/{id}``)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import Money


class ReportLineOut(BaseModel):
    """One row of a report's breakdown."""

    model_config = ConfigDict(defer_build=True)

    key: str
    amount: Money
    previous: Money | None = Field(description="The same row in the period before, when it was known")


class ReportProjectionOut(BaseModel):
    """The month-end projection as of the report's date."""

    model_config = ConfigDict(defer_build=True)

    month: str = Field(description="YYYY-MM")
    amount: Money
    lower: Money
    upper: Money
    level: int = Field(description="Of the prediction interval, in percent")


class ReportBudgetOut(BaseModel):
    """A budget's standing in its period holding the report's last day, through that day."""

    model_config = ConfigDict(defer_build=True)

    id: str
    name: str
    period: str
    start: date
    end: date
    amount: Money
    currency: str
    spent: Money
    utilisation: str = Field(description="Percent of the budget spent")
    status: str = Field(description="ok, warning (80 % and more) or over (100 % and more)")


class ReportAlertOut(BaseModel):
    """An alert opened during the report's period."""

    model_config = ConfigDict(defer_build=True)

    id: str
    kind: str
    severity: str
    title: str
    created_at: datetime


class ReportRecommendationsOut(BaseModel):
    """Open recommendations when the report was made."""

    model_config = ConfigDict(defer_build=True)

    open: int
    monthly_savings: Money = Field(description="Their monthly savings in the report's currency")


class ReportUnitCostOut(BaseModel):
    """A unit cost over the report's period."""

    model_config = ConfigDict(defer_build=True)

    name: str
    tenant: str
    cost: Money
    quantity: str
    unit_cost: str | None


class ReportOut(BaseModel):
    """A report as it was sent."""

    model_config = ConfigDict(defer_build=True)

    id: str = Field(description="<period start>-<kind>")
    kind: str = Field(description="daily, weekly or monthly")
    start: date
    end: date
    timezone: str
    generated_at: datetime
    currency: str
    total: Money = Field(description="Equals GET /v1/costs over start..end")
    previous_total: Money | None
    change_pct: str | None = Field(description="Against the previous period, in percent")
    projected_month_end: Money | None
    projection: ReportProjectionOut | None
    breakdown: dict[str, list[ReportLineOut]] = Field(description="dimension -> rows, largest first")
    movers: dict[str, list[ReportLineOut]] = Field(description="dimension -> rows, biggest change first")
    budgets: list[ReportBudgetOut]
    alerts_opened: int
    alerts: list[ReportAlertOut]
    recommendations: ReportRecommendationsOut
    unit_costs: list[ReportUnitCostOut]
    artifacts: dict[str, str] = Field(description="format (html, csv) -> S3 URI of the sent file")


class ReportPage(BaseModel):
    """A page of reports."""

    model_config = ConfigDict(defer_build=True)

    items: list[ReportOut]
    next_token: str | None
