"""Collect Lambda: an EventBridge schedule names a source; collect it and record the run."""

from __future__ import annotations

from functools import partial
from typing import Any

from spendwatch.platform.aws import client
from spendwatch.platform.observability import logger


class UnknownSourceError(LookupError):
    """The event names a source that the config does not define."""


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Collect the source named in the event and return the collection run."""
    # Imported on the first invocation, not at import: building the event's, the config's and the store's models
    # is most of a cold start (the collector itself, collect.runner.collector_for, is its source type's only).
    from spendwatch.domain.config import cached_config
    from spendwatch.platform.secrets import read_secret
    from spendwatch.platform.settings import CollectSettings
    from spendwatch.store import Store

    from collect.events import ScheduledEvent
    from collect.runner import collect

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
