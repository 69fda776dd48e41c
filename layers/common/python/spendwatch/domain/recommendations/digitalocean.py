"""DigitalOcean for the recommendation engine: its provider name, currency, list prices and size families (pure).

The API serves the sizes' ``price_monthly`` and nothing else priced: volumes, snapshots and reserved IPs are
priced from DigitalOcean's published per-GB and per-IP monthly prices (``DoPrices``, which the collector prices
its inventory with). ``price_monthly`` is used as served, never worked out from the hourly price. The collector
(``collect/sources/digitalocean/resources.py``) parses the API's objects; ``stored.engine_inventory`` adapts what
it stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PROVIDER = "DigitalOcean"
CURRENCY = "USD"


@dataclass(frozen=True)
class DoPrices:
    """DigitalOcean's list prices for what its API does not price: per GiB-month and per unassigned IP-month."""

    volume_per_gb: Decimal = Decimal("0.10")
    snapshot_per_gb: Decimal = Decimal("0.06")
    reserved_ip: Decimal = Decimal("5.00")


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""


def size_family(size: dict[str, Any]) -> str:
    """The family a size belongs to: its ``description`` ("Basic", "General Purpose"...), else its slug's prefix
    with its processor suffix (``s-1vcpu-1gb-amd`` -> ``s-amd``)."""
    description = _text(size, "description")
    if description:
        return description
    parts = _text(size, "slug").split("-")
    suffix = [parts[-1]] if len(parts) > 3 else []
    return "-".join([parts[0], *suffix])
