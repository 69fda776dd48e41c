"""Collect Lambda: an EventBridge schedule names a source; collect it and record the run."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from spendwatch.domain.config import cached_config
from spendwatch.platform.aws import client
from spendwatch.platform.observability import logger
from spendwatch.platform.secrets import read_secret
from spendwatch.platform.settings import CollectSettings
from spendwatch.store import Store

from collect.runner import collect


class UnknownSourceError(LookupError):
    """The event names a source that the config does not define."""


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


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Collect the source named in the event and return the collection run."""
    request = ScheduledEvent.model_validate(event)
    settings = CollectSettings.from_env()
    config = cached_config(settings.config_path)
    try:
        source = config.source(request.detail.source)
    except KeyError as exc:
        raise UnknownSourceError(f"no source named {request.detail.source!r} in the config") from exc
    store = Store(client("dynamodb"), settings.table)
    overrides = settings.provider_environment()
    run = collect(
        source,
        config,
        store,
        start=request.detail.start,
        end=request.detail.end,
        secret=partial(read_secret, overrides=overrides),
        env=overrides,
    )
    logger.info("collected", extra={"run": run.model_dump(mode="json")})
    result: dict[str, Any] = run.model_dump(mode="json")
    return result
