"""Reports: one item per sent summary (daily, weekly, monthly), written by the report function, read by the API.

The item is the outbox too: its INSERT on the table's stream is what the deliver function sends, and each
channel's delivery state is recorded on it (``delivery``), as on alerts.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from spendwatch.domain.alerts import Delivery
from spendwatch.domain.money import format_money
from spendwatch.domain.report_periods import REPORT_KINDS, ReportKind

__all__ = [
    "REPORT_ID_PATTERN",
    "REPORT_KINDS",
    "Report",
    "ReportAlert",
    "ReportBudget",
    "ReportKind",
    "ReportLine",
    "ReportPoint",
    "ReportProjection",
    "ReportUnitCost",
    "report_id",
    "report_json",
]

REPORT_ID_PATTERN = r"^\d{4}-\d{2}-\d{2}-(daily|weekly|monthly)$"


def report_id(kind: ReportKind, start: date) -> str:
    """A report's id and sort key: newest period first when read backwards, one report per period and kind."""
    return f"{start.isoformat()}-{kind}"


class ReportLine(BaseModel):
    """One row of a report's breakdown or movers: this period's amount and the period before's."""

    model_config = ConfigDict(defer_build=True)

    key: str
    amount: Decimal
    previous: Decimal | None = None

    @property
    def change(self) -> Decimal:
        """Amount minus the previous period's (an absent previous counts as zero)."""
        return self.amount - (self.previous or Decimal(0))


class ReportProjection(BaseModel):
    """The month-end projection as of the report's date, with its prediction interval."""

    model_config = ConfigDict(defer_build=True)

    month: str = Field(description="YYYY-MM")
    amount: Decimal
    lower: Decimal
    upper: Decimal
    level: int = Field(description="Of the interval, in percent")


class ReportBudget(BaseModel):
    """A budget's standing in its period that holds the report's last day, through that day."""

    model_config = ConfigDict(defer_build=True)

    id: str
    name: str
    period: str
    start: date
    end: date
    amount: Decimal
    currency: str
    spent: Decimal
    utilisation: Decimal = Field(description="Percent of the budget spent")
    status: str = Field(description="ok, warning (80 % and more) or over (100 % and more)")


class ReportAlert(BaseModel):
    """An alert opened during the report's period."""

    model_config = ConfigDict(defer_build=True)

    id: str
    kind: str
    severity: str
    title: str
    created_at: datetime


class ReportUnitCost(BaseModel):
    """A unit cost over the report's period (one tenant, or pooled: tenant "")."""

    model_config = ConfigDict(defer_build=True)

    name: str
    tenant: str
    cost: Decimal
    quantity: Decimal
    unit_cost: Decimal | None


class ReportPoint(BaseModel):
    """One day's total."""

    model_config = ConfigDict(defer_build=True)

    day: date
    amount: Decimal


class Report(BaseModel):
    """A summary as it was sent: its period, totals, breakdowns and where its files are."""

    model_config = ConfigDict(defer_build=True)

    kind: ReportKind
    start: date
    end: date
    timezone: str = "UTC"
    generated_at: datetime
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    total: Decimal
    previous_total: Decimal | None = Field(default=None, description="The period before, same length")
    previous_start: date | None = None
    previous_end: date | None = None
    projected_month_end: Decimal | None = None
    projection: ReportProjection | None = None
    breakdown: dict[str, list[ReportLine]] = Field(default_factory=dict, description="dimension -> lines")
    movers: dict[str, list[ReportLine]] = Field(default_factory=dict, description="dimension -> biggest changes")
    budgets: list[ReportBudget] = Field(default_factory=list)
    alerts_opened: int = 0
    alerts: list[ReportAlert] = Field(default_factory=list)
    recommendations_open: int = 0
    recommendations_monthly_savings: Decimal = Decimal(0)
    unit_costs: list[ReportUnitCost] = Field(default_factory=list)
    trend: list[ReportPoint] = Field(default_factory=list, description="Daily totals the chart draws, oldest first")
    artifacts: dict[str, str] = Field(default_factory=dict, description="format -> S3 URI (html, csv)")
    links: dict[str, str] = Field(default_factory=dict, description="format -> presigned HTTPS link")
    links_expire_at: datetime | None = None
    delivery: dict[str, Delivery] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Report:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    @property
    def id(self) -> str:
        """The report's id (see :func:`report_id`)."""
        return report_id(self.kind, self.start)

    @property
    def change_pct(self) -> Decimal | None:
        """The change against the previous period in percent (one decimal), None without a previous total."""
        if not self.previous_total:
            return None
        return ((self.total - self.previous_total) / self.previous_total * 100).quantize(Decimal("0.1"))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format_money(value)


def _lines(lines: dict[str, list[ReportLine]]) -> dict[str, list[dict[str, Any]]]:
    return {
        dimension: [{"key": x.key, "amount": format_money(x.amount), "previous": _money(x.previous)} for x in rows]
        for dimension, rows in lines.items()
    }


def report_json(report: Report) -> dict[str, Any]:
    """The report in the wire format (``GET /v1/reports/{id}``, ``spendwatch report``): money as decimal strings
    rounded to the cent; presigned links and delivery state are not part of it."""
    projection = report.projection
    return {
        "id": report.id,
        "kind": report.kind,
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "timezone": report.timezone,
        "generated_at": report.generated_at.isoformat().replace("+00:00", "Z"),
        "currency": report.currency,
        "total": format_money(report.total),
        "previous_total": _money(report.previous_total),
        "change_pct": None if report.change_pct is None else str(report.change_pct),
        "projected_month_end": _money(report.projected_month_end),
        "projection": None
        if projection is None
        else {
            "month": projection.month,
            "amount": format_money(projection.amount),
            "lower": format_money(projection.lower),
            "upper": format_money(projection.upper),
            "level": projection.level,
        },
        "breakdown": _lines(report.breakdown),
        "movers": _lines(report.movers),
        "budgets": [
            {
                **b.model_dump(mode="json", include={"id", "name", "period", "currency", "status"}),
                "start": b.start.isoformat(),
                "end": b.end.isoformat(),
                "amount": format_money(b.amount),
                "spent": format_money(b.spent),
                "utilisation": str(b.utilisation),
            }
            for b in report.budgets
        ],
        "alerts_opened": report.alerts_opened,
        "alerts": [a.model_dump(mode="json") for a in report.alerts],
        "recommendations": {
            "open": report.recommendations_open,
            "monthly_savings": format_money(report.recommendations_monthly_savings),
        },
        "unit_costs": [
            {
                "name": u.name,
                "tenant": u.tenant,
                "cost": format_money(u.cost),
                "quantity": str(u.quantity),
                "unit_cost": None if u.unit_cost is None else str(u.unit_cost),
            }
            for u in report.unit_costs
        ],
        "artifacts": dict(report.artifacts),
    }
