"""Recommend Lambda: after a collection finishes (its run record arrives on the stream), or when invoked directly
with ``{"evaluate": true}``, every rule of the recommendation engine runs over what is stored, and the findings
are merged with the stored recommendations (see ``spendwatch.domain.recommendations``)."""

from __future__ import annotations

from typing import Any

from spendwatch.domain.config import Config, cached_config
from spendwatch.domain.runs import CollectionRun
from spendwatch.platform.aws import client
from spendwatch.platform.clock import utc_now
from spendwatch.platform.observability import logger
from spendwatch.platform.settings import FunctionSettings
from spendwatch.store import Store
from spendwatch.store.records import RunRecorded, readable

from recommend.evaluate import evaluate

FINISHED = frozenset({"succeeded", "partial"})


def finished_collections(event: dict[str, Any], config: Config) -> list[CollectionRun]:
    """The batch's finished runs of configured sources (started runs, failed ones, price runs: nothing new to
    judge; an unreadable record is logged and skipped)."""
    sources = {source.name for source in config.sources}
    return [
        change.run
        for change in readable(event.get("Records", []))
        if isinstance(change, RunRecorded) and change.run.status in FINISHED and change.run.source in sources
    ]


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Evaluate once per batch that holds a finished collection (or when asked to directly)."""
    settings = FunctionSettings.from_env()
    config = cached_config(settings.config_path)
    runs = [] if event.get("evaluate") else finished_collections(event, config)
    if not event.get("evaluate") and not runs:
        return {"batchItemFailures": []}
    store = Store(client("dynamodb"), settings.table)
    outcome = evaluate(store, config, utc_now())
    logger.info(
        "recommendations evaluated",
        extra={
            "after_runs": sorted({run.source for run in runs}),
            "findings": outcome.findings,
            "written": outcome.written,
            "open": outcome.open,
            "conflicts": outcome.conflicts,
            "inventories": outcome.inventories,
            "dynamodb_requests": store.requests,
        },
    )
    return {"batchItemFailures": []}
