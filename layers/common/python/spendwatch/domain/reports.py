"""Reports: one item per sent summary (daily, weekly, monthly), written by the report function, read by the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ReportKind = Literal["daily", "weekly", "monthly"]
REPORT_ID_PATTERN = r"^\d{4}-\d{2}-\d{2}-(daily|weekly|monthly)$"


def report_id(kind: ReportKind, start: date) -> str:
    """A report's id and sort key: newest period first when read backwards, one report per period and kind."""
    return f"{start.isoformat()}-{kind}"


class ReportLine(BaseModel):
    """One row of a report's breakdown."""

    model_config = ConfigDict(defer_build=True)

    key: str
    amount: Decimal
    previous: Decimal | None = None


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
    projected_month_end: Decimal | None = None
    breakdown: dict[str, list[ReportLine]] = Field(default_factory=dict, description="dimension -> lines")
    alerts_opened: int = 0
    artifacts: dict[str, str] = Field(default_factory=dict, description="format -> S3 URI (html, csv)")

    @model_validator(mode="after")
    def _ordered(self) -> Report:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    @property
    def id(self) -> str:
        """The report's id (see :func:`report_id`)."""
        return report_id(self.kind, self.start)
