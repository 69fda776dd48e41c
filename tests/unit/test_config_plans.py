"""spendwatch.toml's rate cards, limits, unit costs and allocations: the contract's shapes load, mistakes are named."""

from __future__ import annotations

from decimal import Decimal

import pytest
from spendwatch.domain.config import Budget, ConfigError, parse_config
from spendwatch.domain.plans import LimitLevel

CONTRACT = """
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

[[limits]]
name = "kv-storage"
metric = "kv_storage_mb"
limit = "30"
basis = "level"
period = "day"
scope = { tenant = "acme" }
thresholds = ["75%", "90%", "within:7d"]
plan = "KV free"
upgrade = { plan = "KV pro", price = "20.00", limit = "1000" }

[[unit_costs]]
name = "cost-per-order"
scope = { provider = "AWS" }
metric = "orders"
per_tenant = true

[[allocations]]
name = "shared-db"
scope = { provider = "AWS", service = "Amazon RDS" }
metric = "orders"
"""

CARD = """
[[rate_cards]]
name = "{name}"
metric = "{metric}"
provider = "CHOM"
service = "Object storage"
basis = "sum"
{extra}
tiers = {tiers}
"""
OPEN = '[{ price = "0.10" }]'


def card(name: str = "c", metric: str = "m", tiers: str = OPEN, extra: str = "") -> str:
    """One rate card's TOML."""
    return CARD.format(name=name, metric=metric, tiers=tiers, extra=extra)


def limit(body: str, name: str = "l") -> str:
    """One limit's TOML."""
    return f'[[limits]]\nname = "{name}"\nmetric = "m"\n{body}\n'


def test_contract_shapes_load() -> None:
    config = parse_config(CONTRACT)
    storage = config.rate_cards[0]
    assert storage.free == Decimal("50")
    assert [(t.up_to, t.price) for t in storage.tiers] == [(Decimal("1000"), Decimal("0.15")), (None, Decimal("0.10"))]
    assert storage.scope.tenant is None and storage.scope.service is None
    kv = config.limits[0]
    assert kv.limit == Decimal("30") and kv.scope.tenant == "acme" and kv.plan == "KV free"
    assert kv.upgrade is not None and kv.upgrade.price == Decimal("20.00")
    assert config.unit_costs[0].scope == {"provider": "AWS"} and config.unit_costs[0].per_tenant
    assert config.allocations[0].metric == "orders"


def test_defaults() -> None:
    config = parse_config(card(extra="") + limit('limit = "10"') + '[[unit_costs]]\nname = "u"\nmetric = "m"\n')
    rate = config.rate_cards[0]
    assert (rate.period, rate.free, rate.per_tenant) == ("month", Decimal(0), True)
    kv = config.limits[0]
    assert (kv.basis, kv.period, kv.thresholds, kv.plan, kv.upgrade) == ("level", "month", ["75%", "90%"], None, None)
    assert config.unit_costs[0].scope == {}


def test_limit_levels_are_typed_and_ordered() -> None:
    config = parse_config(limit('limit = "10"\nthresholds = ["within:30d", "95%", "120%", "80%", "within:7d"]'))
    assert config.limits[0].levels == [
        LimitLevel("80%", "warning", ratio=Decimal("0.8")),
        LimitLevel("95%", "critical", ratio=Decimal("0.95")),
        LimitLevel("120%", "critical", ratio=Decimal("1.2")),
        LimitLevel("within:7d", "warning", within_days=7),
        LimitLevel("within:30d", "warning", within_days=30),
    ]


def test_cards_on_one_metric_with_disjoint_scopes_are_fine() -> None:
    text = card("a", extra='scope = { tenant = "acme" }') + card("b", extra='scope = { tenant = "globex" }')
    text += card("c", metric="other")
    assert [c.name for c in parse_config(text).rate_cards] == ["a", "b", "c"]


def test_integers_are_exact_quantities() -> None:
    config = parse_config(card(tiers='[{ up_to = 100, price = 1 }, { price = "0.5" }]', extra="free = 10"))
    assert config.rate_cards[0].free == Decimal(10) and config.rate_cards[0].tiers[0].up_to == Decimal(100)


def test_budget_scope_check_is_unchanged() -> None:
    assert Budget(name="b", amount=Decimal(1), scope={"tag": {"team": "x"}}).scope == {"tag": {"team": "x"}}
    with pytest.raises(ValueError, match=r"scope\.tag must be a table"):
        Budget(name="b", amount=Decimal(1), scope={"tag": {"": "x"}})


@pytest.mark.parametrize(
    ("snippet", "fragments"),
    [
        # rate cards
        (card(name="Bad Name"), ["rate_cards.0.name", "pattern"]),
        (card() + card(metric="other"), ["rate_cards.1.name", "'c' is already the name of rate_cards.0"]),
        (card("a") + card("b"), ["rate_cards.1.scope", "rate_cards.0 already prices 'm' in the same scope"]),
        (
            card("a", extra='scope = { tenant = "x" }') + card("b", extra='scope = { tenant = "x" }'),
            ["rate_cards.1.scope", "same scope"],
        ),
        (card("a") + card("b", extra='scope = { service = "s" }'), ["rate_cards.1.scope", "overlapping scope"]),
        (
            card("a", extra='scope = { tenant = "x" }') + card("b", extra='scope = { service = "s" }'),
            ["rate_cards.1.scope", "overlapping scope"],
        ),
        (card(extra='scope = { region = "eu" }'), ["rate_cards.0.scope.region"]),
        (
            card(tiers='[{ up_to = "10", price = "1" }, { up_to = "10", price = "1" }, { price = "1" }]'),
            ["rate_cards.0.tiers", "tiers.1.up_to", "increasing"],
        ),
        (
            card(tiers='[{ up_to = "10", price = "1" }, { up_to = "5", price = "1" }, { price = "1" }]'),
            ["rate_cards.0.tiers", "tiers.1.up_to", "increasing"],
        ),
        (card(tiers='[{ up_to = "0", price = "1" }, { price = "1" }]'), ["tiers.0.up_to", "above zero"]),
        (
            card(tiers='[{ price = "1" }, { price = "1" }]'),
            ["rate_cards.0.tiers", "tiers.0.up_to", "only the last tier"],
        ),
        (
            card(tiers='[{ up_to = "10", price = "1" }]'),
            ["rate_cards.0.tiers", "tiers.0.up_to", "last tier has no up_to"],
        ),
        (card(tiers="[]"), ["rate_cards.0.tiers", "at least 1"]),
        (card(tiers='[{ price = "-0.15" }]'), ["rate_cards.0.tiers.0.price", "greater than or equal to 0"]),
        (card(tiers="[{ price = 0.15 }]"), ["rate_cards.0.tiers.0.price", 'write it as a string ("0.15")']),
        (card(tiers='[{ price = "abc" }]'), ["rate_cards.0.tiers.0.price"]),
        (card(tiers='[{ price = "NaN" }]'), ["rate_cards.0.tiers.0.price", "finite"]),
        (card(tiers='[{ price = "0.1234567890123456" }]'), ["rate_cards.0.tiers.0.price", "decimal places"]),
        (card(tiers='[{ price = "1", colour = "red" }]'), ["rate_cards.0.tiers.0.colour"]),
        (card(extra='free = "-1"'), ["rate_cards.0.free", "greater than or equal to 0"]),
        (card(extra="free = 1.5"), ["rate_cards.0.free", "string"]),
        (card(extra='period = "week"'), ["rate_cards.0.period"]),
        (card(extra='per_tenant = "maybe"'), ["rate_cards.0.per_tenant"]),
        (card().replace('basis = "sum"', 'basis = "max"'), ["rate_cards.0.basis"]),
        (card().replace('basis = "sum"', ""), ["rate_cards.0.basis", "Field required"]),
        (card().replace('provider = "CHOM"', 'provider = ""'), ["rate_cards.0.provider"]),
        # limits
        (limit('limit = "0"'), ["limits.0.limit", "greater than 0"]),
        (limit('limit = "-3"'), ["limits.0.limit"]),
        (limit(""), ["limits.0.limit", "Field required"]),
        (limit("limit = 30.5"), ["limits.0.limit", "string"]),
        (limit('limit = "1"\nbasis = "peak"'), ["limits.0.basis"]),
        (limit('limit = "1"\nbasis = "sum"\nperiod = "year"'), ["limits.0.period"]),
        (limit('limit = "1"\nthresholds = ["0%"]'), ["limits.0.thresholds", "above 0%"]),
        (limit('limit = "1"\nthresholds = ["eighty"]'), ["limits.0.thresholds", "'N%'"]),
        (limit('limit = "1"\nthresholds = ["within:0d"]'), ["limits.0.thresholds", "1 to 365"]),
        (limit('limit = "1"\nthresholds = ["within:366d"]'), ["limits.0.thresholds", "1 to 365"]),
        (limit('limit = "1"\nthresholds = ["75%", "75%"]'), ["limits.0.thresholds", "distinct"]),
        (limit('limit = "1"\nscope = { account = "x" }'), ["limits.0.scope.account"]),
        (limit('limit = "1"\nscope = { tenant = "" }'), ["limits.0.scope.tenant"]),
        (limit('limit = "1"\nupgrade = { plan = "pro", price = "5" }'), ["limits.0.upgrade.limit", "Field required"]),
        (limit('limit = "1"\nupgrade = { plan = "pro", price = "-5", limit = "9" }'), ["limits.0.upgrade.price"]),
        (limit('limit = "10"\nupgrade = { plan = "pro", price = "5", limit = "9" }'), ["limits.0", "upgrade.limit"]),
        (limit('limit = "1"') + limit('limit = "2"'), ["limits.1.name", "already the name of limits.0"]),
        # unit costs and allocations
        (
            '[[unit_costs]]\nname = "u"\nmetric = "m"\nscope = { colour = "red" }',
            ["unit_costs.0.scope", "unknown scope keys"],
        ),
        ('[[unit_costs]]\nname = "u"\nmetric = "m"\nscope = { provider = "" }', ["unit_costs.0.scope", "non-empty"]),
        ('[[unit_costs]]\nname = "u"', ["unit_costs.0.metric", "Field required"]),
        ('[[unit_costs]]\nname = "u"\nmetric = "m"\n' * 2, ["unit_costs.1.name", "already the name"]),
        ('[[allocations]]\nname = "A"\nmetric = "m"', ["allocations.0.name"]),
        ('[[allocations]]\nname = "a"\nmetric = "m"\nscope = { tag = { "" = "x" } }', ["allocations.0.scope", "tag"]),
        ('[[allocations]]\nname = "a"\nmetric = "m"\n' * 2, ["allocations.1.name", "already the name"]),
    ],
)
def test_mistakes_name_the_table_and_key(snippet: str, fragments: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(snippet)
    for fragment in fragments:
        assert fragment in str(err.value)
