"""The record of a collection run: what was asked, what happened, how fresh the data is."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["running", "succeeded", "partial", "failed"]


class CollectionWindow(BaseModel):
    """The calendar days a run covered (inclusive); open ends when a source decides from its data."""

    model_config = ConfigDict(defer_build=True)

    start: date | None = None
    end: date | None = None


class CollectionRun(BaseModel):
    """The record of one collection: what was asked, what happened, how fresh the data is."""

    model_config = ConfigDict(defer_build=True)

    run_id: str
    source: str
    type: str
    status: RunStatus = "running"
    window: CollectionWindow = Field(default_factory=CollectionWindow)
    started_at: datetime
    finished_at: datetime | None = None
    records_read: int = 0
    records_written: int = 0
    rejected: int = 0
    first_rejection: str | None = None
    requests: int = 0
    data_through: datetime | None = None
    error: str | None = None
    # What a person should know about the run that is not an error (e.g. a rate card removed from the config).
    notes: list[str] = Field(default_factory=list)
