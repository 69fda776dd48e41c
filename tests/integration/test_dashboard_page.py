"""GET /, the dashboard page, through the real API handler on moto: authentication, content type, the empty
state, and names from data that try to become markup."""

from __future__ import annotations

import html
import time
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from spendwatch.domain.aggregates import PeriodTotals
from spendwatch.domain.alerts import Alert
from spendwatch.domain.models import CostItem
from spendwatch.domain.recommendations.model import Recommendation, ResourceRef
from spendwatch.domain.runs import CollectionRun
from spendwatch.platform import clock

from tests.integration.conftest import TOKEN, LambdaContext, api_event, call_api, store, write_config

pytestmark = pytest.mark.calendar

NOW = clock.utc_now()
TODAY = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
HOSTILE_PROVIDER = '<script>alert("provider")</script>'
HOSTILE_SERVICE = '"><img src=x onerror=alert(1)>'
HOSTILE_BUDGET = "<b>team</b> & 'ops'"
HOSTILE_TITLE = "</td></tr></table><iframe src=//evil.example>"
HOSTILE_SOURCE = "<svg onload=alert(2)>"
HOSTILE_RESOURCE = "<a href=//evil.example>droplet</a>"
HOSTILE_DETAIL = "<style>body{display:none}</style>"
# Every element the page itself writes; anything else would have come from data.
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "h1", "h2", "p", "section", "div",
    "span", "ul", "li", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "time", "svg", "desc", "line", "text",
    "polyline", "polygon", "circle", "g", "rect",
}  # fmt: skip


class Tags(HTMLParser):
    """Collects the elements and attribute names of a document as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def _page(query: dict[str, str] | None = None, token: str | None = None) -> dict[str, Any]:
    """The raw proxy response of GET / (``token`` goes in the Authorization header)."""
    from api.handler import handler

    response: dict[str, Any] = handler(api_event("/", query, token), LambdaContext())
    return response


def _header(response: dict[str, Any], name: str) -> str:
    """A response header, whether the proxy response carries it single- or multi-valued."""
    single = response.get("headers") or {}
    multi = response.get("multiValueHeaders") or {}
    return str(single.get(name) or ",".join(multi.get(name, [])))


def _day_totals(provider: str, service: str, days: int) -> dict[str, PeriodTotals]:
    result = {}
    for n in range(days, -1, -1):
        start = TODAY - timedelta(days=n)
        totals = PeriodTotals()
        totals.add(
            CostItem(
                ProviderName=provider,
                ServiceName=service,
                BilledCost=Decimal("12.34") + n % 7,
                BillingCurrency="USD",
                ChargePeriodStart=start,
                ChargePeriodEnd=start + timedelta(days=1),
                x_source="s",
                x_collected_at=NOW,
            )
        )
        result[start.date().isoformat()] = totals
    return result


@pytest.fixture
def hostile(aws_env: dict[str, Any]) -> dict[str, Any]:
    """A provider, service, budget, alert, collection run and recommendation whose names are markup."""
    budget = f'[[budgets]]\nname = "{HOSTILE_BUDGET}"\namount = "100"\n'
    write_config(aws_env, f'currency = "USD"\n{budget}')
    store().replace_day_totals("s", _day_totals(HOSTILE_PROVIDER, HOSTILE_SERVICE, 40))
    store().put_alert_once(
        Alert(
            id="a1",
            kind="spike",
            severity="critical",
            rule="spike",
            period=TODAY.date().isoformat(),
            title=HOSTILE_TITLE,
            message=f"driven by {HOSTILE_SERVICE}",
            created_at=NOW,
            updated_at=NOW,
        )
    )
    store().put_run(
        CollectionRun(
            run_id="r1",
            source=HOSTILE_SOURCE,
            type="focus",
            status="succeeded",
            started_at=NOW,
            finished_at=NOW,
            data_through=TODAY,
        )
    )
    resource = ResourceRef("DigitalOcean", "droplet", HOSTILE_SOURCE, HOSTILE_RESOURCE, HOSTILE_SERVICE)
    store().put_recommendations(
        [
            Recommendation(
                id="b" * 32,
                kind="idle",
                resource=resource,
                title=HOSTILE_TITLE,
                detail=HOSTILE_DETAIL,
                monthly_savings=Decimal("12.00"),
                currency=HOSTILE_BUDGET,
                confidence="high",
                evidence={},
                status="open",
                created_at=NOW,
                updated_at=NOW,
            )
        ]
    )
    return aws_env


def test_hostile_names_are_shown_as_text_never_as_markup(hostile: dict[str, Any]) -> None:
    response = _page(token=TOKEN)
    assert response["statusCode"] == 200
    body = response["body"]
    parser = Tags()
    parser.feed(body)
    assert parser.tags <= PAGE_TAGS, parser.tags - PAGE_TAGS
    assert not {name for name in parser.attributes if name.startswith("on")}
    for name in (HOSTILE_PROVIDER, HOSTILE_SERVICE, HOSTILE_BUDGET, HOSTILE_TITLE, HOSTILE_SOURCE):
        assert html.escape(name) in body
    section = body[body.index('id="recommendations"') :]
    for name in (HOSTILE_RESOURCE, HOSTILE_DETAIL, HOSTILE_TITLE, HOSTILE_SOURCE, HOSTILE_SERVICE, HOSTILE_BUDGET):
        assert html.escape(name) in section
    assert 'class="actual"' in body and 'class="band"' in body


def test_without_a_token_is_401(aws_env: dict[str, Any]) -> None:
    write_config(aws_env, 'currency = "USD"\n')
    for response in (_page(), _page({"token": "not-the-token"}), _page(token="not-the-token")):
        assert response["statusCode"] == 401
        assert _header(response, "WWW-Authenticate").startswith("Bearer")
        assert "<html" not in response["body"]


def test_token_in_the_query_opens_the_page_but_no_json_route(aws_env: dict[str, Any]) -> None:
    write_config(aws_env, 'currency = "USD"\n')
    assert _page({"token": TOKEN})["statusCode"] == 200
    assert call_api("/v1/costs/summary", {"token": TOKEN}, token=None)[0] == 401


def test_empty_table_renders_every_empty_state_as_html(aws_env: dict[str, Any]) -> None:
    write_config(aws_env, 'currency = "EUR"\n')
    started = time.perf_counter()
    response = _page({"token": TOKEN})
    elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200, response["body"]
    assert _header(response, "Content-Type") == "text/html; charset=utf-8"
    assert _header(response, "Content-Security-Policy").startswith("default-src 'none'")
    body = response["body"]
    assert body.startswith("<!doctype html>") and body.endswith("</html>")
    assert '<p class="value">0.00 EUR</p>' in body
    for empty in (
        "No cost data yet",
        "No costs this month yet",
        "No budgets",
        "No open alerts",
        "No open recommendations",
        "No collection runs yet",
    ):
        assert empty in body
    assert "<svg" not in body and TOKEN not in body
    assert elapsed < 5


def test_openapi_documents_the_page_as_html_with_its_token_parameter(aws_env: dict[str, Any]) -> None:
    write_config(aws_env, 'currency = "USD"\n')
    status, document = call_api("/v1/openapi.json")
    assert status == 200
    operation = document["paths"]["/"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"text/html"}
    assert operation["responses"]["200"]["content"]["text/html"]["schema"] == {"type": "string"}
    assert [(p["name"], p["in"], p.get("required", False)) for p in operation["parameters"]] == [
        ("token", "query", False)
    ]


def test_the_page_links_the_latest_reports(aws_env: dict[str, Any]) -> None:
    from datetime import date

    from spendwatch.domain.reports import Report

    write_config(aws_env, 'currency = "USD"\n')
    now = clock.utc_now()
    for n, (kind, links_until) in enumerate((("daily", now + timedelta(days=7)), ("weekly", now - timedelta(days=1)))):
        day = date(2026, 3, 2 + n)
        store().put_report(
            Report(
                kind=kind,
                start=day,
                end=day + timedelta(days=6 if kind == "weekly" else 0),
                generated_at=now,
                currency="USD",
                total=Decimal("12.35"),
                previous_total=Decimal("10"),
                artifacts={"html": f"s3://b/reports/{kind}/{day}.html", "csv": f"s3://b/reports/{kind}/{day}.csv"},
                links={"html": f"https://b.example/{kind}.html?X-Amz-Signature=a&b=1", "csv": "https://b.example/c"},
                links_expire_at=links_until,
            )
        )

    body = _page({"token": TOKEN})["body"]

    section = body[body.index('id="reports"') : body.index("</section>", body.index('id="reports"'))]
    assert "/v1/reports/2026-03-03-weekly" in section and "/v1/reports/2026-03-02-daily" in section
    assert section.index("2026-03-03-weekly") < section.index("2026-03-02-daily")  # newest period first
    assert '<a href="https://b.example/daily.html?X-Amz-Signature=a&amp;b=1">HTML</a>' in section
    assert "https://b.example/weekly.html" not in section  # its links have expired: the S3 URI is shown instead
    assert "s3://b/reports/weekly/2026-03-03.html" in section
    assert "12.35 USD" in section and "+23.5 %" in section
