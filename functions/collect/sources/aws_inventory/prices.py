"""On-demand prices from the AWS Price List Query API (``pricing:GetProducts``), parsed exactly (pure parts first).

Each ``PriceList`` entry is a JSON string: one product document with ``product.attributes`` and
``terms.OnDemand.<sku>.<offer>.priceDimensions.<rate>.pricePerUnit.USD``. A price is taken only when it is
unambiguous: every matching product's on-demand term has one dimension from 0 to ``Inf`` in the expected unit, and
they all agree. Anything else (no product, several prices, tiers, another unit) gives no price, and the resource is
inventoried without one: a made-up price would make up savings.

A monthly price is the hourly price x 730 hours, AWS's own monthly convention (8,760 hours a year / 12), which its
pricing pages and calculator use. Storage is priced per GB-month as served. EBS volumes are priced on their size
alone: provisioned IOPS and throughput above a type's baseline are not counted, so a saving is never overstated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

HOURS_PER_MONTH = Decimal(730)
CENT = Decimal("0.01")
PRICING_REGION = "us-east-1"  # the Price List Query API answers from us-east-1 (and two other regions)
MAX_RESULTS = 100
MAX_PAGES = 10
HOURLY, GB_MONTH = "Hrs", "GB-Mo"
Attributes = dict[str, str]


class PriceListError(ValueError):
    """A product document that cannot be read."""


def monthly(hourly: Decimal) -> Decimal:
    """A month of an hourly price: hourly x 730 (AWS's monthly convention), to the cent."""
    return (hourly * HOURS_PER_MONTH).quantize(CENT)


@dataclass(frozen=True)
class Offer:
    """One product's on-demand prices: its attributes and each price dimension's (unit, USD per unit)."""

    sku: str
    attributes: Attributes
    dimensions: tuple[tuple[str, Decimal, str, str], ...]  # (unit, USD, beginRange, endRange)

    def price(self, unit: str) -> Decimal | None:
        """The one flat price in ``unit`` (a single 0..Inf dimension), else None."""
        if len(self.dimensions) != 1:
            return None
        found_unit, usd, begin, end = self.dimensions[0]
        if found_unit != unit or begin != "0" or end != "Inf":
            return None
        return usd


def _usd(dimension: dict[str, Any], where: str) -> Decimal:
    raw = (dimension.get("pricePerUnit") or {}).get("USD")
    try:
        price = Decimal(str(raw))
    except (InvalidOperation, ValueError) as exc:
        raise PriceListError(f"{where}: pricePerUnit.USD {raw!r} is not a number") from exc
    if raw is None or not price.is_finite() or price < 0:
        raise PriceListError(f"{where}: pricePerUnit.USD {raw!r} is not a price")
    return price


def parse_offer(item: str | dict[str, Any]) -> Offer:
    """One ``PriceList`` entry (the JSON string as served, or already decoded)."""
    try:
        document = json.loads(item) if isinstance(item, str) else item
    except ValueError as exc:
        raise PriceListError("a PriceList entry is not JSON") from exc
    product = document.get("product") if isinstance(document, dict) else None
    if not isinstance(product, dict) or not isinstance(product.get("attributes"), dict):
        raise PriceListError("a PriceList entry has no product.attributes")
    sku = str(product.get("sku") or "")
    attributes = {str(k): str(v) for k, v in product["attributes"].items()}
    terms = (document.get("terms") or {}).get("OnDemand") or {}
    dimensions = []
    for offer in terms.values() if isinstance(terms, dict) else ():
        for rate, dimension in ((offer or {}).get("priceDimensions") or {}).items():
            usd = _usd(dimension, f"product {sku} rate {rate}")
            begin, end = str(dimension.get("beginRange", "0")), str(dimension.get("endRange", "Inf"))
            dimensions.append((str(dimension.get("unit", "")), usd, begin, end))
    return Offer(sku, attributes, tuple(dimensions))


@dataclass(frozen=True)
class Found:
    """A price, or why there is none."""

    price: Decimal | None
    reason: str = ""


def one_price(
    items: Iterable[str | dict[str, Any]], unit: str, select: Callable[[Attributes], bool] = lambda _: True
) -> Found:
    """The one price the products selected by ``select`` agree on, in ``unit``."""
    prices: set[Decimal] = set()
    products = 0
    for item in items:
        offer = parse_offer(item)
        if not offer.dimensions or not select(offer.attributes):
            continue  # a product with no on-demand term (reserved only) says nothing about the on-demand price
        products += 1
        price = offer.price(unit)
        if price is None:
            return Found(None, f"product {offer.sku} has no single on-demand price per {unit}")
        prices.add(price)
    if not prices:
        return Found(None, "no product matched")
    if len(prices) > 1:
        return Found(None, f"{products} products disagree: {', '.join(map(str, sorted(prices)))} USD per {unit}")
    return Found(prices.pop())


def _match(**fields: str) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": name, "Value": value} for name, value in fields.items()]


@dataclass(frozen=True)
class PriceQuery:
    """One price to look up: the GetProducts question, the unit and which of the answers count."""

    what: str
    service: str
    filters: tuple[tuple[str, str], ...]
    unit: str
    usage_suffix: str = ""

    def params(self, token: str | None = None) -> dict[str, Any]:
        """GetProducts' parameters for the first page or the one ``token`` points to."""
        params: dict[str, Any] = {
            "ServiceCode": self.service,
            "Filters": _match(**dict(self.filters)),
            "FormatVersion": "aws_v1",
            "MaxResults": MAX_RESULTS,
        }
        if token:
            params["NextToken"] = token
        return params

    def select(self, attributes: Attributes) -> bool:
        """Whether a product answers this question (the usage type, when the filters cannot say it)."""
        return not self.usage_suffix or attributes.get("usagetype", "").endswith(self.usage_suffix)


def instance_query(instance_type: str, region: str) -> PriceQuery:
    """The on-demand hourly price of a shared-tenancy Linux instance without pre-installed software."""
    filters = (
        ("instanceType", instance_type),
        ("regionCode", region),
        ("operatingSystem", "Linux"),
        ("tenancy", "Shared"),
        ("preInstalledSw", "NA"),
        ("capacitystatus", "Used"),
        ("licenseModel", "No License required"),
    )
    return PriceQuery(f"instance type {instance_type} in {region}", "AmazonEC2", filters, HOURLY)


def volume_query(volume_type: str, region: str) -> PriceQuery:
    """The GB-month price of an EBS volume type."""
    filters = (("productFamily", "Storage"), ("volumeApiName", volume_type), ("regionCode", region))
    return PriceQuery(f"EBS {volume_type} in {region}", "AmazonEC2", filters, GB_MONTH)


def idle_ip_query(region: str) -> PriceQuery:
    """The hourly price of an idle public IPv4 address (an Elastic IP associated with nothing): Amazon VPC."""
    filters = (("group", "VPCPublicIPv4Address"), ("regionCode", region))
    return PriceQuery(f"idle Elastic IP in {region}", "AmazonVPC", filters, HOURLY, "PublicIPv4:IdleAddress")


@dataclass
class PriceList:
    """Looks prices up once each; what could not be priced is remembered in ``missing`` for the run's notes."""

    pricing: Any
    found: dict[PriceQuery, Decimal | None] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def price(self, query: PriceQuery) -> Decimal | None:
        """The query's price (asked for once per run), or None with the reason kept."""
        if query not in self.found:
            self.found[query] = self._ask(query)
        return self.found[query]

    def _ask(self, query: PriceQuery) -> Decimal | None:
        try:
            found = one_price(self._items(query), query.unit, query.select)
        except (ClientError, BotoCoreError) as exc:
            found = Found(None, f"GetProducts failed ({_code(exc)})")
        except PriceListError as exc:
            found = Found(None, str(exc))
        if found.price is None:
            self.missing.append(f"{query.what}: {found.reason}")
        return found.price

    def _items(self, query: PriceQuery) -> Iterator[str]:
        token: str | None = None
        for _ in range(MAX_PAGES):
            response = self.pricing.get_products(**query.params(token))
            yield from response.get("PriceList") or []
            token = response.get("NextToken")
            if not token:
                return
        raise PriceListError(f"more than {MAX_PAGES} pages of products")


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__
