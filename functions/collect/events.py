"""The event a schedule (or a backfill) sends the collect function."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CollectDetail(BaseModel):
    """What the schedule (or a backfill) asks for."""

    model_config = ConfigDict(defer_build=True)

    source: str = Field(min_length=1)
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> CollectDetail:
        if self.start and self.end and self.end < self.start:
            raise ValueError("end is before start")
        return self


class ScheduledEvent(BaseModel):
    """The EventBridge event, as delivered by the schedule's input transformer."""

    model_config = ConfigDict(defer_build=True)

    id: str
    time: str
    detail: CollectDetail
