"""Evaluate Lambda: new daily totals or runs arrive on the stream (or the hourly schedule fires); raise alerts."""

from __future__ import annotations

from datetime import date
from typing import Any

from spendwatch.domain.config import cached_config
from spendwatch.domain.runs import CollectionRun
from spendwatch.platform.aws import client
from spendwatch.platform.clock import utc_now
from spendwatch.platform.observability import logger
from spendwatch.platform.settings import FunctionSettings
from spendwatch.store import Store, from_item

from alert.evaluation import run
from alert.evaluation.context import Context


def _read_records(context: Context, records: list[dict[str, Any]]) -> None:
    """Collect the affected days and the finished runs; a record that cannot be read is logged and skipped."""
    for record in records:
        try:
            image = from_item(record["dynamodb"]["NewImage"])
            if image["item_type"] == "agg_day":
                context.affected_days.add(date.fromisoformat(image["period"]))
            elif image["item_type"] == "budget":
                context.budgets_changed = True
            elif image["item_type"] == "run":
                finished = CollectionRun.model_validate(
                    {k: v for k, v in image.items() if k not in ("pk", "sk", "item_type", "expires_at")}
                )
                if finished.status == "failed":
                    context.failed_runs.append(finished)
                elif finished.status in ("succeeded", "partial"):
                    context.succeeded_runs.append(finished)
        except (KeyError, TypeError, ValueError):
            logger.exception("unreadable stream record", extra={"event_id": record.get("eventID")})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Evaluate per affected scope: the batch is read once, every rule runs once."""
    settings = FunctionSettings.from_env()
    evaluation = Context(Store(client("dynamodb"), settings.table), cached_config(settings.config_path), utc_now())
    if "Records" in event:
        _read_records(evaluation, event["Records"])
        outcome = run.on_changes(evaluation)
    else:
        outcome = run.on_schedule(evaluation)
    logger.info(
        "evaluated",
        extra={
            "alerts_proposed": outcome.proposed,
            "alerts_created": len(outcome.created),
            "alerts_resolved": len(outcome.resolved),
            "dynamodb_requests": evaluation.store.requests,
        },
    )
    # Evaluation is all-or-nothing per batch (it works per scope, not per record): an error raises and the
    # whole batch is retried, which is safe because alerts are written once per id.
    return {"batchItemFailures": []}
