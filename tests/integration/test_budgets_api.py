"""Budgets over the API: validated, unique by name, config budgets read-only, spend of the current period."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.models import CostItem
from spendwatch.platform import clock

from tests.integration.conftest import call_api, store, write_config

pytestmark = pytest.mark.calendar

CONFIG = """
currency = "USD"
timezone = "UTC"
[[budgets]]
name = "total"
amount = "500.00"
period = "month"
thresholds = ["50%", "100%"]
"""


@pytest.fixture
def api(aws_env: dict[str, Any]) -> dict[str, Any]:
    write_config(aws_env, CONFIG)
    return aws_env


def _spend_today(provider: str, amount: str) -> None:
    now = clock.utc_now()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    totals = PeriodTotals()
    totals.add(
        CostItem(
            ProviderName=provider,
            ServiceName="svc",
            BilledCost=Decimal(amount),
            BillingCurrency="USD",
            ChargePeriodStart=start,
            ChargePeriodEnd=start + timedelta(days=1),
            Tags={"team": "data"},
            x_source="s",
            x_collected_at=now,
        )
    )
    store().replace_day_totals("s", {start.date().isoformat(): totals})


def test_create_read_update_delete(api: dict[str, Any]) -> None:
    _spend_today("AWS", "123.456")
    body = {"name": "aws", "amount": "200", "period": "month", "scope": {"provider": "AWS"}, "thresholds": ["80%"]}

    status, created = call_api("/v1/budgets", method="POST", body=body)
    assert status == 201, created
    assert created["amount"] == "200.00" and created["origin"] == "api" and created["currency"] == "USD"
    assert created["status"]["spent"] == "123.46" and created["status"]["utilisation"] == "61.7"
    assert created["status"]["period"] == clock.utc_now().strftime("%Y-%m")

    status, listed = call_api("/v1/budgets")
    assert status == 200
    assert [b["name"] for b in listed["items"]] == ["total", "aws"]
    assert listed["items"][0]["origin"] == "config" and listed["items"][0]["status"]["spent"] == "123.46"

    status, replaced = call_api(f"/v1/budgets/{created['id']}", method="PUT", body={**body, "amount": "100"})
    assert status == 200 and replaced["amount"] == "100.00" and replaced["status"]["utilisation"] == "123.5"
    assert call_api(f"/v1/budgets/{created['id']}")[1]["amount"] == "100.00"

    status, _ = call_api(f"/v1/budgets/{created['id']}", method="DELETE")
    assert status == 204
    assert call_api(f"/v1/budgets/{created['id']}")[0] == 404


def test_tag_and_multi_dimension_scopes_are_measured(api: dict[str, Any]) -> None:
    _spend_today("AWS", "10")
    _spend_today("Oracle", "5")  # replaces the same source-day totals: only Oracle remains
    tag = {"name": "data", "amount": "50", "scope": {"tag": {"team": "data"}}}
    assert call_api("/v1/budgets", method="POST", body=tag)[1]["status"]["spent"] == "5.00"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "x", "amount": "-5"}, "amount"),
        ({"name": "x", "amount": "5", "period": "fortnight"}, "period"),
        ({"name": "x", "amount": "5", "scope": {"colour": "red"}}, "unknown scope keys"),
        ({"name": "x", "amount": "5", "scope": {"provider": ""}}, "non-empty"),
        ({"name": "x", "amount": "5", "thresholds": ["lots"]}, "threshold"),
        ({"amount": "5"}, "name"),
    ],
)
def test_bad_budgets_get_422(api: dict[str, Any], body: dict[str, Any], fragment: str) -> None:
    status, answer = call_api("/v1/budgets", method="POST", body=body)
    assert status == 422, answer
    assert fragment in answer["error"]["message"]


def test_names_are_unique_and_config_budgets_are_read_only(api: dict[str, Any]) -> None:
    status, body = call_api("/v1/budgets", method="POST", body={"name": "total", "amount": "1"})
    assert status == 409 and body["error"]["code"] == "conflict"
    status, body = call_api("/v1/budgets/config-total", method="DELETE")
    assert status == 409 and "spendwatch.toml" in body["error"]["message"]
    assert call_api("/v1/budgets/nope")[0] == 404
    assert call_api("/v1/budgets/bad%20id")[0] in (400, 404)


def test_budgets_page_config_first_then_by_name(api: dict[str, Any]) -> None:
    for name in ("delta", "alpha", "charlie", "bravo"):
        status, _ = call_api("/v1/budgets", method="POST", body={"name": name, "amount": "10"})
        assert status == 201
    names: list[str] = []
    origins: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        status, body = call_api("/v1/budgets", {"limit": "2", **({"next_token": token} if token else {})})
        assert status == 200, body
        assert len(body["items"]) <= 2
        names += [item["name"] for item in body["items"]]
        origins += [item["origin"] for item in body["items"]]
        pages += 1
        token = body["next_token"]
        if token is None:
            break

    api_names = [n for n, o in zip(names, origins, strict=True) if o == "api"]
    assert api_names == ["alpha", "bravo", "charlie", "delta"]
    assert origins == sorted(origins, key=lambda o: o != "config")
    assert names[0] == "total"  # the one in spendwatch.toml
    assert (len(names), len(set(names)), pages) == (5, 5, 3)


@pytest.mark.parametrize("token", ["YnVkZ2V0czotMQ==", "YWxlcnRzOjI=", "not base64!", "YnVkZ2V0czp4"])
def test_forged_budget_tokens_are_400(api: dict[str, Any], token: str) -> None:
    status, body = call_api("/v1/budgets", {"next_token": token})

    assert status == 400
    assert body["error"]["code"] == "invalid_parameter"


def test_a_json_body_sent_as_a_form_is_read_as_json(api: dict[str, Any]) -> None:
    from api.handler import handler
    from tests.integration.conftest import LambdaContext, api_event

    event = api_event("/v1/budgets", method="POST", body='{"name": "curl", "amount": "12.5"}')
    event["headers"]["Content-Type"] = "application/x-www-form-urlencoded"  # what `curl -d` sends
    event["multiValueHeaders"]["Content-Type"] = ["application/x-www-form-urlencoded"]

    response = handler(event, LambdaContext())

    assert response["statusCode"] == 201, response["body"]
    assert call_api("/v1/budgets")[1]["items"][-1]["amount"] == "12.50"
