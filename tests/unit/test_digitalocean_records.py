"""DigitalOcean's real example rows into cost and usage items, and the rules that pick days and windows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from collect.sources.digitalocean import Segment, billing_window, month_segments, mtd_note
from collect.sources.digitalocean.records import (
    Origin,
    RowError,
    droplet_usage,
    insight_cost,
    invoice_cost,
    invoice_period,
    sku_service,
)
from tests.fakes.digitalocean import TEAM_UUID, fixture
from tests.unit.test_digitalocean_collect import make_request

NOW = datetime(2025, 2, 10, 8, tzinfo=UTC)
ORIGIN = Origin("do", NOW, f"do:team:{TEAM_UUID}")
JAN1 = date(2025, 1, 1)


def _insights() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = fixture("billing_insights_list.json")["data_points"]
    return rows


def test_insight_rows_become_day_costs_exactly() -> None:
    droplet, cluster = (insight_cost(row, ORIGIN, JAN1, JAN1) for row in _insights())

    assert (droplet.BilledCost, cluster.BilledCost) == (Decimal("0.86"), Decimal("2.57"))
    assert droplet.ProviderName == "DigitalOcean" and droplet.BillingCurrency == "USD"
    assert (droplet.ServiceName, droplet.SkuId, droplet.RegionId) == ("Droplets", "1-DO-DROP-0109", "nyc3")
    assert cluster.ServiceName == "Kubernetes Clusters"
    assert droplet.ChargeDescription == "droplet name (c-2-4GiB)"
    assert cluster.ChargeDescription == "kubernetes cluster name: 3 nodes - 4 GB / 2 vCPU / 80 GB SSD"
    assert droplet.ChargePeriodStart == datetime(2025, 1, 1, tzinfo=UTC)
    assert droplet.ChargePeriodEnd == datetime(2025, 1, 2, tzinfo=UTC)
    assert droplet.BillingAccountId == droplet.SubAccountId == f"do:team:{TEAM_UUID}"
    assert droplet.x_estimated and droplet.ResourceId == "" and droplet.EffectiveCost == droplet.BilledCost
    assert droplet.identity != cluster.identity


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"total_amount": "abc"}, "total_amount 'abc' is not an amount"),
        ({"total_amount": None}, "total_amount is missing"),
        ({"start_date": "01/01/2025"}, "is not a date"),
        ({"start_date": "2025-01-02"}, "outside the requested 2025-01-01..2025-01-01"),
    ],
)
def test_broken_insight_rows_say_why(change: dict[str, str | None], reason: str) -> None:
    with pytest.raises(RowError, match=reason):
        insight_cost({**_insights()[0], **change}, ORIGIN, JAN1, JAN1)


def test_a_data_point_that_is_not_an_object_is_a_row_error() -> None:
    with pytest.raises(RowError, match="not an object"):
        insight_cost(["0.86"], ORIGIN, JAN1, JAN1)


@pytest.mark.parametrize(
    ("sku", "service"),
    [("1-DO-DROP-0109", "Droplets"), ("1-KS-K8SWN-00109", "Kubernetes Clusters"), ("1-DO-VOL-01", "DO-VOL"), ("", "")],
)
def test_services_come_from_the_sku_family(sku: str, service: str) -> None:
    assert sku_service(sku) == service


def test_invoice_items_keep_product_resource_and_hours() -> None:
    cluster, spaces = (
        invoice_cost(row, ORIGIN, date(2020, 1, 1)) for row in fixture("invoice_items_get_byUUID.json")["invoice_items"]
    )

    assert (cluster.ServiceName, cluster.BilledCost) == ("Kubernetes Clusters", Decimal("12.34"))
    assert cluster.ResourceId == "711157cb-37c8-4817-b371-44fa3504a39c"
    assert cluster.ChargeDescription == "my-doks-cluster: a56e086a317d8410c8b4cfd1f4dc9f82"
    assert (cluster.ConsumedQuantity, cluster.ConsumedUnit) == (Decimal(744), "Hours")
    assert cluster.ChargePeriodStart == datetime(2020, 1, 1, tzinfo=UTC)
    assert cluster.ChargePeriodEnd == datetime(2020, 2, 1, tzinfo=UTC)
    assert not cluster.x_estimated
    assert (spaces.ServiceName, spaces.ResourceId, spaces.BilledCost) == ("Spaces Subscription", "", Decimal("34.45"))


def test_an_item_outside_its_invoice_month_lands_on_the_month() -> None:
    # The examples put 2020-01 items in the 2019-12 invoice: the invoice's month decides.
    item = fixture("invoice_items_get_byUUID.json")["invoice_items"][0]

    assert invoice_period(item, date(2019, 12, 1)) == (
        datetime(2019, 12, 1, tzinfo=UTC),
        datetime(2020, 1, 1, tzinfo=UTC),
    )
    inside = {**item, "start_time": "2020-01-10T00:00:00Z", "end_time": "2020-01-20T12:00:00Z"}
    assert invoice_period(inside, date(2020, 1, 1)) == (
        datetime(2020, 1, 10, tzinfo=UTC),
        datetime(2020, 1, 20, 12, tzinfo=UTC),
    )
    assert invoice_period({}, date(2020, 2, 1))[1] == datetime(2020, 3, 1, tzinfo=UTC)


def test_invoice_item_with_project_and_odd_duration() -> None:
    row = {"product": "Droplets", "amount": "-1.50", "duration": "n/a", "project_name": "web", "resource_id": "42"}
    item = invoice_cost(row, ORIGIN, date(2025, 1, 1))

    assert (item.BilledCost, item.ResourceId, item.Tags) == (Decimal("-1.50"), "42", {"project": "web"})
    assert item.ConsumedQuantity is None and item.ConsumedUnit == ""
    with pytest.raises(RowError, match="amount is missing"):
        invoice_cost({"product": "Droplets"}, ORIGIN, date(2025, 1, 1))


def test_droplets_become_inventory_and_price_usage() -> None:
    droplets = fixture("droplets_list_all.json")["droplets"]
    items = [u for d in droplets for u in droplet_usage(d, ORIGIN, date(2025, 2, 10))]

    assert len(items) == 12
    first = items[:4]
    assert [(u.metric, u.quantity, u.unit) for u in first] == [
        ("droplets", Decimal(1), "s-1vcpu-1gb"),
        ("droplet_hours", Decimal(24), "Hours"),  # created in 2020: the whole day
        ("droplet_price_hourly", Decimal("0.00743999984115362"), "USD/hour"),
        ("droplet_price_monthly", Decimal("5.0"), "USD/month"),
    ]
    assert {u.ResourceId for u in items} == {"3164444", "3164459", "3164412"}
    assert {(u.ProviderName, u.ServiceName, u.day) for u in items} == {("DigitalOcean", "Droplets", date(2025, 2, 10))}
    assert len({u.identity for u in items}) == 12
    again = [u for d in droplets for u in droplet_usage(d, ORIGIN, date(2025, 2, 10))]
    assert [u.identity for u in again] == [u.identity for u in items]


@pytest.mark.parametrize(
    ("created_at", "hours"),
    [
        ("2020-07-21T18:37:44Z", 24),  # long before the day
        ("2025-02-10T00:00:00Z", 24),  # at midnight
        ("2025-02-10T18:00:00Z", 6),  # on the hour
        ("2025-02-10T18:37:44Z", 6),  # 5 h 22 min 16 s: a started hour counts whole
        ("2025-02-10T23:59:59.5+00:00", 1),
        ("2025-02-10T19:30:00+01:00", 6),  # 18:30 UTC
        ("2025-02-11T03:00:00Z", 0),  # a clock ahead of the inventory's day
        (None, 24),  # no creation time (or an unreadable one): the whole day
        ("yesterday", 24),
    ],
)
def test_droplet_hours_run_from_creation_to_the_end_of_the_day(created_at: str | None, hours: int) -> None:
    droplet = {**fixture("droplets_list_all.json")["droplets"][0], "created_at": created_at}
    usage = {u.metric: u for u in droplet_usage(droplet, ORIGIN, date(2025, 2, 10))}

    assert (usage["droplet_hours"].quantity, usage["droplet_hours"].unit) == (Decimal(hours), "Hours")


@pytest.mark.parametrize(
    ("droplet", "reason"),
    [
        ({"name": "x"}, "no id"),
        ({"id": 1, "size": {"price_hourly": 1, "price_monthly": 1}}, "no size slug"),
        ({"id": 1, "size_slug": "s-1", "size": {"price_monthly": 5.0}}, "price_hourly is missing"),
        ("droplet", "not an object"),
    ],
)
def test_broken_droplets_say_why(droplet: object, reason: str) -> None:
    with pytest.raises(RowError, match=reason):
        droplet_usage(droplet, ORIGIN, date(2025, 2, 10))


def test_months_are_cut_at_their_boundaries() -> None:
    segments = month_segments(date(2024, 12, 30), date(2025, 3, 2))

    assert segments == [
        Segment(date(2024, 12, 1), date(2024, 12, 30), date(2024, 12, 31)),
        Segment(date(2025, 1, 1), date(2025, 1, 1), date(2025, 1, 31)),
        Segment(date(2025, 2, 1), date(2025, 2, 1), date(2025, 2, 28)),
        Segment(date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 2)),
    ]
    assert all((s.end - s.start).days < 31 for s in segments)
    assert segments[2].whole_month == (date(2025, 2, 1), date(2025, 2, 28)) and segments[2].key == "2025-02"


def test_window_defaults_to_the_lookback_and_never_passes_today() -> None:
    today = date(2025, 2, 10)

    assert billing_window(make_request(), today) == (date(2025, 2, 8), today)
    assert billing_window(make_request(lookback_days=1), today) == (today, today)
    assert billing_window(make_request(start=date(2025, 2, 1), end=date(2025, 3, 1)), today) == (
        date(2025, 2, 1),
        today,
    )
    assert billing_window(make_request(start=date(2025, 3, 1)), today) is None


def test_month_to_date_check_allows_a_days_lag_only() -> None:
    assert mtd_note(Decimal("30.00"), Decimal("28.00"), 10) is None  # two average days behind
    assert mtd_note(Decimal("11.21"), Decimal("11.21"), 1) is None
    assert mtd_note(Decimal("10.00"), Decimal("10.99"), 5) is None  # rounding of many rows
    late = mtd_note(Decimal("40.00"), Decimal("28.00"), 10)
    assert late and late.startswith("note:") and "differs" in late and "12.00" in late
    assert mtd_note(Decimal("10.00"), Decimal("12.00"), 5)  # insights above the balance: counted twice?
