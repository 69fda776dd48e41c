"""GET /metrics on moto: the summary's numbers in the Prometheus text format, labels safe, no customer names."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest
from prometheus_client.parser import text_string_to_metric_families
from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.alerts import Alert, AlertKind, Severity, alert_id
from spendwatch.domain.models import CostItem
from spendwatch.domain.runs import CollectionRun, CollectionWindow
from spendwatch.platform import clock

from tests.integration.conftest import LambdaContext, api_event, call_api, store, write_config

pytestmark = pytest.mark.calendar

NOW = clock.utc_now()
TODAY = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
DAYS = 60
CENT = 0.005  # a float sample agrees with a decimal string when it rounds to it
TENANT = "t-0042"
DISPLAY_NAME = "Acme Corporation GmbH"
NASTY_SERVICE = 'Cache "edge" \\ tier\nZürich · 東京'
LONG_SERVICE = "Storage " + "x" * 300
SERVICES = {
    ("AWS", "Amazon EC2", ""): Decimal("31.17"),
    ("AWS", NASTY_SERVICE, ""): Decimal("2.333"),
    ("AWS", LONG_SERVICE, ""): Decimal("0.41"),
    ("DigitalOcean", "Droplets", TENANT): Decimal("8.645"),
}
DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "spendwatch-dashboard.json"


def _cost(provider: str, service: str, tenant: str, amount: Decimal, day: datetime) -> CostItem:
    return CostItem(
        ProviderName=provider,
        ServiceName=service,
        BilledCost=amount,
        BillingCurrency="USD",
        ChargePeriodStart=day,
        ChargePeriodEnd=day + timedelta(days=1),
        x_source="s",
        x_collected_at=NOW,
        x_tenant=tenant,
    )


def _alert(kind: str, severity: str, rule: str, status: str = "open", **extra: Any) -> Alert:
    return Alert(
        id=alert_id(rule, {}, TODAY.date().isoformat(), ""),
        kind=kind,
        severity=severity,
        status=status,
        rule=rule,
        period=TODAY.date().isoformat(),
        title=f"{DISPLAY_NAME}: {rule}",
        message=f"Spend of {DISPLAY_NAME} ({TENANT}) crossed a threshold",
        created_at=NOW - timedelta(hours=2),
        updated_at=NOW - timedelta(hours=2),
        **extra,
    )


def _run(source: str, status: str, hours_ago: int, data_through: datetime | None = None) -> CollectionRun:
    started = NOW - timedelta(hours=hours_ago)
    return CollectionRun(
        run_id=f"{source}-{hours_ago}",
        source=source,
        type="focus",
        status=status,
        window=CollectionWindow(start=TODAY.date() - timedelta(days=3), end=TODAY.date()),
        started_at=started,
        finished_at=started + timedelta(minutes=1),
        data_through=data_through,
        error="boom" if status == "failed" else None,
    )


@pytest.fixture
def loaded(aws_env: dict[str, Any]) -> dict[str, Any]:
    """Two months of costs (a tenant's among them), a config and an API budget, alerts and collection runs."""
    write_config(
        aws_env,
        'currency = "USD"\n[[sources]]\nname = "exports"\ntype = "focus"\npath = "s3://b/focus/"\n'
        '[[budgets]]\nname = "total"\namount = "3000"\n',
    )
    days = {}
    for n in range(DAYS, -1, -1):
        day = TODAY - timedelta(days=n)
        totals = PeriodTotals()
        for (provider, service, tenant), amount in SERVICES.items():
            totals.add(_cost(provider, service, tenant, amount * (Decimal("0.7") if day.weekday() >= 5 else 1), day))
        days[day.date().isoformat()] = totals
    store().replace_day_totals("s", days)
    budget = {"name": DISPLAY_NAME, "amount": "150.00", "scope": {"tenant": TENANT}, "thresholds": ["80%"]}
    status, created = call_api("/v1/budgets", method="POST", body=budget)
    assert status == 201, created
    for alert in (
        _alert("budget", "warning", "budget:acme:80%"),
        _alert("spike", "critical", "spike:total"),
        _alert("first_seen", "info", "first_seen:service", status="resolved"),
        _alert("staleness", "warning", "staleness:exports", status="snoozed", snoozed_until=NOW - timedelta(hours=1)),
        _alert("collection", "critical", "collection:do", status="snoozed", snoozed_until=NOW + timedelta(hours=3)),
    ):
        assert store().put_alert_once(alert)
    store().put_run(_run("exports", "succeeded", 30, data_through=TODAY - timedelta(days=1)))
    store().put_run(_run("exports", "partial", 8, data_through=TODAY))
    store().put_run(_run("exports", "failed", 2))
    store().put_run(_run("do", "failed", 1))
    return aws_env | {"budget_id": created["id"]}


def _scrape(token: str | None = "test-token-not-a-secret") -> tuple[int, dict[str, Any], str]:
    from api.handler import handler

    response = handler(api_event("/metrics", token=token), LambdaContext())
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return response["statusCode"], headers, response["body"]


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of a scrape, by metric name, parsed by the reference client's parser."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge"
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _one(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    found = [value for have, value in samples[name] if all(have.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, samples[name])
    return found[0]


def _agrees(value: float, decimal_string: str) -> bool:
    return abs(Decimal(repr(value)) - Decimal(decimal_string)) <= Decimal(str(CENT))


def test_metrics_agree_with_the_summary(loaded: dict[str, Any]) -> None:
    status, headers, text = _scrape()
    assert status == 200, text
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = _samples(text)
    status, summary = call_api("/v1/costs/summary")
    assert status == 200, summary

    assert summary["currency"] == "USD"
    assert _agrees(_one(samples, "spendwatch_month_to_date_cost", currency="USD"), summary["month_to_date"])
    last = _one(samples, "spendwatch_same_period_last_month_cost", currency="USD")
    assert _agrees(last, summary["same_period_last_month"])
    projected = summary["projected_month_end"]
    for suffix, key in (("", "amount"), ("_lower", "lower"), ("_upper", "upper")):
        value = _one(samples, f"spendwatch_projected_month_end_cost{suffix}", currency="USD")
        assert _agrees(value, projected[key]), (suffix, value, projected)
    assert Decimal(projected["lower"]) <= Decimal(projected["amount"]) <= Decimal(projected["upper"])

    assert {b["id"] for b in summary["budgets"]} == {"config-total", loaded["budget_id"]}
    for budget in summary["budgets"]:
        labels = {"budget": budget["id"], "period": "month", "currency": "USD"}
        spent = _one(samples, "spendwatch_budget_spent", **labels)
        assert _agrees(spent, budget["status"]["spent"])
        assert _agrees(_one(samples, "spendwatch_budget_amount", **labels), budget["amount"])
        ratio = _one(samples, "spendwatch_budget_utilisation_ratio", **labels)
        assert abs(Decimal(repr(ratio * 100)) - Decimal(budget["status"]["utilisation"])) <= Decimal("0.05")
    tenant_budget = _one(samples, "spendwatch_budget_spent", budget=loaded["budget_id"], tenant=TENANT)
    assert tenant_budget > 0


@pytest.mark.parametrize("dimension", ["provider", "service"])
def test_month_to_date_per_group_agrees_with_costs(loaded: dict[str, Any], dimension: str) -> None:
    from api.routes.metrics import label_value

    samples = _samples(_scrape()[2])
    query = {"start": TODAY.date().replace(day=1).isoformat(), "end": TODAY.date().isoformat(), "group_by": dimension}
    status, costs = call_api("/v1/costs", query)
    assert status == 200, costs

    served = {labels[dimension]: value for labels, value in samples[f"spendwatch_month_to_date_cost_by_{dimension}"]}
    expected = {label_value(group["key"]): group["total"] for group in costs["groups"]}
    assert set(served) == set(expected)
    for key, total in expected.items():
        assert _agrees(served[key], total), (key, served[key], total)
    assert all(labels["currency"] == "USD" for labels, _ in samples[f"spendwatch_month_to_date_cost_by_{dimension}"])


def test_label_values_are_escaped_and_capped(loaded: dict[str, Any]) -> None:
    _, _, text = _scrape()
    # The exposition format escapes backslash, double quote and newline inside label values; UTF-8 stays as is.
    assert 'service="Cache \\"edge\\" \\\\ tier\\nZürich · 東京"' in text
    services = {labels["service"] for labels, _ in _samples(text)["spendwatch_month_to_date_cost_by_service"]}
    assert NASTY_SERVICE in services  # parsed back to the original value
    (capped,) = [s for s in services if s.startswith("Storage ")]
    assert len(capped) == 128 and capped.endswith("\u2026")
    assert max(len(line) for line in text.splitlines()) < 400


def test_no_customer_names_alert_ids_or_skus(loaded: dict[str, Any]) -> None:
    _, _, text = _scrape()
    assert "acme" not in text.lower()
    assert f'tenant="{TENANT}"' in text
    status, alerts = call_api("/v1/alerts", {"limit": "200"})
    assert status == 200
    assert alerts["items"] and not any(alert["id"] in text for alert in alerts["items"])
    label_names = {name for samples in _samples(text).values() for labels, _ in samples for name in labels}
    assert label_names == {
        *("currency", "provider", "service", "budget", "period", "tenant"),
        *("severity", "kind", "source", "type", "status"),
    }


def test_open_alerts_by_severity_and_kind(loaded: dict[str, Any]) -> None:
    samples = _samples(_scrape()[2])
    status, alerts = call_api("/v1/alerts", {"status": "open", "limit": "200"})
    assert status == 200, alerts
    expected = Counter((alert["severity"], alert["kind"]) for alert in alerts["items"])
    assert expected == {("warning", "budget"): 1, ("critical", "spike"): 1, ("warning", "staleness"): 1}

    served = {(labels["severity"], labels["kind"]): value for labels, value in samples["spendwatch_open_alerts"]}
    assert {key: value for key, value in served.items() if value} == expected
    # Every severity and kind, zeros included, so series never vanish.
    # (Test alerts are never stored: their kind has no series.)
    kinds = [kind for kind in get_args(AlertKind) if kind != "test"]
    assert set(served) == {(severity, kind) for severity in get_args(Severity) for kind in kinds}
    assert ("info", "utilisation") in served and ("critical", "digest") in served


def test_collection_freshness_per_source(loaded: dict[str, Any]) -> None:
    samples = _samples(_scrape()[2])
    status, runs = call_api("/v1/collections", {"limit": "200"})
    assert status == 200, runs
    newest = {}
    for run in runs["items"]:
        newest.setdefault(run["source"], run)
    good = next(r for r in runs["items"] if r["source"] == "exports" and r["status"] in ("succeeded", "partial"))

    def stamp(value: str) -> float:
        return datetime.fromisoformat(value).timestamp()

    for source, run in newest.items():
        labels = {"source": source, "type": "focus"}
        assert _one(samples, "spendwatch_source_last_run_timestamp_seconds", **labels) == stamp(run["finished_at"])
        states = {s["status"]: v for s, v in samples["spendwatch_source_last_run_status"] if s["source"] == source}
        assert states == {"running": 0, "succeeded": 0, "partial": 0, "failed": 1}
    success = _one(samples, "spendwatch_source_last_success_timestamp_seconds", source="exports")
    assert success == stamp(good["finished_at"])
    through = _one(samples, "spendwatch_source_data_through_timestamp_seconds", source="exports")
    assert through == stamp(good["data_through"]) == TODAY.timestamp()
    # A source that never succeeded has no success series (absent, not a made-up zero).
    assert not [s for s, _ in samples["spendwatch_source_last_success_timestamp_seconds"] if s["source"] == "do"]


def test_metrics_need_the_token(loaded: dict[str, Any]) -> None:
    status, headers, body = _scrape(token=None)
    assert status == 401 and json.loads(body)["error"]["code"] == "unauthorized"
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert _scrape(token="wrong")[0] == 401


def test_openapi_documents_metrics_as_text(loaded: dict[str, Any]) -> None:
    status, document = call_api("/v1/openapi.json")
    assert status == 200
    ok = document["paths"]["/metrics"]["get"]["responses"]["200"]
    assert ok["content"] == {"text/plain": {"schema": {"type": "string"}}}


# PromQL words that are not metric names: aggregations, functions, keywords, modifiers.
_NOT_METRICS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}


def promql_metric_names(expression: str) -> set[str]:
    """Metric names an expression selects: identifiers that are neither functions, keywords nor label names."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range and subquery durations
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # label lists
    names = set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", text))
    return {name for name in names if name not in _NOT_METRICS and not re.fullmatch(r"\d+[smhdwy]?", name)}


def _panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for panel in panels for p in [panel, *_panels(panel.get("panels", []))]]


def test_dashboard_charts_what_metrics_serves(loaded: dict[str, Any]) -> None:
    served = set(_samples(_scrape()[2]))
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    panels = [p for p in _panels(dashboard["panels"]) if p["type"] != "row"]
    assert len({p["id"] for p in _panels(dashboard["panels"])}) == len(_panels(dashboard["panels"]))

    charted: set[str] = set()
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = promql_metric_names(target["expr"])
            assert names and names <= served, (panel["title"], target["expr"], names - served)
            charted |= names
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            (name,) = re.findall(r"label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,", variable["query"]["query"])
            assert name in served
    assert charted == served  # every metric family has a panel


def test_promql_names_ignore_functions_labels_and_durations() -> None:
    expression = 'time() - max by (source) (spendwatch_x{source=~"a|b"}[5m] offset 1h) > bool 3600 or vector(0)'
    assert promql_metric_names(expression) == {"spendwatch_x"}
    assert promql_metric_names("sum without (kind) (a_total) / on (x) group_left (y) b") == {"a_total", "b"}
