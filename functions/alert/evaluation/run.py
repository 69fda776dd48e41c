"""One evaluation: run every rule over the affected days, write each proposed alert once, resolve recoveries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from spendwatch.domain.alerts import Alert
from spendwatch.domain.budgets import StoredBudget, config_budget_id, from_record
from spendwatch.domain.runs import CollectionRun

from alert.evaluation import budgets as budget_rules
from alert.evaluation import health, spikes
from alert.evaluation.context import Context


@dataclass
class Outcome:
    """What an evaluation did (for logs and tests)."""

    proposed: int = 0
    created: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


def all_budgets(context: Context) -> list[StoredBudget]:
    """Budgets from spendwatch.toml and from the API."""
    from_config = [StoredBudget(config_budget_id(b.name), b, "config") for b in context.config.budgets]
    return from_config + [from_record(record) for record in context.store.budgets()]


def write(context: Context, alerts: Iterable[Alert], outcome: Outcome) -> None:
    """Write each alert unless it exists: re-evaluating the same data never alerts twice."""
    for alert in alerts:
        outcome.proposed += 1
        if context.store.put_alert_once(alert):
            outcome.created.append(alert.id)


def _resolve(context: Context, alert_ids: Iterable[str], outcome: Outcome) -> None:
    for alert_id in alert_ids:
        context.store.update_alert(alert_id, {"status": "resolved", "updated_at": context.now.isoformat()})
        outcome.resolved.append(alert_id)


def settle_budgets(context: Context, budgets: list[StoredBudget], outcome: Outcome) -> None:
    """Resolve budget alerts of finished periods, restated spend, or forecasts that actual spend overtook."""
    unresolved = [a for a in context.store.alerts() if a.status != "resolved"]
    _resolve(context, budget_rules.settled(context, budgets, unresolved), outcome)


def resolve_recovered(context: Context, outcome: Outcome) -> None:
    """A source that collected successfully resolves its open collection and staleness alerts."""
    recovered = {run.source for run in context.succeeded_runs}
    if not recovered:
        return
    for alert in context.store.alerts():
        source = alert.scope.get("source")
        if alert.kind in ("collection", "staleness") and source in recovered and alert.status != "resolved":
            context.store.update_alert(alert.id, {"status": "resolved", "updated_at": context.now.isoformat()})
            outcome.resolved.append(alert.id)


def on_changes(
    context: Context, project: budget_rules.Projector | None = budget_rules.project_with_forecast
) -> Outcome:
    """Evaluate after new daily totals or collection runs arrived."""
    outcome = Outcome()
    if context.affected_days or context.budgets_changed:
        budgets = all_budgets(context)
        write(context, budget_rules.evaluate(context, budgets, project), outcome)
        settle_budgets(context, budgets, outcome)
    if context.affected_days:
        write(context, spikes.evaluate(context), outcome)
    write(context, health.failed_runs(context), outcome)
    resolve_recovered(context, outcome)
    return outcome


def on_schedule(context: Context) -> Outcome:
    """The hourly check: sources whose data has gone stale."""
    outcome = Outcome()
    runs, _ = context.store.list_runs(200)
    latest: dict[str, CollectionRun] = {}
    for run in runs:  # newest first: keep each source's newest successful run
        if run.status in ("succeeded", "partial") and run.source not in latest:
            latest[run.source] = run
    write(context, health.stale_sources(context, latest), outcome)
    return outcome
