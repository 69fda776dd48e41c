"""Evaluate Lambda: new daily totals or runs arrive on the stream (or the hourly schedule fires); raise alerts."""

from __future__ import annotations

from typing import Any

from spendwatch.domain.config import cached_config
from spendwatch.platform.aws import client
from spendwatch.platform.clock import utc_now
from spendwatch.platform.observability import logger
from spendwatch.platform.settings import FunctionSettings
from spendwatch.store import Store

from alert.evaluate import apply
from alert.evaluate.inputs import Changes, Inputs, read_for_changes, read_for_schedule
from alert.evaluate.rules import Stamp, budgets, capacity, digest, health, spikes, utilisation


def on_changes(
    store: Store, inputs: Inputs, project: budgets.Projector = budgets.project_with_forecast
) -> apply.Outcome:
    """Run every rule over a batch's changes, then write: alerts once each, then what they settle."""
    outcome = apply.Outcome()
    stamp = Stamp(inputs.now, inputs.data_through)
    changes = inputs.changes
    apply.write(store, budgets.crossed(inputs.budgets, stamp, project), outcome)
    apply.resolve(store, budgets.settled(inputs.budgets, [*inputs.open_alerts, *outcome.created]), inputs.now, outcome)
    apply.write(store, spikes.detected(inputs, stamp), outcome)
    apply.write(store, health.failed_runs(changes.failed_runs, stamp), outcome)
    recovered = health.recovered(
        [*inputs.open_alerts, *outcome.created], changes.succeeded_runs, inputs.config, inputs.now
    )
    apply.resolve(store, recovered, inputs.now, outcome)
    apply.write(store, capacity.reached(inputs.capacities, stamp), outcome)
    apply.resolve(
        store, capacity.settled(inputs.capacities, [*inputs.open_alerts, *outcome.created]), inputs.now, outcome
    )
    thresholds = inputs.config.utilisation
    apply.write(store, utilisation.above(inputs.utilisation, thresholds, stamp, inputs.resource_names), outcome)
    apply.resolve(store, utilisation.settled(inputs.utilisation, thresholds, inputs.open_alerts), inputs.now, outcome)
    return outcome


def on_schedule(store: Store, inputs: Inputs) -> apply.Outcome:
    """The hourly check: sources whose data has gone stale, the daily digest of info alerts when it is due,
    reminders of critical alerts nobody acknowledged, and capacity alerts whose period is over."""
    outcome = apply.Outcome()
    stamp = Stamp(inputs.now, inputs.data_through)
    apply.write(store, health.stale_sources(inputs.config, inputs.latest_runs, stamp), outcome)
    apply.write(store, digest.due(inputs, stamp), outcome)
    apply.remind(store, inputs.reminders_due, inputs.now, outcome)
    apply.resolve(store, capacity.ended(inputs.open_alerts, inputs.now.date()), inputs.now, outcome)
    return outcome


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Evaluate per affected scope: the batch is read once, every rule runs once."""
    settings = FunctionSettings.from_env()
    store = Store(client("dynamodb"), settings.table)
    config, now = cached_config(settings.config_path), utc_now()
    if "Records" in event:
        outcome = on_changes(store, read_for_changes(store, config, now, Changes.of(event["Records"])))
    else:
        outcome = on_schedule(store, read_for_schedule(store, config, now))
    logger.info(
        "evaluated",
        extra={
            "alerts_proposed": outcome.proposed,
            "alerts_created": len(outcome.created),
            "alerts_resolved": len(outcome.resolved),
            "alerts_quieted": outcome.quieted,
            "reminders": len(outcome.reminded),
            "dynamodb_requests": store.requests,
        },
    )
    # Evaluation is all-or-nothing per batch (it works per scope, not per record): an error raises and the
    # whole batch is retried, which is safe because alerts are written once per id.
    return {"batchItemFailures": []}
