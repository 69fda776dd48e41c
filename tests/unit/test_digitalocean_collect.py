"""The DigitalOcean collector against the local fake API: paging, retries, errors, and where each day comes from."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.config import Config, Source
from spendwatch.platform.secrets import SecretError
from spendwatch.store.writer import CostWriter, UsageWriter

from collect.sources import digitalocean
from collect.sources.base import CollectRequest, Coverage, RequestCounter, Sink, SourceError
from tests.fakes.digitalocean import FakeDigitalOcean, fixture, spread_insights
from tests.fakes.sinks import MemoryStore

NOW = datetime(2025, 2, 10, 8, tzinfo=UTC)  # January 2025 (the fixture's insights) is a closed month
JAN1 = date(2025, 1, 1)
TOO_MANY = fixture("error_too_many_requests_429.json")
FIXTURE_DROPLETS = 3
# With ``inventory`` on (the default): sizes, volumes, reserved IPs and snapshots (one page each of the fixtures),
# then cpu, memory_total and memory_available for each droplet.
INVENTORY_REQUESTS = 4 + 3 * FIXTURE_DROPLETS
# Per droplet: inventory, hours and two prices; and from the fixture metrics (all in one day) that day's CPU
# average and peak and memory average.
DROPLET_USAGE = 4 * FIXTURE_DROPLETS
UTILISATION_USAGE = 3 * FIXTURE_DROPLETS


def make_request(
    *,
    url: str = "http://127.0.0.1:9",
    token: str | None = "fake-do-token-0123456789",
    start: date | None = None,
    end: date | None = None,
    now: datetime = NOW,
    lookback_days: int = 3,
) -> CollectRequest:
    """A request for a ``digitalocean`` source named ``do``, writing to memory."""
    source = Source(name="do", type="digitalocean", lookback_days=lookback_days)
    store: Any = MemoryStore()
    sink = Sink(CostWriter(store, "do"), UsageWriter(store))
    return CollectRequest(
        source,
        Config(sources=[source]),
        sink,
        RequestCounter(),
        now,
        start,
        end,
        env={"DIGITALOCEAN_API_URL": url},
        secret=lambda _env, _name: token,
    )


@dataclass
class Result:
    """What a run produced."""

    coverage: Coverage
    request: CollectRequest
    sleeps: list[float] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        store: Any = self.request.sink.costs.store
        records: list[dict[str, Any]] = store.records
        return records

    @property
    def costs(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["item_type"] == "cost"]

    @property
    def usage(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["item_type"] == "usage"]

    def by(self, name: str) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for record in self.costs:
            sums[record[name]] += record["BilledCost"]
        return dict(sums)


def run(fake: FakeDigitalOcean, clock: float = 0.0, **kwargs: Any) -> Result:
    """Collect from ``fake``; sleeps are recorded, never slept."""
    request = make_request(url=fake.url, token=fake.token, **kwargs)
    sleeps: list[float] = []
    coverage = digitalocean.collect(request, sleep=sleeps.append, clock=lambda: clock)
    request.sink.costs.flush()
    request.sink.usage.flush()
    return Result(coverage, request, sleeps)


@pytest.fixture
def fake() -> Iterator[FakeDigitalOcean]:
    """The fixture data served on a free local port."""
    with FakeDigitalOcean.from_fixtures() as served:
        yield served


# -- the happy path -------------------------------------------------------------------------------------


def test_fixture_insights_are_collected_to_the_cent(fake: FakeDigitalOcean) -> None:
    result = run(fake, start=JAN1, end=JAN1)

    assert result.coverage == Coverage(JAN1, JAN1)
    assert result.by("ServiceName") == {"Droplets": Decimal("0.86"), "Kubernetes Clusters": Decimal("2.57")}
    assert {r["day"] for r in result.costs} == {"2025-01-01"}
    assert len(result.usage) == DROPLET_USAGE + UTILISATION_USAGE
    assert result.request.sink.rejected == 0
    assert result.request.sink.data_through == datetime(2025, 1, 2, tzinfo=UTC)
    insights = fake.seen("/v2/billing")
    assert (
        insights[0].path
        == "/v2/billing/do%3Ateam%3A12345678-1234-1234-1234-123456789012/insights/2025-01-01/2025-01-01"
    )
    assert insights[0].query == {"per_page": "200", "page": "1"}


def test_a_default_run_in_mid_month_makes_three_requests(fake: FakeDigitalOcean) -> None:
    fake.insights = spread_insights(fake.insights, date(2025, 1, 18), date(2025, 1, 20))

    result = run(fake, now=datetime(2025, 1, 20, 6, tzinfo=UTC))

    assert result.coverage == Coverage(date(2025, 1, 18), date(2025, 1, 20))
    # account, one insights page, one droplets page, then the inventory
    assert result.request.requests.count == 3 + INVENTORY_REQUESTS
    assert [s.path for s in fake.requests][0:3:2] == ["/v2/account", "/v2/droplets"]
    assert sum(result.by("ServiceName").values()) == Decimal("10.29")


def test_a_run_reading_the_whole_month_so_far_checks_the_balance(fake: FakeDigitalOcean) -> None:
    fake.insights = spread_insights(fake.insights, date(2025, 1, 1), date(2025, 1, 3))
    fake.balance = {**fake.balance, "month_to_date_usage": "11.21"}  # 10.29 read: within a day's lag

    result = run(fake, now=datetime(2025, 1, 3, 6, tzinfo=UTC))

    assert result.request.requests.count == 4 + INVENTORY_REQUESTS  # + GET balance
    assert result.request.sink.first_rejection is None
    assert sum(result.by("ServiceName").values()) == Decimal("10.29")


def test_a_balance_far_from_the_insights_leaves_a_note_not_a_cost(
    fake: FakeDigitalOcean, caplog: pytest.LogCaptureFixture
) -> None:
    fake.insights = spread_insights(fake.insights, date(2025, 1, 1), date(2025, 1, 3))
    fake.balance = {**fake.balance, "month_to_date_usage": "25.00"}

    result = run(fake, now=datetime(2025, 1, 3, 6, tzinfo=UTC))

    sink = result.request.sink
    assert sink.first_rejection and sink.first_rejection.startswith("note: DigitalOcean month-to-date usage 25.00")
    assert sink.rejected == 0
    assert sum(result.by("ServiceName").values()) == Decimal("10.29")
    assert any(r.message == "digitalocean_mtd_mismatch" for r in caplog.records)


def test_a_balance_that_cannot_be_read_only_skips_the_check(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/customers/my/balance", 404, {"id": "not_found", "message": "no balance"})

    result = run(fake, now=datetime(2025, 1, 1, 6, tzinfo=UTC), lookback_days=1)

    assert result.coverage == Coverage(JAN1, JAN1)
    assert len(fake.seen("/v2/customers/my/balance")) == 1
    assert result.request.sink.first_rejection is None and result.request.sink.rejected == 0


# -- paging -----------------------------------------------------------------------------------------------


def test_insights_follow_total_pages(fake: FakeDigitalOcean) -> None:
    fake.insights = spread_insights(fake.insights, date(2025, 1, 1), date(2025, 1, 3))
    fake.max_per_page = 4

    result = run(fake, start=JAN1, end=date(2025, 1, 3))

    assert [s.query["page"] for s in fake.seen("/v2/billing")] == ["1", "2"]
    assert len(result.costs) == 6
    assert sum(result.by("ServiceName").values()) == Decimal("10.29")


def test_droplets_and_invoice_items_follow_links_next(fake: FakeDigitalOcean) -> None:
    fake.max_per_page = 1
    fake.insights = []
    fake.invoices = [{"invoice_uuid": "jan", "invoice_id": "1", "amount": "46.79", "invoice_period": "2025-01"}]
    fake.invoice_items = {"jan": fixture("invoice_items_get_byUUID.json")["invoice_items"]}

    result = run(fake, start=JAN1, end=date(2025, 1, 31))

    assert [s.query["page"] for s in fake.seen("/v2/droplets")] == ["1", "2", "3"]
    assert [s.query["page"] for s in fake.seen("/v2/customers/my/invoices/jan")] == ["1", "2"]
    assert [s.query["page"] for s in fake.seen("/v2/snapshots")] == ["1", "2"]
    assert len(result.usage) == DROPLET_USAGE + UTILISATION_USAGE
    assert result.by("ServiceName") == {
        "Kubernetes Clusters": Decimal("12.34"),
        "Spaces Subscription": Decimal("34.45"),
    }


def test_a_page_that_repeats_itself_fails_instead_of_looping(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/billing", 200, {"data_points": [], "total_items": 9, "total_pages": 3, "current_page": 1}, times=3)

    with pytest.raises(SourceError, match="is empty"):
        run(fake, start=JAN1, end=JAN1)


# -- rate limits and retries ------------------------------------------------------------------------------


def test_429_waits_what_retry_after_says_then_succeeds(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/billing", 429, TOO_MANY, {"retry-after": "7", "ratelimit-remaining": "0"})

    result = run(fake, start=JAN1, end=JAN1)

    assert result.sleeps == [7.0]
    assert result.request.requests.count == 4 + INVENTORY_REQUESTS  # the retried request counts twice
    assert sum(result.by("ServiceName").values()) == Decimal("3.43")


def test_a_5xx_is_retried_then_succeeds(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/droplets", 503, b"<html>upstream unavailable</html>", times=2)

    result = run(fake, start=JAN1, end=JAN1)

    assert len(result.usage) == DROPLET_USAGE + UTILISATION_USAGE
    assert len(fake.seen("/v2/droplets")) == 3
    assert result.request.requests.count == 5 + INVENTORY_REQUESTS
    assert all(0 < s <= 20 for s in result.sleeps)


def test_5xx_that_never_ends_fails_after_five_attempts(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/billing", 502, b"bad gateway", times=99)

    with pytest.raises(SourceError, match=r"billing insights 2025-01-01..2025-01-01 page 1: HTTP 502") as err:
        run(fake, start=JAN1, end=JAN1)

    assert len(fake.seen("/v2/billing")) == 5
    assert "not read: the rest of billing 2025-01-01..2025-01-01 and the droplet inventory" in str(err.value)


def test_a_retry_after_longer_than_a_run_can_wait_fails_now(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/account", 429, TOO_MANY, {"retry-after": "3600"})

    with pytest.raises(SourceError, match=r"account: HTTP 429 .*too_many_requests.*nothing was read"):
        run(fake)

    assert len(fake.requests) == 1


def test_low_allowance_slows_the_run_down(fake: FakeDigitalOcean) -> None:
    fake.ratelimit_remaining, fake.ratelimit_reset = 5, 1_000

    result = run(fake, clock=996.0, start=JAN1, end=JAN1)

    # before every request after the first: until the oldest request expires
    assert result.sleeps == [4.0] * (2 + INVENTORY_REQUESTS)
    assert result.request.requests.count == 3 + INVENTORY_REQUESTS


def test_waiting_beyond_the_runs_budget_is_an_error(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/billing", 429, TOO_MANY, {"retry-after": "50"}, times=9)

    with pytest.raises(SourceError, match="rate limited: would wait 50s more after 150s"):
        run(fake, start=JAN1, end=JAN1)


# -- errors -----------------------------------------------------------------------------------------------


def test_a_404_error_body_is_a_source_error(fake: FakeDigitalOcean) -> None:
    fake.team_uuid = "someone-else"  # the account's URN no longer matches what insights are served for
    fake.fail("/v2/account", 200, {"account": {"uuid": "u", "team": {"uuid": "unknown-team"}}})

    with pytest.raises(SourceError, match=r"HTTP 404 \(not_found: The resource you were accessing"):
        run(fake, start=JAN1, end=JAN1)


def test_an_unknown_invoice_is_a_source_error(fake: FakeDigitalOcean) -> None:
    fake.insights = []
    fake.invoices = [{"invoice_uuid": "gone", "invoice_period": "2025-01", "amount": "1.00"}]

    with pytest.raises(SourceError, match="invoice gone page 1: HTTP 404") as err:
        run(fake, start=JAN1, end=date(2025, 1, 31))

    assert "read before the failure: billing insights 2025-01-01..2025-01-31 (0 rows)" in str(err.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "has no 'data_points'"),
        ({"total_items": 0}, "has no 'data_points'"),
        ({"data_points": "none", "total_pages": 1}, "data_points is not a list"),
        ({"data_points": [], "total_pages": "1"}, "total_pages is '1', not a number"),
        ({"data_points": [], "total_pages": 2, "current_page": 2}, "asked for page 1, got current_page 2"),
    ],
)
def test_malformed_insight_bodies_are_source_errors(fake: FakeDigitalOcean, body: Any, reason: str) -> None:
    fake.fail("/v2/billing", 200, body)

    with pytest.raises(SourceError, match=reason):
        run(fake, start=JAN1, end=JAN1)


def test_malformed_rows_are_rejected_and_the_rest_kept(fake: FakeDigitalOcean) -> None:
    fake.insights = [*fake.insights, {**fake.insights[0], "total_amount": "n/a"}]
    fake.droplets = [*fake.droplets, {"id": 7, "name": "no size"}]

    result = run(fake, start=JAN1, end=JAN1)

    sink = result.request.sink
    assert sink.rejected == 3  # the row, the droplet's usage, the droplet in the inventory (whose droplets stay out)
    assert sink.first_rejection == "billing insights 2025-01-01..2025-01-01 row 3: total_amount 'n/a' is not an amount"
    assert sum(result.by("ServiceName").values()) == Decimal("3.43")
    assert len(result.usage) == DROPLET_USAGE + UTILISATION_USAGE + 3  # the fourth droplet still has metrics
    assert sink.inventory is not None and sink.inventory.droplets is None
    assert result.coverage == Coverage(JAN1, JAN1)


def test_a_broken_inventory_is_a_rejection_and_billing_still_counts(fake: FakeDigitalOcean) -> None:
    fake.fail("/v2/droplets", 200, b"<html>")

    result = run(fake, start=JAN1, end=JAN1)

    assert result.coverage == Coverage(JAN1, JAN1)
    assert result.request.sink.rejected == 1
    assert result.request.sink.first_rejection == (
        "droplets: inventory incomplete after 0 droplets: droplets page 1: the answer is not valid JSON"
    )


def test_the_token_never_reaches_errors_or_logs(fake: FakeDigitalOcean, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail("/v2/account", 403, {"id": "forbidden", "message": f"token {fake.token} lacks billing:read"})

    with pytest.raises(SourceError) as err:
        run(fake)

    assert fake.requests[0].authorization == f"Bearer {fake.token}"
    assert str(err.value) == "account: HTTP 403 Forbidden (forbidden: token *** lacks billing:read); nothing was read"
    assert caplog.records  # azure-core's HTTP logging ran, with the Authorization header redacted
    assert all(fake.token not in str(record.__dict__) for record in caplog.records)


def test_a_wrong_token_is_a_source_error(fake: FakeDigitalOcean) -> None:
    request = make_request(url=fake.url, token="wrong")

    with pytest.raises(SourceError, match=r"account: HTTP 401 Unauthorized \(unauthorized: Unable to authenticate"):
        digitalocean.collect(request, sleep=lambda _s: None)


def test_no_token_or_an_unreadable_secret_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="no DigitalOcean token: set DIGITALOCEAN_TOKEN"):
        digitalocean.collect(make_request(token=None))

    def broken(_env: str, name: str) -> str:
        raise SecretError(f"cannot read secret {name!r}")

    request = make_request()
    request.secret = broken
    with pytest.raises(SourceError, match="cannot read secret 'spendwatch/digitalocean-token'"):
        digitalocean.collect(request)


def test_plain_http_to_another_host_is_refused_before_any_request() -> None:
    with pytest.raises(SourceError, match="plain http is only allowed to this machine"):
        digitalocean.collect(make_request(url="http://api.example.com"))


def test_the_api_url_comes_from_the_env_then_the_source() -> None:
    request = make_request()
    assert digitalocean.api_url(request) == "http://127.0.0.1:9"
    request.env = {}
    assert digitalocean.api_url(request) == "https://api.digitalocean.com"
    request.source = request.source.model_copy(update={"url": "https://do.example.com/"})
    assert digitalocean.api_url(request) == "https://do.example.com/"


# -- which source each day comes from ----------------------------------------------------------------------


def _days_by_origin(result: Result) -> dict[str, set[str]]:
    origin: dict[str, set[str]] = defaultdict(set)
    for record in result.costs:
        origin[record["day"]].add("insights" if record["x_estimated"] else "invoice")
    return origin


def test_a_closed_month_without_insights_comes_from_its_invoice_and_no_day_twice(fake: FakeDigitalOcean) -> None:
    fake.insights = spread_insights(fake.insights, date(2025, 2, 1), date(2025, 2, 28))
    fake.invoices = [
        {"invoice_uuid": "feb", "invoice_period": "2025-02", "amount": "96.04"},
        {"invoice_uuid": "jan", "invoice_period": "2025-01", "amount": "46.79"},
    ]
    items = fixture("invoice_items_get_byUUID.json")["invoice_items"]
    fake.invoice_items = {
        "jan": [{**i, "start_time": "2025-01-01T00:00:00Z", "end_time": "2025-02-01T00:00:00Z"} for i in items],
        "feb": items,
    }

    result = run(fake, now=datetime(2025, 3, 10, tzinfo=UTC), start=JAN1, end=date(2025, 2, 28))

    assert result.coverage == Coverage(JAN1, date(2025, 2, 28))
    assert fake.seen("/v2/customers/my/invoices/feb") == []  # February is read from insights only
    origins = _days_by_origin(result)
    assert origins.pop("2025-01-01") == {"invoice"}
    assert all(days == {"insights"} and day.startswith("2025-02") for day, days in origins.items())
    assert sum(result.by("ServiceName").values()) == Decimal("46.79") + 28 * Decimal("3.43")


def test_an_empty_part_of_a_month_with_insights_is_zero_not_an_invoice(fake: FakeDigitalOcean) -> None:
    fake.insights = spread_insights(fake.insights, date(2025, 1, 2), date(2025, 1, 10))
    fake.invoices = [{"invoice_uuid": "jan", "invoice_period": "2025-01", "amount": "46.79"}]

    result = run(fake, start=date(2025, 1, 15), end=date(2025, 1, 31))

    assert result.coverage == Coverage(date(2025, 1, 15), date(2025, 1, 31))
    assert result.costs == []
    probe = fake.seen("/v2/billing")[1]
    assert probe.path.endswith("/insights/2025-01-01/2025-01-31") and probe.query["per_page"] == "1"
    assert fake.seen("/v2/customers/my/invoices") == []


def test_part_of_a_month_insights_do_not_reach_takes_the_whole_invoice_month(fake: FakeDigitalOcean) -> None:
    fake.insights = spread_insights(fake.insights, date(2025, 2, 1), date(2025, 2, 5))
    fake.invoices = [{"invoice_uuid": "jan", "invoice_period": "2025-01", "amount": "46.79"}]
    fake.invoice_items = {"jan": fixture("invoice_items_get_byUUID.json")["invoice_items"]}

    result = run(fake, start=date(2025, 1, 20), end=date(2025, 2, 5))

    assert result.coverage == Coverage(JAN1, date(2025, 2, 5))  # widened: the invoice is the whole month
    origins = _days_by_origin(result)
    assert origins["2025-01-01"] == {"invoice"}  # the example's 2020 items land on their invoice's month
    assert sum(result.by("ServiceName").values()) == Decimal("46.79") + 5 * Decimal("3.43")


def test_the_current_month_never_comes_from_an_invoice(fake: FakeDigitalOcean) -> None:
    fake.insights = []
    fake.invoices = [{"invoice_uuid": "feb", "invoice_period": "2025-02", "amount": "1.00"}]

    result = run(fake, start=date(2025, 2, 1), end=date(2025, 2, 10))

    assert result.coverage == Coverage(date(2025, 2, 1), date(2025, 2, 10))
    assert result.costs == [] and fake.seen("/v2/customers/my/invoices") == []


def test_a_closed_month_known_to_neither_costs_nothing(fake: FakeDigitalOcean) -> None:
    fake.insights = []

    result = run(fake, start=date(2024, 12, 1), end=date(2024, 12, 31))

    assert result.coverage == Coverage(date(2024, 12, 1), date(2024, 12, 31))
    assert result.costs == []
    assert len(fake.seen("/v2/customers/my/invoices")) == 1  # the list was read; no item pages


def test_a_window_in_the_future_reads_only_the_inventory(fake: FakeDigitalOcean) -> None:
    result = run(fake, start=date(2025, 3, 1), end=date(2025, 3, 31))

    assert result.coverage == Coverage(None, None)
    assert fake.seen("/v2/billing") == [] and len(result.usage) == DROPLET_USAGE + UTILISATION_USAGE
