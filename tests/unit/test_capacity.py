"""Capacity: a limit's usage series, its standing against the contract's rules, the days to the limit against a
least-squares extrapolation of the same data, and the capacity alerts proposed and resolved."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spendwatch.domain.alerts import Alert, alert_id
from spendwatch.domain.capacity import (
    Capacity,
    capacity,
    capacity_alerts,
    settled_capacity_alerts,
    usage_days,
    usage_forecast,
)
from spendwatch.domain.models import UsageItem
from spendwatch.domain.plans import Limit

COLLECTED = datetime(2026, 4, 1, tzinfo=UTC)
START = date(2026, 3, 1)
D = Decimal
Day = tuple[date, Decimal]


def item(metric: str, day: date, quantity: str, tenant: str = "", service: str = "") -> UsageItem:
    return UsageItem(
        metric=metric,
        quantity=D(quantity),
        unit="MB",
        day=day,
        x_tenant=tenant,
        ServiceName=service,
        x_source="api",
        x_collected_at=COLLECTED,
    )


def limit(**fields: object) -> Limit:
    base: dict[str, object] = {"name": "kv-storage", "metric": "kv_mb", "limit": "30"}
    return Limit.model_validate(base | fields)


def linear(days: int, start: float, slope: float, noise: float, seed: int, first: date = START) -> list[Day]:
    rng = random.Random(seed)
    values = [start + slope * i + rng.gauss(0, noise) for i in range(days)]
    return [(first + timedelta(days=i), D(f"{max(v, 0):.3f}")) for i, v in enumerate(values)]


def hand_days(series: list[tuple[date, Decimal]], target: Decimal) -> float:
    """Days after the last day until the least-squares line through the data reaches ``target``."""
    xs = list(range(len(series)))
    ys = [float(q) for _, q in series]
    slope, intercept = statistics.linear_regression(xs, ys)
    return (float(target) - (intercept + slope * xs[-1])) / slope


# ---- the usage series ----


def test_usage_days_takes_the_metric_exactly_and_the_scope_and_sums_each_day() -> None:
    day1, day2 = date(2026, 3, 1), date(2026, 3, 2)
    items = [
        item("kv_mb", day1, "1.5", tenant="acme", service="kv"),
        item("kv_mb", day1, "2.25", tenant="acme", service="kv"),
        item("kv_mb", day2, "4", tenant="acme", service="kv"),
        item("kv_mb", day2, "100", tenant="globex", service="kv"),  # other tenant
        item("kv_mb", day2, "100", tenant="acme", service="blob"),  # other service
        item("kv_mb_total", day2, "100", tenant="acme", service="kv"),  # other metric
        item("KV_MB", day2, "100", tenant="acme", service="kv"),
    ]
    scoped = limit(scope={"tenant": "acme", "service": "kv"})
    assert usage_days(scoped, items) == [(day1, D("3.75")), (day2, D("4"))]
    assert usage_days(limit(), items) == [(day1, D("3.75")), (day2, D("204"))]
    assert usage_days(limit(scope={"tenant": "globex"}), items) == [(day2, D("100"))]


# ---- used, utilisation, status ----


def flat(days: int, quantity: str, first: date = START) -> list[tuple[date, Decimal]]:
    return [(first + timedelta(days=i), D(quantity)) for i in range(days)]


@pytest.mark.parametrize(
    ("used", "status", "labels"),
    [
        ("0", "ok", []),
        ("74.99", "ok", []),
        ("75", "warning", ["75%"]),
        ("89.999", "warning", ["75%"]),
        ("90", "critical", ["75%", "90%"]),
        ("99.99", "critical", ["75%", "90%"]),
        ("100", "exceeded", ["75%", "90%", "exceeded"]),
        ("250", "exceeded", ["75%", "90%", "exceeded"]),
    ],
)
def test_level_status_follows_the_percentage_levels(used: str, status: str, labels: list[str]) -> None:
    standing = capacity(limit(limit="100"), flat(20, used), date(2026, 3, 21))
    assert standing.used == D(used)
    assert standing.utilisation == D(used) / 100
    assert standing.status == status
    assert [level.label for level in standing.levels] == labels
    assert standing.data_through == date(2026, 3, 20)


def test_a_level_limit_reads_the_latest_day_and_its_period_is_that_month() -> None:
    series = [(date(2026, 3, 30), D("10")), (date(2026, 3, 31), D("25")), (date(2026, 4, 2), D("12"))]
    standing = capacity(limit(), series, date(2026, 4, 2))
    assert (standing.used, standing.data_through) == (D("12"), date(2026, 4, 2))
    assert (standing.period, standing.period_start, standing.period_end) == (
        "2026-04",
        date(2026, 4, 1),
        date(2026, 4, 30),
    )
    # Days after today are not data yet.
    assert capacity(limit(), series, date(2026, 3, 31)).used == D("25")


def test_a_sum_limit_adds_its_period_to_date() -> None:
    series = [(date(2026, 2, 27), D("500")), *flat(10, "7.5", date(2026, 3, 1))]
    monthly = capacity(limit(basis="sum", period="month", limit="1000"), series, date(2026, 3, 15))
    assert monthly.used == D("75") and monthly.data_through == date(2026, 3, 10)
    assert (monthly.period, monthly.period_start, monthly.period_end) == (
        "2026-03",
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    daily = capacity(limit(basis="sum", period="day", limit="1000"), series, date(2026, 3, 15))
    assert daily.used == D("7.5")
    assert (daily.period, daily.period_start, daily.period_end) == ("2026-03-10", date(2026, 3, 10), date(2026, 3, 10))


def test_no_usage_is_ok_with_nothing_forecast() -> None:
    standing = capacity(limit(scope={"tenant": "acme"}, plan="KV free"), [], date(2026, 3, 15))
    assert standing.item() == {
        "name": "kv-storage",
        "metric": "kv_mb",
        "scope": {"tenant": "acme"},
        "plan": "KV free",
        "limit": D("30"),
        "used": D("0"),
        "utilisation": D("0"),
        "status": "ok",
        "growth_per_day": D("0"),
        "days_to_limit": None,
        "limit_date": None,
        "data_through": None,
    }
    assert standing.levels == ()


@settings(deadline=None, max_examples=60)
@given(
    used=st.decimals(min_value=0, max_value=2000, places=3),
    shares=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=4, unique=True),
)
def test_status_is_the_highest_percentage_reached(used: Decimal, shares: list[int]) -> None:
    lim = limit(limit="1000", thresholds=[f"{s}%" for s in shares])
    standing = capacity(lim, [(START, used)], START)
    reached = sorted(s for s in shares if used * 100 >= s * 1000)
    expected = (
        "exceeded" if used >= 1000 else "ok" if not reached else "warning" if reached[-1] == min(shares) else "critical"
    )
    assert standing.status == expected
    labels = [f"{s}%" for s in reached] + (["exceeded"] if used >= 1000 else [])
    assert [level.label for level in standing.levels] == labels


# ---- days to the limit ----


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ahead", [7, 15, 30])
def test_days_to_limit_on_noisy_linear_growth_match_a_hand_extrapolation(seed: int, ahead: int) -> None:
    # 40 days growing 0.5 MB a day with noise of one day's growth; the limit `ahead` days past the trend's last day.
    series = linear(40, start=5, slope=0.5, noise=0.5, seed=seed)
    target = D(5 + 0.5 * 39 + 0.5 * ahead).quantize(D("0.01"))
    standing = capacity(limit(limit=str(target), thresholds=["75%", "within:7d"]), series, date(2026, 4, 10))
    hand = hand_days(series, target)
    assert standing.days_to_limit is not None
    # Within 3 days up to two weeks ahead; a month ahead a slope learnt from 40 noisy days may miss by a day more.
    assert abs(standing.days_to_limit - hand) <= (3 if ahead <= 15 else 4)
    assert standing.limit_date == date(2026, 4, 9) + timedelta(days=standing.days_to_limit)
    slope = statistics.linear_regression(range(40), [float(q) for _, q in series]).slope
    assert float(standing.growth_per_day) == pytest.approx(slope, rel=0.2)
    within = "within:7d" in [level.label for level in standing.levels]
    assert within == (standing.days_to_limit <= 7)


def test_a_flat_series_never_reaches_a_limit_above_it() -> None:
    series = linear(40, start=20, slope=0, noise=0.5, seed=3)
    standing = capacity(limit(), series, date(2026, 4, 10))
    assert standing.status == "ok"
    assert (standing.days_to_limit, standing.limit_date) == (None, None)
    assert abs(standing.growth_per_day) < D("0.05")


def test_a_shrinking_series_never_reaches_it_and_shows_no_growth() -> None:
    series = linear(40, start=28, slope=-0.3, noise=0.3, seed=5)
    standing = capacity(limit(), series, date(2026, 4, 10))
    assert (standing.days_to_limit, standing.limit_date) == (None, None)
    assert standing.growth_per_day <= 0
    assert standing.growth_per_day < D("-0.1")


def test_already_exceeded_is_zero_days_on_the_last_day_of_data() -> None:
    series = linear(40, start=20, slope=0.5, noise=0.2, seed=1)
    standing = capacity(limit(thresholds=["75%", "90%", "within:7d"]), series, date(2026, 4, 20))
    assert standing.used == series[-1][1] and standing.used >= 30
    assert standing.status == "exceeded"
    assert (standing.days_to_limit, standing.limit_date) == (0, date(2026, 4, 9))
    # The exceeded level takes over from the forecast's.
    assert [level.label for level in standing.levels] == ["75%", "90%", "exceeded"]


def test_a_level_series_with_gaps_keeps_its_last_reading() -> None:
    # Reported every other day: the days between are not zero storage.
    series = linear(40, start=5, slope=0.5, noise=0.2, seed=2)[::2]
    standing = capacity(limit(limit="40"), series, date(2026, 4, 10))
    hand = hand_days(series, D(40)) * 2 - 0  # two calendar days per reading
    last_reading = series[-1][0]
    assert standing.data_through == last_reading
    assert standing.days_to_limit is not None
    assert abs(standing.days_to_limit - hand) <= 4


def test_a_daily_sum_limit_is_reached_when_a_days_total_is() -> None:
    # Commands per day growing 100 a day: 5,000 on the first day, 8,900 on the 40th.
    series = [(START + timedelta(days=i), D(5000 + 100 * i)) for i in range(40)]
    standing = capacity(limit(metric="cmds", basis="sum", period="day", limit="10000"), series, date(2026, 4, 10))
    assert standing.used == D(8900)
    assert standing.days_to_limit == 11  # 8,900 + 11 x 100 = 10,000
    assert abs(standing.growth_per_day - D(9300)) < D(50)  # the next week's mean daily total: 9,000..9,600


def test_a_monthly_sum_limit_counts_the_rest_of_the_month_then_starts_again() -> None:
    series = flat(25, "10", date(2026, 4, 1))  # 10 a day through 25 April: 250 so far
    at_month_end = capacity(limit(basis="sum", period="month", limit="300"), series, date(2026, 4, 26))
    assert (at_month_end.used, at_month_end.days_to_limit) == (D(250), 5)  # 30 April brings it to 300
    assert at_month_end.limit_date == date(2026, 4, 30)
    assert at_month_end.growth_per_day == D(10)
    # April ends at 300 < 305; May starts from zero and reaches 305 only on its 31st day (310).
    next_month = capacity(limit(basis="sum", period="month", limit="305"), series, date(2026, 4, 26))
    assert next_month.limit_date == date(2026, 5, 31)
    assert next_month.days_to_limit == 36
    never = capacity(limit(basis="sum", period="month", limit="311"), series, date(2026, 4, 26))
    assert never.days_to_limit is None


def test_usage_forecast_starts_today_with_intervals_around_the_trend() -> None:
    today = date(2026, 4, 10)
    constant = usage_forecast(flat(40, "12.5"), today, 5)
    assert [p.day for p in constant] == [today + timedelta(days=i) for i in range(5)]
    assert all(p.quantity == D("12.5") for p in constant)
    growing = usage_forecast(linear(40, 5, 0.5, 0.3, seed=4), today, 30)
    assert len(growing) == 30
    assert all(p.lower <= p.quantity <= p.upper for p in growing)
    # The last point is the trend 30 days on: 5 + 0.5 x 69 = 39.5, give or take the noise's effect on the slope.
    assert abs(growing[-1].quantity - D("39.5")) < D("2")


# ---- capacity alerts ----


def near(thresholds: list[str], used_last: str) -> Capacity:
    # Growing 0.5 MB a day to about 28 MB on the 40th day, whose reading is ``used_last``.
    series = [*linear(39, start=8.5, slope=0.5, noise=0.1, seed=0), (date(2026, 4, 9), D(used_last))]
    return capacity(limit(thresholds=thresholds, plan="KV free"), series, date(2026, 4, 10))


def test_one_alert_per_level_reached_with_the_contracts_severities() -> None:
    standing = near(["75%", "90%", "within:7d"], "28")
    assert standing.days_to_limit is not None and standing.days_to_limit <= 7
    alerts = {a.level: a for a in capacity_alerts(standing)}
    assert {k: a.severity for k, a in alerts.items()} == {"75%": "warning", "90%": "critical", "within:7d": "warning"}
    assert all(
        a.kind == "capacity" and a.period == "2026-04" and a.rule == "capacity:kv-storage" for a in alerts.values()
    )
    assert alerts["90%"].threshold == D("27.0")
    assert alerts["75%"].actual == D(28)
    for text in ("28 of 30 kv_mb", "93.3%", "KV free"):
        assert text in alerts["90%"].message
    assert standing.limit_date is not None
    assert standing.limit_date.isoformat() in alerts["within:7d"].title
    assert standing.limit_date.isoformat() in alerts["within:7d"].message


def test_exceeded_is_its_own_critical_alert() -> None:
    alerts = {a.level: a for a in capacity_alerts(near(["75%"], "31.5"))}
    assert set(alerts) == {"75%", "exceeded"}
    assert alerts["exceeded"].severity == "critical"
    assert alerts["exceeded"].threshold == D(30)
    assert "31.5 of 30 kv_mb" in alerts["exceeded"].message


def test_proposals_build_alerts_with_distinct_stable_ids() -> None:
    now = datetime(2026, 4, 10, 6, tzinfo=UTC)
    proposals = capacity_alerts(near(["75%", "90%", "within:7d"], "31"))
    alerts = [
        Alert(id=alert_id(p.rule, p.scope, p.period, p.level), created_at=now, updated_at=now, **p.fields())
        for p in proposals
    ]
    assert len({a.id for a in alerts}) == len(alerts) == 3  # 75%, 90%, exceeded (the forecast level gives way)
    again = capacity_alerts(near(["75%", "90%", "within:7d"], "31"))
    assert [alert_id(p.rule, p.scope, p.period, p.level) for p in again] == [a.id for a in alerts]


@dataclass(frozen=True)
class Stored:
    id: str
    period: str
    level: str
    kind: str = "capacity"
    rule: str = "capacity:kv-storage"
    status: str = "open"


def test_alerts_resolve_when_usage_falls_back_or_the_period_ends() -> None:
    standing = near(["75%", "90%"], "24")  # 80 %: only 75% holds
    stored = [
        Stored("keep", "2026-04", "75%"),
        Stored("fell-back", "2026-04", "90%"),
        Stored("exceeded-before", "2026-04", "exceeded"),
        Stored("last-month", "2026-03", "75%"),
        Stored("gone-threshold", "2026-04", "within:7d"),
        Stored("already", "2026-03", "90%", status="resolved"),
        Stored("other-limit", "2026-03", "90%", rule="capacity:other"),
        Stored("budget", "2026-03", "90%", kind="budget"),
    ]
    assert settled_capacity_alerts(standing, stored) == ["fell-back", "exceeded-before", "last-month", "gone-threshold"]
