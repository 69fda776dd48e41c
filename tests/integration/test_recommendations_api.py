"""Recommendations through the real API handler on moto, at a pinned instant: the list (filters, order, paging),
accept/dismiss/implement with their 404 and 409s, a write that loses to a concurrent evaluation, the summary's
figures, /metrics and the dashboard page.

Recommendations are seeded with ``Store.put_recommendations``; expected figures are worked out here by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from spendwatch.domain.recommendations.model import Recommendation, ResourceRef, recommendation_id
from spendwatch.platform import clock
from spendwatch.store.recommendations import RecommendationStore

from tests.integration.conftest import TOKEN, LambdaContext, api_event, call_api, store, write_config

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
CREATED = NOW - timedelta(days=3)
EVALUATED = NOW - timedelta(hours=6)


def _rec(
    kind: str, rtype: str, rid: str, savings: str, status: str = "open", currency: str = "USD", name: str = ""
) -> Recommendation:
    resource = ResourceRef(provider="DigitalOcean", type=rtype, id=rid, name=name, region="fra1")
    return Recommendation(
        id=recommendation_id(kind, resource.provider, rid),
        kind=kind,  # type: ignore[arg-type]
        resource=resource,
        title=f"{kind} {rtype} {name or rid}",
        detail=f"why {kind} on {rid}",
        monthly_savings=Decimal(savings),
        currency=currency,
        confidence="high" if kind == "idle" else "low",
        evidence={"price_monthly": savings, "cpu_p95": "0.0123"},
        status=status,  # type: ignore[arg-type]
        created_at=CREATED,
        updated_at=EVALUATED,
    )


IDLE = _rec("idle", "droplet", "101", "48.00", name="web-1")
UNTAGGED = _rec("untagged", "account", "acct", "30.00", currency="EUR")
RIGHTSIZE = _rec("rightsize", "droplet", "102", "24.00", status="dismissed", name="db-1")
ZOMBIE = _rec("zombie", "volume", "vol-1", "10.00")
IMPLEMENTED = _rec("zombie", "reserved_ip", "203.0.113.7", "4.00", status="implemented")
UPGRADE = _rec("plan_upgrade", "limit", "kv-storage", "-5.00")
SEEDED = [IDLE, UNTAGGED, RIGHTSIZE, ZOMBIE, IMPLEMENTED, UPGRADE]
BY_SAVINGS = [IDLE, UNTAGGED, RIGHTSIZE, ZOMBIE, IMPLEMENTED, UPGRADE]  # 48, 30 (EUR), 24, 10, 4, -5
OPEN = [IDLE, UNTAGGED, ZOMBIE, UPGRADE]


@pytest.fixture
def seeded(aws_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The clock at NOW, a USD config and the recommendations above in the table."""
    monkeypatch.setenv(clock.NOW_ENV, NOW.isoformat())
    clock.reset()
    write_config(aws_env, 'currency = "USD"\n')
    assert store().put_recommendations(SEEDED) == len(SEEDED)
    yield aws_env
    monkeypatch.delenv(clock.NOW_ENV)
    clock.reset()


def _list(**query: str) -> dict[str, Any]:
    status, body = call_api("/v1/recommendations", query or None)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


def test_every_status_biggest_savings_first_exactly_as_stored(seeded: dict[str, Any]) -> None:
    body = _list()
    assert body["next_token"] is None
    assert body["items"] == [rec.item() for rec in BY_SAVINGS]
    assert body["items"][0]["monthly_savings"] == "48.00" and body["items"][-1]["monthly_savings"] == "-5.00"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "open"}, OPEN),
        ({"status": "dismissed"}, [RIGHTSIZE]),
        ({"status": "implemented"}, [IMPLEMENTED]),
        ({"status": "expired"}, []),
        ({"kind": "zombie"}, [ZOMBIE, IMPLEMENTED]),
        ({"kind": "plan_upgrade"}, [UPGRADE]),
        ({"kind": "k8s_rightsize"}, []),
        ({"status": "open", "kind": "zombie"}, [ZOMBIE]),
    ],
)
def test_filters(seeded: dict[str, Any], query: dict[str, str], expected: list[Recommendation]) -> None:
    assert _ids(_list(**query)) == [rec.id for rec in expected]


def test_ties_in_savings_are_ordered_by_id(seeded: dict[str, Any]) -> None:
    twins = [_rec("idle", "droplet", str(n), "48.00") for n in range(900, 904)]
    store().put_recommendations(twins)
    ids = _ids(_list(status="open"))
    assert ids[:5] == sorted([IDLE.id, *(rec.id for rec in twins)])


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"status": "closed"}, "status"),
        ({"kind": "cheap"}, "kind"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"next_token": "bm90LWEtdG9rZW4="}, "next_token"),
        ({"next_token": "YWxlcnRzOjE="}, "next_token"),  # another list's token ("alerts:1")
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    seeded: dict[str, Any], query: dict[str, str], parameter: str
) -> None:
    status, body = call_api("/v1/recommendations", query)
    assert status == 400, body
    assert set(body) == {"error"} and body["error"]["code"] == "invalid_parameter"
    assert parameter in body["error"]["message"]


def test_pages_of_one_walk_the_whole_list_with_opaque_tokens(seeded: dict[str, Any]) -> None:
    seen: list[str] = []
    token: str | None = None
    for _ in range(len(SEEDED) + 1):
        body = _list(limit="1", **({"next_token": token} if token else {}))
        assert len(body["items"]) == 1
        seen += _ids(body)
        token = body["next_token"]
        if token is None:
            break
        assert not token.isdigit() and str(len(seen)) != token
    assert seen == [rec.id for rec in BY_SAVINGS]
    open_pages = _list(status="open", limit="3")
    rest = _list(status="open", limit="3", next_token=open_pages["next_token"])
    assert _ids(open_pages) + _ids(rest) == [rec.id for rec in OPEN] and rest["next_token"] is None


def _act(rec_id: str, action: str) -> tuple[int, Any]:
    return call_api(f"/v1/recommendations/{rec_id}/{action}", method="POST")


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_accept_then_implement(seeded: dict[str, Any]) -> None:
    status, accepted = _act(IDLE.id, "accept")
    assert status == 200, accepted
    assert accepted == {**IDLE.item(), "status": "accepted", "updated_at": accepted["updated_at"]}
    assert NOW <= _stamp(accepted["updated_at"]) < NOW + timedelta(minutes=5)
    assert store().get_recommendation(IDLE.id).item() == accepted  # type: ignore[union-attr]

    status, implemented = _act(IDLE.id, "implement")
    assert status == 200, implemented
    assert implemented["status"] == "implemented" and implemented["created_at"] == IDLE.item()["created_at"]
    assert _stamp(implemented["updated_at"]) >= _stamp(accepted["updated_at"])
    assert store().get_recommendation(IDLE.id).status == "implemented"  # type: ignore[union-attr]
    assert _ids(_list(status="implemented")) == [IDLE.id, IMPLEMENTED.id]


def test_dismiss_and_dismissing_again_changes_nothing(seeded: dict[str, Any]) -> None:
    status, dismissed = _act(ZOMBIE.id, "dismiss")
    assert status == 200 and dismissed["status"] == "dismissed"
    status, again = _act(ZOMBIE.id, "dismiss")
    assert status == 200 and again == dismissed
    assert _ids(_list(status="open")) == [IDLE.id, UNTAGGED.id, UPGRADE.id]
    # A dismissed one may still be accepted.
    status, accepted = _act(RIGHTSIZE.id, "accept")
    assert status == 200 and accepted["status"] == "accepted"


def test_unknown_id_is_404(seeded: dict[str, Any]) -> None:
    for action in ("accept", "dismiss", "implement"):
        status, body = _act("0" * 32, action)
        assert status == 404, body
        assert body["error"]["code"] == "not_found" and "0" * 32 in body["error"]["message"]


@pytest.mark.parametrize(
    ("rec", "action", "words"),
    [
        (IMPLEMENTED, "dismiss", "cannot dismiss a recommendation that is implemented"),
        (IMPLEMENTED, "accept", "cannot accept a recommendation that is implemented"),
        (RIGHTSIZE, "implement", "cannot implement a recommendation that is dismissed"),
    ],
)
def test_a_status_that_forbids_the_action_is_409(
    seeded: dict[str, Any], rec: Recommendation, action: str, words: str
) -> None:
    status, body = _act(rec.id, action)
    assert status == 409, body
    assert body["error"]["code"] == "conflict" and words in body["error"]["message"]
    assert store().get_recommendation(rec.id) == rec, "nothing written"


def test_an_evaluation_landing_between_read_and_write_wins_and_the_action_is_409(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    reevaluated = replace(ZOMBIE, monthly_savings=Decimal("12.50"), updated_at=NOW - timedelta(minutes=1))
    original = RecommendationStore.get_recommendation

    def read_then_evaluation_writes(self: RecommendationStore, rec_id: str) -> Recommendation | None:
        read = original(self, rec_id)
        store().put_recommendations([reevaluated])  # what the recommend function writes meanwhile
        return read

    monkeypatch.setattr(RecommendationStore, "get_recommendation", read_then_evaluation_writes)
    status, body = _act(ZOMBIE.id, "dismiss")
    assert status == 409, body
    assert body["error"]["code"] == "conflict" and "changed" in body["error"]["message"]
    monkeypatch.setattr(RecommendationStore, "get_recommendation", original)
    assert store().get_recommendation(ZOMBIE.id) == reevaluated, "the evaluation's update is kept"
    status, body = _act(ZOMBIE.id, "dismiss")  # read again, it goes through
    assert status == 200 and body["status"] == "dismissed" and body["monthly_savings"] == "12.50"


def test_the_conditional_put_writes_only_over_what_was_read(seeded: dict[str, Any]) -> None:
    table = store()
    dismissed = replace(ZOMBIE, status="dismissed", updated_at=NOW)
    assert not table.put_recommendation_if_unchanged(dismissed, NOW - timedelta(days=1))
    assert table.get_recommendation(ZOMBIE.id) == ZOMBIE
    assert table.put_recommendation_if_unchanged(dismissed, EVALUATED)
    assert table.get_recommendation(ZOMBIE.id) == dismissed
    assert not table.put_recommendation_if_unchanged(dismissed, EVALUATED), "it changed since"
    gone = _rec("idle", "droplet", "never-stored", "1.00")
    assert not table.put_recommendation_if_unchanged(gone, EVALUATED)
    assert table.get_recommendation(gone.id) is None


def test_summary_counts_the_open_ones_and_sums_their_savings_in_its_currency(seeded: dict[str, Any]) -> None:
    status, summary = call_api("/v1/costs/summary")
    assert status == 200, summary
    # Open: idle 48.00 + zombie 10.00 + plan upgrade -5.00 in USD; the untagged one is in EUR, counted, not added.
    assert summary["currency"] == "USD"
    assert summary["recommendations"] == {
        "open": 4,
        "monthly_savings": "53.00",
        "currency": "USD",
        "other_currencies": ["EUR"],
    }


def test_summary_without_recommendations(aws_env: dict[str, Any]) -> None:
    write_config(aws_env, 'currency = "EUR"\n')
    status, summary = call_api("/v1/costs/summary")
    assert status == 200, summary
    assert summary["recommendations"] == {
        "open": 0,
        "monthly_savings": "0.00",
        "currency": "EUR",
        "other_currencies": [],
    }


def _metrics() -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    from api.handler import handler

    response = handler(api_event("/metrics", token=TOKEN), LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    text = response["body"]
    for name in ("spendwatch_recommendations_open", "spendwatch_recommendations_monthly_savings"):
        assert f"# HELP {name} " in text and f"# TYPE {name} gauge" in text
    return {
        family.name: {tuple(sorted(s.labels.items())): s.value for s in family.samples}
        for family in text_string_to_metric_families(text)
        if family.name.startswith("spendwatch_recommendations")
    }


def test_metrics_count_open_ones_per_kind_and_their_savings_per_kind_and_currency(seeded: dict[str, Any]) -> None:
    families = _metrics()
    opened = {dict(labels)["kind"]: value for labels, value in families["spendwatch_recommendations_open"].items()}
    assert opened == {"idle": 1, "rightsize": 0, "zombie": 1, "plan_upgrade": 1, "untagged": 1, "k8s_rightsize": 0}
    savings = {
        (dict(labels)["kind"], dict(labels)["currency"]): value
        for labels, value in families["spendwatch_recommendations_monthly_savings"].items()
    }
    assert savings == {
        ("idle", "USD"): 48.0,
        ("rightsize", "USD"): 0.0,  # dismissed: not open
        ("zombie", "USD"): 10.0,  # the implemented one is not open
        ("plan_upgrade", "USD"): -5.0,
        ("untagged", "USD"): 0.0,
        ("untagged", "EUR"): 30.0,
        ("k8s_rightsize", "USD"): 0.0,
    }


class _Section(HTMLParser):
    """The text of each row of the page's recommendations table, cell by cell."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = self.in_body = False
        self.depth = 0
        self.heading = ""
        self.rows: list[list[str]] = []
        self.in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section" and ("id", "recommendations") in attrs:
            self.inside = True
        if not self.inside:
            return
        self.in_h2 = self.in_h2 or tag == "h2"
        self.in_body = self.in_body or tag == "tbody"
        if self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag == "td":
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if self.inside and tag == "section":
            self.inside = False
        self.in_h2 = self.in_h2 and tag != "h2"
        self.in_body = self.in_body and tag != "tbody"

    def handle_data(self, data: str) -> None:
        if self.inside and self.in_h2:
            self.heading += data
        elif self.inside and self.in_body and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def _page() -> str:
    from api.handler import handler

    response = handler(api_event("/", token=TOKEN), LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    return str(response["body"])


def test_page_lists_open_ones_biggest_saving_first(seeded: dict[str, Any]) -> None:
    section = _Section()
    section.feed(_page())
    assert section.heading == (
        "Open recommendations (4), 53.00 USD a month (not counting amounts in EUR), biggest savings first"
    )
    kinds = [row[0] for row in section.rows]
    assert kinds == ["idle", "untagged", "zombie", "plan_upgrade"]
    first = section.rows[0]
    assert first[1] == "web-1DigitalOcean · droplet · fra1 · 101"
    assert first[2] == "idle droplet web-1why idle on 101"
    assert first[3:] == ["48.00 USD", "high"]
    assert section.rows[1][3] == "30.00 EUR" and section.rows[-1][3] == "-5.00 USD"


def test_page_shows_the_first_ones_and_counts_the_rest(seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from api.views import dashboard

    monkeypatch.setattr(dashboard, "MAX_RECOMMENDATIONS", 2)
    page = _page()
    section = _Section()
    section.feed(page)
    assert [row[0] for row in section.rows] == ["idle", "untagged"]
    assert "2 more: GET /v1/recommendations?status=open lists them all." in page


def test_page_without_recommendations(aws_env: dict[str, Any]) -> None:
    write_config(aws_env, 'currency = "USD"\n')
    page = _page()
    assert re.search(r'<section class="card" id="recommendations">.*No open recommendations\.</p></section>', page)


def test_openapi_documents_the_routes(seeded: dict[str, Any]) -> None:
    status, document = call_api("/v1/openapi.json")
    assert status == 200
    listing = document["paths"]["/v1/recommendations"]["get"]
    assert "biggest first" in listing["description"] and "then by id" in listing["description"]
    parameters = {p["name"]: p for p in listing["parameters"]}
    assert set(parameters) == {"status", "kind", "limit", "next_token"}
    schema = document["components"]["schemas"]["RecommendationOut"]
    assert {"id", "kind", "resource", "monthly_savings", "currency", "confidence", "status"} <= set(schema["required"])
    for action in ("accept", "dismiss", "implement"):
        responses = document["paths"][f"/v1/recommendations/{{rec_id}}/{action}"]["post"]["responses"]
        assert {"200", "404", "409"} <= set(responses), action
    summary = document["components"]["schemas"]["SummaryResponse"]
    assert "recommendations" in summary["required"]
