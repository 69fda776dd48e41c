"""DigitalOcean billing rows and droplets into spendwatch's cost and usage items (pure; no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from spendwatch.domain.models import CostItem, UsageItem
from spendwatch.domain.money import MoneyError, parse_amount

PROVIDER = "DigitalOcean"
CURRENCY = "USD"  # DigitalOcean bills in USD only; every amount in its API is USD
DROPLETS = "Droplets"
# Billing insight rows carry no product name, only a SKU such as "1-DO-DROP-0109" whose middle names the
# product family. These are the families in DigitalOcean's published examples, named as invoices name them,
# so months read from insights and months read from invoices group under the same service.
SKU_FAMILIES = {
    "DO-DROP": DROPLETS,
    "KS-K8SWN": "Kubernetes Clusters",
}


class RowError(ValueError):
    """One row that cannot become an item; the run rejects it and goes on."""


@dataclass(frozen=True)
class Origin:
    """Who and when: the fields every item of one run shares."""

    source: str
    collected_at: datetime
    account_urn: str


def sku_service(sku: str) -> str:
    """The service a SKU belongs to: a known family's name, else the family code itself ('' if none)."""
    parts = sku.split("-")
    if len(parts) < 3:
        return ""
    family = f"{parts[1]}-{parts[2]}"
    return SKU_FAMILIES.get(family, family)


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return value.strip() if isinstance(value, str) else ""


def _amount(row: dict[str, Any], name: str) -> Decimal:
    raw = row.get(name)
    if raw is None or raw == "":
        raise RowError(f"{name} is missing")
    try:
        return parse_amount(raw)
    except MoneyError as exc:
        raise RowError(f"{name} {raw!r} is not an amount") from exc


def _description(row: dict[str, Any]) -> str:
    """The item's description, prefixed by its group (a cluster's name) so grouped charges stay apart."""
    description, group = _text(row, "description"), _text(row, "group_description")
    return f"{group}: {description}" if group and description else group or description


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _item(**fields: Any) -> CostItem:
    try:
        return CostItem(ProviderName=PROVIDER, BillingCurrency=CURRENCY, **fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RowError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc


def insight_cost(row: Any, origin: Origin, first: date, last: date) -> CostItem:
    """One billing insight data point (one day, SKU, region, resource) as a cost item for that day."""
    if not isinstance(row, dict):
        raise RowError("data point is not an object")
    try:
        day = date.fromisoformat(_text(row, "start_date"))
    except ValueError as exc:
        raise RowError(f"start_date {row.get('start_date')!r} is not a date") from exc
    if not first <= day <= last:
        raise RowError(f"start_date {day} is outside the requested {first}..{last}")
    amount, sku = _amount(row, "total_amount"), _text(row, "sku")
    return _item(
        BillingAccountId=origin.account_urn,
        SubAccountId=_text(row, "usage_team_urn"),
        ServiceName=sku_service(sku),
        RegionId=_text(row, "region"),
        ResourceId=_text(row, "resource_uuid") or _text(row, "resource_id"),
        SkuId=sku,
        ChargeDescription=_description(row),
        ChargePeriodStart=_midnight(day),
        ChargePeriodEnd=_midnight(day + timedelta(days=1)),
        BilledCost=amount,
        EffectiveCost=amount,
        x_source=origin.source,
        x_collected_at=origin.collected_at,
        # DigitalOcean calls these nightly estimates: the month's invoice may still differ.
        x_estimated=True,
    )


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _timestamp(row: dict[str, Any], name: str) -> datetime | None:
    text = _text(row, name)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def invoice_period(row: dict[str, Any], month: date) -> tuple[datetime, datetime]:
    """The item's own start/end when they lie inside the invoice's month, else the whole month.

    Examples show items whose times fall outside their invoice's month; the invoice's month decides where
    money lands, so the month is never read from invoices and insights both.
    """
    month_start, month_end = _midnight(month), _midnight(next_month(month))
    start, end = _timestamp(row, "start_time"), _timestamp(row, "end_time")
    if start is None or end is None or not month_start <= start < end <= month_end:
        return month_start, month_end
    return start, end


def _quantity(row: dict[str, Any]) -> Decimal | None:
    try:
        value = Decimal(_text(row, "duration"))
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def invoice_cost(row: Any, origin: Origin, month: date) -> CostItem:
    """One closed-invoice line item as a final cost item in its month."""
    if not isinstance(row, dict):
        raise RowError("invoice item is not an object")
    amount = _amount(row, "amount")
    start, end = invoice_period(row, month)
    quantity = _quantity(row)
    project = _text(row, "project_name")
    return _item(
        BillingAccountId=origin.account_urn,
        ServiceName=_text(row, "product"),
        ResourceId=_text(row, "resource_uuid") or _text(row, "resource_id"),
        ChargeDescription=_description(row),
        ChargePeriodStart=start,
        ChargePeriodEnd=end,
        BilledCost=amount,
        EffectiveCost=amount,
        ConsumedQuantity=quantity,
        ConsumedUnit=_text(row, "duration_unit") if quantity is not None else "",
        Tags={"project": project} if project else {},
        x_source=origin.source,
        x_collected_at=origin.collected_at,
    )


def droplet_hours(droplet: dict[str, Any], day: date) -> Decimal:
    """The hours a droplet is billed for on ``day`` (UTC): from midnight, or its ``created_at`` if later, to
    the day's end, a started hour counting whole (DigitalOcean bills droplets by the hour at ``price_hourly``).

    The inventory only shows droplets that exist now, so the rest of the day is counted as if it keeps
    running, as today's costs are estimates; a droplet without a readable ``created_at`` counts the whole day.
    """
    start, end = _midnight(day), _midnight(day + timedelta(days=1))
    created = _timestamp(droplet, "created_at")
    if created is not None and created > start:
        start = min(created, end)
    hours, rest = divmod(end - start, timedelta(hours=1))
    return Decimal(hours + (1 if rest else 0))


def droplet_usage(droplet: Any, origin: Origin, day: date) -> list[UsageItem]:
    """A droplet on the inventory day: one ``droplets`` item (unit = size slug), its ``droplet_hours`` that
    day and its two list prices.

    UsageItem has no free-form field, so the size rides in the unit and the droplet id in ResourceId; the
    prices are separate metrics on the same ResourceId, and summed over a day they are the fleet's burn rate.
    """
    if not isinstance(droplet, dict):
        raise RowError("droplet is not an object")
    droplet_id = droplet.get("id")
    if isinstance(droplet_id, bool) or not isinstance(droplet_id, int | str) or not str(droplet_id):
        raise RowError("droplet has no id")
    raw_size = droplet.get("size")
    size: dict[str, Any] = raw_size if isinstance(raw_size, dict) else {}
    slug = _text(droplet, "size_slug") or _text(size, "slug")
    if not slug:
        raise RowError(f"droplet {droplet_id} has no size slug")
    hourly, monthly = _amount(size, "price_hourly"), _amount(size, "price_monthly")
    common: dict[str, Any] = {
        "day": day,
        "ProviderName": PROVIDER,
        "ServiceName": DROPLETS,
        "ResourceId": str(droplet_id),
        "x_source": origin.source,
        "x_collected_at": origin.collected_at,
    }
    try:
        return [
            UsageItem(metric="droplets", quantity=Decimal(1), unit=slug, **common),
            UsageItem(metric="droplet_hours", quantity=droplet_hours(droplet, day), unit="Hours", **common),
            UsageItem(metric="droplet_price_hourly", quantity=hourly, unit="USD/hour", **common),
            UsageItem(metric="droplet_price_monthly", quantity=monthly, unit="USD/month", **common),
        ]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RowError(f"droplet {droplet_id}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
