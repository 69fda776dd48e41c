"""Vercel charges into cost items: FOCUS JSON lines, broken lines counted, auth, failures and retries."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from spendwatch.domain.config import Config, Source
from spendwatch.domain.models import CostItem
from spendwatch.platform.secrets import SecretError

from collect.sources import vercel
from collect.sources.base import CollectRequest, Coverage, RequestCounter
from collect.sources.vercel import VercelSourceError, collect, query_params
from tests.fakes.sinks import RecordingSink
from tests.fakes.vercel import EXAMPLE, FakeVercel, Reply, example_day, example_rows

FIRST, LAST = date(2025, 3, 10), date(2025, 3, 12)
NOW = datetime(2025, 3, 20, 6, 0, tzinfo=UTC)
URL = "http://vercel.test"
TOKEN = "vercel-test-token"


class Run:
    """One collection against a fake, with everything a test wants to look at afterwards."""

    def __init__(self, fake: FakeVercel, now: datetime = NOW, token: str | None = TOKEN, **source: Any) -> None:
        self.fake = fake
        self.source = Source(name="vercel", type="vercel", **source)
        self.sink = RecordingSink("vercel")
        self.waits: list[float] = []
        self.now = now
        self.token = token

    @property
    def items(self) -> list[CostItem]:
        return self.sink.items

    def request(self, start: date | None = FIRST, end: date | None = LAST) -> CollectRequest:
        config = Config(sources=[self.source])
        secrets: dict[str, str] = {"VERCEL_TOKEN": self.token} if self.token else {}
        return CollectRequest(
            self.source,
            config,
            self.sink,
            RequestCounter(),
            self.now,
            start,
            end,
            env={},
            secret=lambda e, _n: secrets.get(e),
        )

    def collect(self, start: date | None = FIRST, end: date | None = LAST) -> tuple[Coverage, CollectRequest]:
        request = self.request(start, end)
        with httpx.Client(transport=self.fake.transport(), base_url=URL) as client:
            return collect(request, client=client, sleep=self.waits.append), request

    def total(self) -> Decimal:
        return sum((i.BilledCost for i in self.items), Decimal(0))


def _exact_total(first: date = FIRST, last: date = LAST) -> Decimal:
    rows = [json.loads(line, parse_float=Decimal) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    return sum(
        (Decimal(r["BilledCost"]) for r in rows if first <= date.fromisoformat(r["ChargePeriodStart"][:10]) <= last),
        Decimal(0),
    )


def test_every_charge_collects_to_the_exact_total() -> None:
    run = Run(FakeVercel(example_rows()))

    covered, request = run.collect()

    assert run.total() == _exact_total()
    assert (run.sink.read, run.sink.rejected) == (22, 0)
    assert covered == Coverage(FIRST, LAST)
    assert request.requests.count == 1
    assert len({i.identity for i in run.items}) == 22
    edge = run.items[0]
    assert (edge.ProviderName, edge.ServiceName, edge.ServiceCategory) == ("Vercel", "Edge Requests", "Networking")
    assert edge.Tags == {"ProjectId": "prj_7mXq2VbN4kPz", "ProjectName": "storefront"}
    assert (edge.RegionId, edge.ChargeCategory, edge.BillingCurrency) == ("iad1", "Usage", "USD")
    assert (edge.ConsumedQuantity, edge.ConsumedUnit, edge.PricingUnit) == (Decimal(412380), "Requests", "1M Requests")
    assert edge.BilledCost == edge.EffectiveCost == Decimal("0.82476")
    assert edge.ChargePeriodStart == datetime(2025, 3, 10, tzinfo=UTC) and edge.x_estimated is False
    credit = next(i for i in run.items if i.ChargeCategory == "Credit")
    assert credit.BilledCost == Decimal("-0.5")


def test_the_query_asks_for_whole_days_with_the_token_and_team() -> None:
    fake = FakeVercel(example_rows(), team_id="team_abc")
    Run(fake, team_id="team_abc").collect()

    assert fake.requests == [
        {
            "path": "/v1/billing/charges",
            "from": "2025-03-10T00:00:00.000Z",
            "to": "2025-03-13T00:00:00.000Z",
            "teamId": "team_abc",
            "authorization": f"Bearer {TOKEN}",
        }
    ]


def test_the_team_is_the_billing_account() -> None:
    run = Run(FakeVercel(example_rows(), team_id="team_abc"), team_id="team_abc")
    run.collect()
    assert {i.BillingAccountId for i in run.items} == {"team_abc"}


def test_today_ends_now_and_is_estimated() -> None:
    now = datetime(2025, 3, 12, 15, 45, 30, 123456, tzinfo=UTC)
    fake = FakeVercel(example_rows())
    run = Run(fake, now=now, lookback_days=3)

    covered, _ = run.collect(None, None)

    assert covered == Coverage(FIRST, LAST)
    assert (fake.requests[0]["from"], fake.requests[0]["to"]) == (
        "2025-03-10T00:00:00.000Z",
        "2025-03-12T15:45:30.123Z",
    )
    assert {i.day for i in run.items if i.x_estimated} == {LAST}


def test_compressed_answers_are_read() -> None:
    run = Run(FakeVercel(example_rows(), compress=True))
    run.collect()
    assert run.total() == _exact_total()


def test_broken_lines_are_counted_and_the_rest_kept() -> None:
    rows: list[Any] = example_rows()
    rows[3:3] = ['{"BilledCost": 1.5, "BillingCurrency": "USD", "ChargePeri', "[1, 2, 3]", "", "   "]
    rows.append({**rows[0], "BilledCost": "a lot"})
    rows.append({k: v for k, v in rows[1].items() if k != "ChargePeriodEnd"})
    run = Run(FakeVercel(rows))

    covered, _ = run.collect()

    assert run.sink.rejected == 4
    assert run.sink.first_rejection == "/v1/billing/charges 2025-03-10..2025-03-12 line 4: not valid JSON"
    assert run.total() == _exact_total()
    assert covered == Coverage(FIRST, LAST)


def test_rows_outside_the_asked_days_are_left_alone() -> None:
    stray = {**example_rows()[0], "ChargePeriodStart": "2025-03-01T00:00:00.000Z"}
    fake = FakeVercel().then(Reply(200, (json.dumps(stray) + "\n").encode()))
    run = Run(fake)

    run.collect()

    assert run.items == [] and run.sink.rejected == 0


def test_long_windows_are_read_a_month_at_a_time() -> None:
    fake = FakeVercel(example_rows())
    run = Run(fake)

    covered, request = run.collect(date(2025, 2, 1), date(2025, 3, 31))

    assert request.requests.count == 2
    assert [(r["from"], r["to"]) for r in fake.requests] == [
        ("2025-02-01T00:00:00.000Z", "2025-03-04T00:00:00.000Z"),
        ("2025-03-04T00:00:00.000Z", "2025-03-20T06:00:00.000Z"),
    ]
    assert covered == Coverage(date(2025, 2, 1), date(2025, 3, 20))  # never past today
    assert run.total() == _exact_total()


def test_429_waits_what_retry_after_says() -> None:
    fake = FakeVercel(example_rows()).then(Reply(429, b'{"error": {"code": "rate_limited"}}', {"Retry-After": "12"}))
    run = Run(fake)

    _, request = run.collect()

    assert run.waits == [12.0] and request.requests.count == 2
    assert run.total() == _exact_total()


def test_5xx_then_success() -> None:
    fake = FakeVercel(example_rows()).then(Reply(500), Reply(503))
    run = Run(fake)

    _, request = run.collect()

    assert request.requests.count == 3 and len(run.waits) == 2
    assert run.total() == _exact_total()


def test_a_failing_chunk_says_what_was_collected_and_what_is_missing() -> None:
    fake = FakeVercel(example_rows()).then(Reply(200, b""), *[Reply(502)] * 5)
    run = Run(fake)

    with pytest.raises(VercelSourceError) as err:
        run.collect(date(2025, 2, 1), date(2025, 3, 12))

    assert str(err.value) == (
        "Vercel charges 2025-03-04..2025-03-12: HTTP 502 after 5 attempts; "
        "2025-02-01..2025-03-03 collected, 2025-03-04..2025-03-12 missing"
    )


@pytest.mark.parametrize(
    ("run_kwargs", "fragment"),
    [
        ({"token": "wrong-token"}, "HTTP 403 forbidden: Not authorized"),
        ({"team_id": "team_other"}, "HTTP 403 forbidden: You don't have permission to access this team"),
    ],
)
def test_refusals_fail_the_run_without_leaking_the_token(run_kwargs: dict[str, Any], fragment: str) -> None:
    run = Run(FakeVercel(example_rows(), team_id="team_abc"), **run_kwargs)

    with pytest.raises(VercelSourceError) as err:
        run.collect()

    assert fragment in str(err.value) and "2025-03-10..2025-03-12 missing" in str(err.value)
    assert TOKEN not in str(err.value) and "wrong-token" not in str(err.value)


def test_an_error_page_without_json_still_fails_cleanly() -> None:
    run = Run(FakeVercel().then(Reply(404, b"<html>not here</html>")))
    with pytest.raises(VercelSourceError, match=r"^Vercel charges 2025-03-10..2025-03-12: HTTP 404; "):
        run.collect()


def test_no_token_is_a_clear_error() -> None:
    run = Run(FakeVercel(), token=None)
    with pytest.raises(
        VercelSourceError, match="no Vercel token: set VERCEL_TOKEN or the secret 'spendwatch/vercel-token'"
    ):
        run.collect()
    assert run.fake.requests == []


def test_an_unreadable_secret_is_a_source_error() -> None:
    run = Run(FakeVercel())
    request = run.request()

    def broken(_env: str, name: str) -> str | None:
        raise SecretError(f"cannot read secret {name!r} (or set VERCEL_TOKEN locally)")

    request.secret = broken
    with pytest.raises(VercelSourceError, match="cannot read secret"):
        collect(request, client=httpx.Client(transport=run.fake.transport(), base_url=URL))


def test_the_url_comes_from_the_environment_then_the_config_then_vercel() -> None:
    run = Run(FakeVercel(), url="https://vercel-proxy.internal/")
    request = run.request()
    assert vercel.base_url(request) == "https://vercel-proxy.internal"
    request.env = {"VERCEL_API_URL": "http://127.0.0.1:9999"}
    assert vercel.base_url(request) == "http://127.0.0.1:9999"
    request.source = Source(name="vercel", type="vercel")
    request.env = {}
    assert vercel.base_url(request) == "https://api.vercel.com"


def test_query_params_never_ask_for_the_future() -> None:
    now = datetime(2025, 3, 12, 0, 0, 5, tzinfo=UTC)
    params = query_params(date(2025, 3, 11), date(2025, 3, 12), now, None)
    assert params == {"from": "2025-03-11T00:00:00.000Z", "to": "2025-03-12T00:00:05.000Z"}
    later = now + timedelta(days=5)
    assert query_params(date(2025, 3, 11), date(2025, 3, 12), later, "t")["to"] == "2025-03-13T00:00:00.000Z"


def test_same_charges_same_keys() -> None:
    first, second = Run(FakeVercel(example_rows())), Run(FakeVercel(example_rows()), now=NOW + timedelta(hours=6))
    first.collect()
    second.collect()
    assert [i.identity for i in first.items] == [i.identity for i in second.items]


def test_a_fake_serving_every_day_answers_any_window() -> None:
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    run = Run(FakeVercel(every_day=example_day()), now=now, lookback_days=5)

    covered, _ = run.collect(None, None)

    assert covered == Coverage(date(2026, 1, 1), date(2026, 1, 5))
    day_total = sum((Decimal(str(r["BilledCost"])) for r in example_day()), Decimal(0))
    assert run.total() == day_total * 5
    assert {i.day for i in run.items} == {date(2026, 1, d) for d in range(1, 6)}


def _expected_usage() -> dict[tuple[str, str, str, str], Decimal]:
    """ConsumedQuantity of the example's Usage rows summed per day, unit and service, straight from the file."""
    sums: dict[tuple[str, str, str, str], Decimal] = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line, parse_float=Decimal)
        if row["ChargeCategory"] == "Usage":
            key = (row["ChargePeriodStart"][:10], row["ConsumedUnit"].lower(), row["ConsumedUnit"], row["ServiceName"])
            sums[key] = sums.get(key, Decimal(0)) + Decimal(row["ConsumedQuantity"])
    return sums


def test_consumed_quantities_become_usage_per_day_unit_and_service() -> None:
    run = Run(FakeVercel(example_rows()))

    _, request = run.collect()

    found = {(u.day.isoformat(), u.metric, u.unit, u.ServiceName): u.quantity for u in run.sink.used}
    assert found == _expected_usage() and len(run.sink.used) == 12  # 4 services x 3 days; the credit is no usage
    assert found[("2025-03-10", "requests", "Requests", "Edge Requests")] == Decimal(412380 + 58211)
    assert found[("2025-03-11", "hours", "Hours", "Vercel Functions")] == Decimal("6.875") + Decimal("0.451")
    assert {(u.ProviderName, u.x_tenant, u.ResourceId, u.x_source) for u in run.sink.used} == {
        ("Vercel", "", "", "vercel")
    }
    # Derived from the charges already read, and no extra request to Vercel.
    assert (run.sink.read, request.requests.count) == (22, 1)


def test_usage_keeps_to_the_asked_days_and_re_collecting_writes_the_same_keys() -> None:
    first, second = Run(FakeVercel(example_rows())), Run(FakeVercel(example_rows()), now=NOW + timedelta(hours=6))

    first.collect(FIRST, FIRST)
    second.collect(FIRST, FIRST)

    assert {u.day for u in first.sink.used} == {FIRST}
    assert [u.identity for u in first.sink.used] == [u.identity for u in second.sink.used]
