"""Usage pushed over the API, priced by the price function from the table's stream, read back from /v1/costs.

Expected amounts are computed here from the contract's formulas with a reference written differently from the
domain's: F(q) = G(q) - G(min(q, free)), with G the tiered price of q counted from zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import pytest
from spendwatch.store import table as store_table

from tests.integration.conftest import TABLE, LambdaContext, call_api, write_config
from tests.integration.stream_tap import tapped

NOW = "2026-11-24T08:00:00+00:00"
CARDS = """
currency = "USD"

[[rate_cards]]
name = "storage"
metric = "storage_gb"
provider = "CHOM"
service = "Object storage"
basis = "level"
period = "month"
free = "50"
tiers = [{ up_to = "1000", price = "0.15" }, { price = "0.10" }]
per_tenant = true

[[rate_cards]]
name = "emails"
metric = "emails_sent"
provider = "CHOM"
service = "Email"
basis = "sum"
period = "month"
free = "1000"
tiers = [{ up_to = "10000", price = "0.001" }, { price = "0.0005" }]
per_tenant = false
"""
STORAGE = {"free": Decimal(50), "tiers": [(Decimal(1000), Decimal("0.15")), (None, Decimal("0.10"))]}
EMAILS = {"free": Decimal(1000), "tiers": [(Decimal(10000), Decimal("0.001")), (None, Decimal("0.0005"))]}
TENANTS = ("acme", "globex", "initech")
FIRST = date(2026, 10, 20)
LAST = date(2026, 11, 10)


def _tiered(quantity: Decimal, tiers: list[tuple[Decimal | None, Decimal]]) -> Decimal:
    total, below = Decimal(0), Decimal(0)
    for bound, price in tiers:
        top = quantity if bound is None else min(quantity, bound)
        total += max(top - below, Decimal(0)) * price
        below = bound if bound is not None else below
    return total


def reference_price(card: dict[str, Any], quantity: Decimal) -> Decimal:
    """F(q): the tiered price of q less the tiered price of the free units."""
    return _tiered(quantity, card["tiers"]) - _tiered(min(quantity, card["free"]), card["tiers"])


def _q10(value: Fraction) -> Decimal:
    """Round half to even at 10 places (Python's round of a Fraction is exact and rounds half to even)."""
    return Decimal(round(value * 10**10)).scaleb(-10).quantize(Decimal("1E-10"), rounding=ROUND_HALF_EVEN)


def storage_gb(tenant: str, day: date) -> Decimal:
    """A growing level per tenant, a different size each."""
    return Decimal(40 + 300 * TENANTS.index(tenant)) + Decimal("12.5") * (day - FIRST).days


def emails(tenant: str, day: date) -> Decimal:
    return Decimal(150 * (1 + TENANTS.index(tenant)) + 7 * (day - FIRST).days)


def _days(first: date = FIRST, last: date = LAST) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _month_days(day: date) -> int:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - day.replace(day=1)).days


def expected_storage(tenant: str, day: date) -> Decimal:
    """Level basis: F(q(d)) / days in the month, quantised."""
    return _q10(Fraction(reference_price(STORAGE, storage_gb(tenant, day))) / _month_days(day))


def expected_emails(day: date, pooled: dict[date, Decimal]) -> Decimal:
    """Sum basis, pooled: F(Q(d)) - F(Q(d-1)) within the month."""
    month = [d for d in sorted(pooled) if d.month == day.month and d <= day]
    through = sum((pooled[d] for d in month), Decimal(0))
    before = through - pooled[day]
    return _q10(Fraction(reference_price(EMAILS, through))) - _q10(Fraction(reference_price(EMAILS, before)))


@pytest.fixture
def priced(aws_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Cards configured, the clock pinned, and a tap on the stream."""
    write_config(aws_env, CARDS)
    with tapped(aws_env, TABLE, NOW) as env:
        yield env


def _push(key: str, records: list[dict[str, Any]]) -> None:
    for start in range(0, len(records), 500):
        status, body = call_api(
            "/v1/usage",
            method="POST",
            body={"idempotency_key": f"{key}-{start}", "records": records[start : start + 500]},
        )
        assert status == 200, body


def _record(metric: str, quantity: Decimal, day: date, tenant: str, unit: str) -> dict[str, Any]:
    return {"metric": metric, "quantity": str(quantity), "unit": unit, "day": day.isoformat(), "tenant": tenant}


def _price(env: dict[str, Any]) -> list[dict[str, Any]]:
    """Hand the price function what the stream holds for it, in batches as the mapping would; return the records."""
    from price.handler import handler

    records = env["tap"].take(store_table.PRICE)
    for start in range(0, len(records), store_table.PRICE.batch_size):
        event = {"Records": records[start : start + store_table.PRICE.batch_size]}
        assert handler(event, LambdaContext()) == {"batchItemFailures": []}
    return records


def _costs(**query: str) -> dict[str, Any]:
    status, body = call_api("/v1/costs", {"start": FIRST.isoformat(), "end": LAST.isoformat(), **query})
    assert status == 200, body
    return body


def _by(group_by: str) -> dict[tuple[str, str], Decimal]:
    """(group, day) -> amount from /v1/costs, daily."""
    body = _costs(group_by=group_by, granularity="day")
    return {(g["key"], p["period"]): Decimal(p["amount"]) for g in body["groups"] for p in g["points"]}


def _all_usage() -> list[dict[str, Any]]:
    records = []
    for day in _days():
        for tenant in TENANTS:
            records.append(_record("storage_gb", storage_gb(tenant, day), day, tenant, "GB"))
            records.append(_record("emails_sent", emails(tenant, day), day, tenant, "emails"))
    return records


def _expected() -> dict[tuple[str, str], Decimal]:
    """(service, day) -> amount, from the reference formulas."""
    pooled = {day: sum((emails(t, day) for t in TENANTS), Decimal(0)) for day in _days()}
    out: dict[tuple[str, str], Decimal] = {}
    for day in _days():
        out[("Object storage", day.isoformat())] = sum((expected_storage(t, day) for t in TENANTS), Decimal(0))
        out[("Email", day.isoformat())] = expected_emails(day, pooled)
    return out


def _cents(amounts: dict[tuple[str, str], Decimal]) -> dict[tuple[str, str], Decimal]:
    return {key: value.quantize(Decimal("0.01")) for key, value in amounts.items() if value}


def _aggregates_written(env: dict[str, Any]) -> set[str]:
    """Days whose daily aggregate was written since the last look (what evaluation would be handed)."""
    images = [record["dynamodb"]["NewImage"] for record in env["tap"].take(store_table.ALERT_EVALUATE)]
    return {image["period"]["S"] for image in images if image["item_type"]["S"] == "agg_day"}


def _runs() -> list[dict[str, Any]]:
    status, body = call_api("/v1/collections", {"limit": "100"})
    assert status == 200, body
    return [run for run in body["items"] if run["source"] == "price"]


def test_pushed_usage_is_priced_by_the_formulas_to_the_cent(priced: dict[str, Any]) -> None:
    _push("usage-all", _all_usage())
    records = _price(priced)
    assert len(records) == 2 * len(TENANTS) * len(list(_days()))

    by_service = _by("service")
    assert _cents(by_service) == _cents(_expected())
    per_tenant = _by("tenant")
    for tenant in TENANTS:
        for day in _days():
            # Storage is per tenant; the pooled email card prices with tenant "".
            assert per_tenant[(tenant, day.isoformat())].quantize(Decimal("0.01")) == expected_storage(
                tenant, day
            ).quantize(Decimal("0.01"))
    # A pooled month costs exactly F(its total).
    october = sum(emails(t, d) for t in TENANTS for d in _days(FIRST, date(2026, 10, 31)))
    billed = sum(v for (service, day), v in by_service.items() if service == "Email" and day.startswith("2026-10"))
    assert billed.quantize(Decimal("0.01")) == reference_price(EMAILS, Decimal(october)).quantize(Decimal("0.01"))


def test_pricing_the_same_usage_again_writes_nothing(priced: dict[str, Any]) -> None:
    _push("usage-all", _all_usage())
    _price(priced)
    assert _price(priced) == [], "the price function's own writes do not come back to it"
    assert _aggregates_written(priced)
    before, runs = _by("service"), len(_runs())

    # The same batches again: replays, each rewriting its records with a new collection time.
    _push("usage-all", _all_usage())
    records = _price(priced)
    assert records, "a replay rewrites the usage records"
    assert _by("service") == before
    assert len(_runs()) == runs, "nothing was written, not even a run record"
    assert _aggregates_written(priced) == set(), "no aggregate was rewritten"


def test_late_usage_reprices_its_day_and_the_rest_of_the_period(priced: dict[str, Any]) -> None:
    _push("usage-all", _all_usage())
    _price(priced)
    _aggregates_written(priced)
    late = date(2026, 10, 25)
    _push("usage-late", [_record("emails_sent", Decimal(9000), late, "acme", "emails")])
    _price(priced)

    pooled = {day: sum((emails(t, day) for t in TENANTS), Decimal(0)) for day in _days()}
    pooled[late] += 9000
    emails_now = {k: v for k, v in _by("service").items() if k[0] == "Email"}
    expected = {("Email", d.isoformat()): expected_emails(d, pooled) for d in _days()}
    assert _cents(emails_now) == _cents(expected)
    # Only that day and the later days of October were rewritten.
    rewritten_days = _aggregates_written(priced)
    assert min(rewritten_days) == late.isoformat() and max(rewritten_days) <= "2026-10-31"


def test_unknown_metrics_are_stored_not_priced_and_a_removed_card_keeps_its_charges(priced: dict[str, Any]) -> None:
    _push("usage-all", _all_usage())
    _push("orders-batch", [_record("orders", Decimal(12), LAST, "acme", "orders")])
    _price(priced)
    status, usage = call_api("/v1/usage", {"metric": "orders", "start": FIRST.isoformat(), "end": LAST.isoformat()})
    assert status == 200 and [row["quantity"] for row in usage["items"]] == ["12"]
    assert {service for service, _day in _by("service")} == {"Object storage", "Email"}
    before = _by("service")

    write_config(priced, CARDS.split('[[rate_cards]]\nname = "emails"', maxsplit=1)[0])
    _push("more-usage", [_record("emails_sent", Decimal(5), LAST, "acme", "emails")])
    _price(priced)
    assert _by("service") == before, "charges already priced are kept; new usage of the removed card is not priced"
    latest = _runs()[0]
    assert any("'emails' is no longer in the config" in note for note in latest["notes"])


def test_a_changed_card_reprices_history_when_asked(priced: dict[str, Any]) -> None:
    from price.handler import handler

    _push("usage-all", _all_usage())
    _price(priced)
    dearer = CARDS.replace('price = "0.15"', 'price = "0.30"')
    write_config(priced, dearer)
    assert _cents(_by("service")) == _cents(_expected()), "a changed card prices only what arrives next"

    handler({"reprice": {"start": FIRST.isoformat(), "end": LAST.isoformat()}}, LambdaContext())
    STORAGE["tiers"][0] = (Decimal(1000), Decimal("0.30"))
    try:
        assert _cents(_by("service")) == _cents(_expected())
    finally:
        STORAGE["tiers"][0] = (Decimal(1000), Decimal("0.15"))
    latest = _runs()[0]
    assert latest["window"] == {"start": FIRST.isoformat(), "end": LAST.isoformat()}
    assert latest["data_through"].startswith((LAST + timedelta(days=1)).isoformat())
