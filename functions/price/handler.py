"""Price Lambda: usage items arrive on the stream; the rate cards turn them into charges with daily totals."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from spendwatch.domain.config import Config, cached_config
from spendwatch.domain.models import end_of_day
from spendwatch.domain.runs import CollectionRun, CollectionWindow
from spendwatch.platform.aws import client
from spendwatch.platform.clock import utc_now
from spendwatch.platform.observability import logger
from spendwatch.platform.settings import FunctionSettings
from spendwatch.store import Store
from spendwatch.store.records import UsageChanged, readable

from price.reprice import Outcome, every_period, reprice

RUN_SOURCE = "price"


def run_record(outcome: Outcome, started: datetime, store: Store) -> CollectionRun:
    """The run record of one batch: what was read, what was written, and anything a person should know."""
    unpriced = sorted(outcome.unpriced_metrics)
    notes = list(outcome.notes)
    if unpriced:
        notes.append(f"usage without a rate card (stored, not priced): {', '.join(unpriced)}")
    return CollectionRun(
        run_id=uuid.uuid4().hex,
        source=RUN_SOURCE,
        type=RUN_SOURCE,
        status="succeeded",
        window=CollectionWindow(start=outcome.first_day, end=outcome.last_day),
        started_at=started,
        finished_at=utc_now(),
        records_read=outcome.changes,
        records_written=outcome.items_written,
        requests=store.requests,
        # Priced data runs through the end of the last day priced.
        data_through=end_of_day(outcome.last_day),
        notes=notes,
    )


def _changes(event: dict[str, Any], config: Config) -> list[UsageChanged]:
    """A stream batch's usage changes (unreadable records are logged and skipped), or, invoked directly with
    ``{"reprice": {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}}``, every card's periods touching those days
    (after a rate card changed, or to price usage written before the function ran)."""
    if "reprice" in event:
        window = event["reprice"]
        return every_period(config, date.fromisoformat(window["start"]), date.fromisoformat(window["end"]))
    return [change for change in readable(event.get("Records", [])) if isinstance(change, UsageChanged)]


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Re-price the (card, tenant, period)s a batch of usage touched; record the run."""
    started = utc_now()
    settings = FunctionSettings.from_env()
    store = Store(client("dynamodb"), settings.table)
    config = cached_config(settings.config_path)
    outcome = reprice(store, config, _changes(event, config))
    # A batch that changed no charge (collected usage no card prices, a replay) leaves no run behind; one that
    # wrote charges or found a card gone from the config does.
    if outcome.days_written or outcome.notes:
        store.put_run(run_record(outcome, started, store))
    logger.info(
        "priced",
        extra={
            "usage_records": outcome.changes,
            "priced_days": outcome.priced_days,
            "days_written": outcome.days_written,
            "items_written": outcome.items_written,
            "dynamodb_requests": store.requests,
        },
    )
    # Pricing is all-or-nothing per batch and deterministic: an error raises, the whole batch is retried (then
    # bisected), and pricing the same usage again writes nothing.
    return {"batchItemFailures": []}
