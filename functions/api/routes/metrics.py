"""GET /metrics: the overview figures (the summary's numbers) in the Prometheus text exposition format."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, get_args

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from spendwatch.domain.alerts import AlertKind, Severity
from spendwatch.domain.money import ZERO
from spendwatch.domain.recommendations.model import KINDS
from spendwatch.domain.runs import RunStatus
from spendwatch.platform.clock import utc_now

from api.views import overview

if TYPE_CHECKING:
    from prometheus_client.metrics_core import GaugeMetricFamily, Metric


router = Router()
# The classic text format: every Prometheus and every compatible scraper reads it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_LABEL_CHARS = 128
ELLIPSIS = "\u2026"
# Services are many and change; the largest keep their own series, the rest share one.
MAX_SERVICES = 50
OTHER = "(other)"

_RESPONSES: dict[int, Any] = {
    200: {
        "description": "Metrics in the Prometheus text exposition format 0.0.4",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


def label_value(value: str) -> str:
    """``value`` made safe for a label: valid UTF-8 and at most 128 characters (escaping is the encoder's)."""
    # Lone surrogates (from JSON escapes in provider data) cannot be encoded as UTF-8.
    text = value.encode("utf-8", "replace").decode("utf-8")
    if len(text) > MAX_LABEL_CHARS:
        text = text[: MAX_LABEL_CHARS - 1] + ELLIPSIS
    return text


def safe_groups(groups: dict[str, Decimal], limit: int | None = None) -> dict[str, Decimal]:
    """Amounts per safe label value, beyond ``limit`` groups folded into ``(other)``, largest first kept."""
    result: dict[str, Decimal] = {}
    ranked = sorted(groups.items(), key=lambda item: item[1], reverse=True)
    for rank, (key, amount) in enumerate(ranked):
        name = OTHER if limit is not None and rank >= limit - 1 and len(ranked) > limit else label_value(key)
        # Two values equal after truncation must add up, never appear as a duplicate series.
        result[name] = result.get(name, ZERO) + amount
    return result


Figures = overview.Snapshot


def read_figures(now: datetime) -> Figures:
    """The same figures the summary and the dashboard page read."""
    return overview.snapshot(now)


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    from prometheus_client.metrics_core import GaugeMetricFamily

    return GaugeMetricFamily(name, documentation, labels=labels)


def _money(amount: Decimal) -> float:
    # A sample value is a float by definition of the format; this is the only place money becomes one.
    return float(amount)


def cost_families(figures: Figures) -> Iterator[Metric]:
    """Month to date (total, per provider, per service), last month's same days and the month-end projection."""
    summary = figures.summary
    currency = label_value(summary.currency)
    singles = {
        "spendwatch_month_to_date_cost": ("Cost of the current UTC calendar month so far", summary.month_to_date),
        "spendwatch_same_period_last_month_cost": (
            "Cost of the same days of the previous month",
            summary.same_period_last_month,
        ),
        "spendwatch_projected_month_end_cost": ("Projected cost of the whole month", summary.projected[0]),
        "spendwatch_projected_month_end_cost_lower": ("Lower bound of the projection's interval", summary.projected[1]),
        "spendwatch_projected_month_end_cost_upper": ("Upper bound of the projection's interval", summary.projected[2]),
    }
    for name, (documentation, amount) in singles.items():
        family = _gauge(name, documentation, ["currency"])
        family.add_metric([currency], _money(amount))
        yield family
    for dimension, groups, limit in (
        ("provider", figures.providers, None),
        ("service", figures.services, MAX_SERVICES),
    ):
        family = _gauge(
            f"spendwatch_month_to_date_cost_by_{dimension}",
            f"Cost of the current month so far per {dimension}",
            ["currency", dimension],
        )
        for key, amount in safe_groups(groups, limit).items():
            family.add_metric([currency, key], _money(amount))
        yield family


def budget_families(figures: Figures, default_currency: str) -> Iterator[Metric]:
    """Each budget's amount, spend in its current period and utilisation, by id (names may name customers)."""
    labels = ["budget", "period", "currency", "tenant"]
    amount = _gauge("spendwatch_budget_amount", "The budget's amount per period", labels)
    spent = _gauge("spendwatch_budget_spent", "Spend in the budget's current period", labels)
    ratio = _gauge("spendwatch_budget_utilisation_ratio", "Spend in the current period / the budget's amount", labels)
    for stored, status in figures.budgets:
        budget = stored.budget
        tenant = budget.scope.get("tenant", "")
        values = [label_value(v) for v in (stored.id, budget.period, budget.currency or default_currency, tenant)]
        # The summary shows spend to the cent; the ratio is taken from that same figure so the two agree.
        spent_amount = Decimal(status.spent)
        amount.add_metric(values, _money(budget.amount))
        spent.add_metric(values, _money(spent_amount))
        ratio.add_metric(values, float(spent_amount / budget.amount))
    yield from (amount, spent, ratio)


def alert_families(figures: Figures) -> Iterator[Metric]:
    """Open alerts counted per severity and kind, zeros included so series do not vanish."""
    # Test alerts are sent, never stored: no series for them.
    kinds = [kind for kind in get_args(AlertKind) if kind != "test"]
    counts = {(severity, kind): 0 for severity in get_args(Severity) for kind in kinds}
    for alert in figures.alerts:
        counts[(alert.severity, alert.kind)] = counts.get((alert.severity, alert.kind), 0) + 1
    family = _gauge(
        "spendwatch_open_alerts", "Alerts open now (an expired snooze counts as open)", ["severity", "kind"]
    )
    for (severity, kind), count in counts.items():
        family.add_metric([label_value(severity), label_value(kind)], count)
    yield family


def freshness_families(figures: Figures) -> Iterator[Metric]:
    """Per source: when it last ran and how, when it last succeeded and how far its data reaches."""
    labels = ["source", "type"]
    last_run = _gauge("spendwatch_source_last_run_timestamp_seconds", "When the newest run finished", labels)
    status = _gauge(
        "spendwatch_source_last_run_status", "1 for the newest run's status, 0 for the others", [*labels, "status"]
    )
    success = _gauge(
        "spendwatch_source_last_success_timestamp_seconds", "When the newest succeeded or partial run finished", labels
    )
    through = _gauge(
        "spendwatch_source_data_through_timestamp_seconds", "The end of the data the newest successful run saw", labels
    )
    for source in figures.freshness:
        values = [label_value(source.source), label_value(source.type)]
        last_run.add_metric(values, source.last_run_at.timestamp())
        for state in get_args(RunStatus):
            status.add_metric([*values, state], 1.0 if source.status == state else 0.0)
        if source.last_success_at is not None:
            success.add_metric(values, source.last_success_at.timestamp())
        if source.data_through is not None:
            through.add_metric(values, source.data_through.timestamp())
    yield from (last_run, status, success, through)


def capacity_families(figures: Figures) -> Iterator[Metric]:
    """Each plan limit's utilisation and, when the forecast reaches it within a year, the days until it does.

    A limit whose forecast never reaches it has no days-to-limit sample (absent, never NaN or a sentinel), so
    ``spendwatch_capacity_days_to_limit < 7`` alerts only on limits that will be reached.
    """
    ratio = _gauge(
        "spendwatch_capacity_utilisation_ratio",
        "Used quantity / the plan limit (1 = at the limit)",
        ["limit", "metric"],
    )
    days = _gauge(
        "spendwatch_capacity_days_to_limit",
        "Days after the last day with usage until the forecast reaches the limit (0: reached)",
        ["limit"],
    )
    for standing in figures.capacity:
        name = label_value(standing.name)
        ratio.add_metric([name, label_value(standing.metric)], float(standing.utilisation))
        if standing.days_to_limit is not None:
            days.add_metric([name], float(standing.days_to_limit))
    yield from (ratio, days)


def recommendation_families(figures: Figures) -> Iterator[Metric]:
    """Open recommendations per kind, and their monthly savings per kind and currency (zeros in the summary's
    currency included, so series do not vanish; amounts in different currencies are never added)."""
    counts = dict.fromkeys(KINDS, 0)
    savings = {(kind, figures.summary.currency): ZERO for kind in KINDS}
    for rec in figures.recommendations:
        counts[rec.kind] = counts.get(rec.kind, 0) + 1
        savings[(rec.kind, rec.currency)] = savings.get((rec.kind, rec.currency), ZERO) + rec.monthly_savings
    opened = _gauge("spendwatch_recommendations_open", "Recommendations open now", ["kind"])
    for kind, count in counts.items():
        opened.add_metric([label_value(kind)], count)
    money = _gauge(
        "spendwatch_recommendations_monthly_savings",
        "Monthly savings of the open recommendations, from the providers' prices",
        ["kind", "currency"],
    )
    for (kind, currency), amount in sorted(savings.items()):
        money.add_metric([label_value(kind), label_value(currency)], _money(amount))
    yield from (opened, money)


class FiguresCollector:
    """A prometheus_client collector over figures read beforehand (one scrape, one reading)."""

    def __init__(self, figures: Figures) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        """Every metric family /metrics serves."""
        yield from cost_families(self.figures)
        yield from budget_families(self.figures, self.figures.summary.currency)
        yield from alert_families(self.figures)
        yield from freshness_families(self.figures)
        yield from capacity_families(self.figures)
        yield from recommendation_families(self.figures)


def exposition(figures: Figures) -> str:
    """``figures`` in the text exposition format."""
    # Imported here: only scrapes pay for the client library, never a cold start serving JSON.
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(FiguresCollector(figures))
    return generate_latest(registry).decode("utf-8")


@router.get(
    "/metrics",
    summary="Costs, budgets, alerts, freshness, capacity and recommendations for Prometheus",
    tags=["meta"],
    responses=_RESPONSES,
)
def get_metrics() -> Response[str]:
    """The summary's figures as Prometheus gauges."""
    figures = read_figures(utc_now())
    return Response(status_code=200, content_type=CONTENT_TYPE, body=exposition(figures))
