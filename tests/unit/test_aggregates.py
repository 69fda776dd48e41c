"""Pre-aggregated totals: every grouping adds up to the total, exactly, whatever the items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from spendwatch.domain.aggregates import DIMENSIONS, NONE_KEY, PeriodTotals, totals_by_day
from spendwatch.domain.models import CostItem

NOW = datetime(2026, 11, 24, tzinfo=UTC)

items = st.builds(
    lambda provider, service, region, tags, cost, day: CostItem(
        ProviderName=provider,
        ServiceName=service,
        RegionId=region,
        Tags=tags,
        BilledCost=cost,
        BillingCurrency="USD",
        ChargePeriodStart=NOW + timedelta(days=day),
        ChargePeriodEnd=NOW + timedelta(days=day, hours=1),
        x_source="s",
        x_collected_at=NOW,
    ),
    st.sampled_from(["AWS", "Microsoft", "Oracle"]),
    st.sampled_from(["EC2", "S3", ""]),
    st.sampled_from(["us-east-1", ""]),
    st.dictionaries(st.sampled_from(["team", "env"]), st.sampled_from(["a", "b", ""]), max_size=2),
    st.decimals(min_value=Decimal("-100"), max_value=Decimal("1000"), places=11, allow_nan=False),
    st.integers(min_value=0, max_value=3),
)


@given(st.lists(items, max_size=40))
def test_every_grouping_sums_to_the_total(batch: list[CostItem]) -> None:
    totals = PeriodTotals()
    for item in batch:
        totals.add(item)
    usd = totals.currencies.get("USD")
    exact = sum((i.BilledCost for i in batch), Decimal(0))
    if usd is None:
        assert not batch
        return
    assert usd.total == exact
    for dim in (*DIMENSIONS, "tag:team", "tag:nothing"):
        assert sum(usd.group(dim).values(), Decimal(0)) == exact


@given(st.lists(items, max_size=40))
def test_stored_form_round_trips_and_days_merge_to_the_whole(batch: list[CostItem]) -> None:
    whole = PeriodTotals()
    for item in batch:
        whole.add(item)
    merged = PeriodTotals()
    for day in totals_by_day(batch).values():
        merged.merge(PeriodTotals.from_attr(day.to_attr(), day.items))
    assert merged.to_attr() == whole.to_attr()
    assert merged.items == len(batch)


def test_missing_values_are_grouped_as_none() -> None:
    item = CostItem(
        ProviderName="AWS",
        BilledCost=Decimal("1.5"),
        BillingCurrency="USD",
        ChargePeriodStart=NOW,
        ChargePeriodEnd=NOW,
        x_source="s",
        x_collected_at=NOW,
    )
    totals = PeriodTotals()
    totals.add(item)
    usd = totals.currencies["USD"]
    assert usd.group("service") == {NONE_KEY: Decimal("1.5")}
    assert usd.group("tag:team") == {NONE_KEY: Decimal("1.5")}
