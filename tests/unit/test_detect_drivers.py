"""Drivers of a spike and first-seen values: who spent the money, and what is new."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from spendwatch.domain.aggregates import NONE_KEY, Totals
from spendwatch.domain.alerts import Driver
from spendwatch.domain.detect import (
    detect_spike,
    expected_breakdown,
    explain_spike,
    first_seen,
    rank_drivers,
    seen_values,
    value_changes,
)

D = Decimal
START = date(2026, 3, 2)


def day(ec2: str, s3: str, rds: str = "0", region_new: str = "0") -> dict[str, dict[str, Decimal]]:
    """One day's breakdown by service and region, built the way the aggregates build it."""
    totals = Totals()
    totals.add(D(ec2), {"service": "Amazon EC2", "region": "us-east-1"})
    totals.add(D(s3), {"service": "Amazon S3", "region": "us-east-1"})
    if D(rds):
        totals.add(D(rds), {"service": "Amazon RDS", "region": "eu-west-1"})
    if D(region_new):
        totals.add(D(region_new), {"service": "Amazon EC2", "region": "ap-south-1"})
    return {dim: totals.group(dim) for dim in ("service", "region")}


def test_the_service_that_jumped_leads_with_expected_actual_and_share() -> None:
    # Given four Mondays of EC2 80 + S3 20, when EC2 costs 380 on the fifth
    expected = expected_breakdown([day("80", "20")] * 4, D(100))
    actual = day("380", "21")

    drivers = rank_drivers(actual, expected)

    # Then EC2 explains (almost) all of the 301 increase; S3's +1 is under 5 % of it, and the region, the only one
    # there is, says nothing
    assert drivers == [Driver(dimension="service", key="Amazon EC2", expected=D(80), actual=D(380), share=D("0.9967"))]


def test_a_value_that_carries_the_rise_in_every_dimension_shows_in_each() -> None:
    expected = expected_breakdown([day("80", "20", rds="50")] * 4, D(150))

    drivers = rank_drivers(day("80", "20", rds="450"), expected)

    assert [(d.dimension, d.key, d.share) for d in drivers] == [
        ("region", "eu-west-1", D(1)),
        ("service", "Amazon RDS", D(1)),
    ]


def test_deltas_add_up_and_falling_values_show_as_negative_changes() -> None:
    expected = expected_breakdown([day("80", "20", rds="50")] * 3, D(150))
    actual = day("200", "20", rds="10")

    changes = {c.key: c.delta for c in value_changes(actual, expected)["service"]}

    assert changes == {"Amazon EC2": D(120), "Amazon S3": D(0), "Amazon RDS": D(-40)}
    assert sum(changes.values()) == D(230) - D(150)
    ec2 = rank_drivers(actual, expected, dimensions=["service"])[0]
    assert (ec2.key, ec2.share) == ("Amazon EC2", D("1.5"))  # more than the whole rise: RDS fell meanwhile


def test_a_dip_is_explained_by_the_values_that_fell() -> None:
    expected = expected_breakdown([day("80", "20")] * 4, D(100))

    drivers = rank_drivers(day("10", "20"), expected, dimensions=["service"])

    assert [(d.key, d.share) for d in drivers] == [("Amazon EC2", D(1))]


def test_top_n_and_the_minimum_share_cut_the_list() -> None:
    expected = {"service": {f"s{i}": D(10) for i in range(10)}}
    actual = {"service": {f"s{i}": D(10 + 10 * (i + 1)) for i in range(10)}}  # s9 +100, s0 +10 of +550

    top = rank_drivers(actual, expected, top=3)
    wide = rank_drivers(actual, expected, top=10, min_share=D("0.1"))

    assert [d.key for d in top] == ["s9", "s8", "s7"]
    assert [d.key for d in wide] == ["s9", "s8", "s7", "s6", "s5"]  # s4 is 50 / 550 = 9 %


def test_the_expected_breakdown_is_robust_to_one_odd_baseline_day_and_adds_up() -> None:
    baseline = [day("80", "20"), day("80", "20"), day("800", "20"), day("80", "20")]

    expected = expected_breakdown(baseline, D(100))

    assert expected["service"] == {"Amazon EC2": D(80), "Amazon S3": D(20)}
    assert sum(expected["region"].values()) == D(100)


def test_a_baseline_without_the_dimension_leaves_the_whole_expectation_unattributed() -> None:
    expected = expected_breakdown([{"service": {}}], D(40), dimensions=["service", "tag:team"])

    assert expected == {"service": {NONE_KEY: D(40)}, "tag:team": {NONE_KEY: D(40)}}


def test_explain_spike_uses_the_baseline_days_of_the_result() -> None:
    # Given five weeks where EC2 80 + S3 20 a day, when EC2 triples on the last day
    breakdowns = {START + timedelta(days=i): day("80", "20") for i in range(35)}
    breakdowns[START + timedelta(days=35)] = day("240", "20")
    points = [(when, sum(b["service"].values(), D(0))) for when, b in breakdowns.items()]
    result = detect_spike(points)

    drivers = explain_spike(result, breakdowns[START + timedelta(days=35)], breakdowns, dimensions=["service"])

    assert result.is_spike
    assert drivers == [Driver(dimension="service", key="Amazon EC2", expected=D(80), actual=D(240), share=D(1))]
    assert explain_spike(detect_spike(points[:2]), {}, breakdowns) == []


def test_first_seen_reports_new_values_above_the_floor_with_amounts() -> None:
    history = [day("80", "20"), day("80", "20", rds="0.40")]
    seen = seen_values(history)

    found = first_seen(seen, day("80", "20", rds="12.50", region_new="0.99"))

    # RDS cost 0.40 once before, under the $1 floor: it was never "seen", so it is new now that it costs 12.50.
    assert [(f.dimension, f.key, f.amount) for f in found] == [
        ("region", "eu-west-1", D("12.50")),
        ("service", "Amazon RDS", D("12.50")),
    ]
    assert seen == {"service": {"Amazon EC2", "Amazon S3"}, "region": {"us-east-1"}, "sku": set()}


def test_first_seen_never_reports_the_none_bucket_or_known_values() -> None:
    seen = {"region": {"us-east-1"}}
    today = {"region": {"us-east-1": D(500), NONE_KEY: D(50), "eu-west-1": D(1)}}

    assert [(f.key, f.amount) for f in first_seen(seen, today)] == [("eu-west-1", D(1))]
    assert first_seen(seen, today, floor=D("1.01")) == []
