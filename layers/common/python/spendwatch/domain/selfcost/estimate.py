"""The month's volumes priced: one item per (service, what), each its volume x the list price, summed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from spendwatch.domain.config import Config
from spendwatch.domain.money import format_money
from spendwatch.domain.selfcost import footprint as fp
from spendwatch.domain.selfcost.footprint import Assumptions
from spendwatch.domain.selfcost.prices import PriceList, load_prices
from spendwatch.domain.selfcost.volumes import Month, month_of

KB_PER_GB = Decimal(1024 * 1024)
MB_PER_GB = Decimal(1024)


@dataclass(frozen=True)
class Item:
    """One line of the estimate: ``quantity`` of the price's unit at its unit price."""

    service: str
    what: str
    price_key: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def monthly(self) -> Decimal:
        """The exact monthly amount."""
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Estimate:
    """The deployment's own monthly AWS cost at list prices."""

    items: list[Item]
    prices: PriceList
    assumptions: Assumptions

    @property
    def monthly_total(self) -> Decimal:
        """The exact sum of every item."""
        return sum((item.monthly for item in self.items), Decimal(0))

    def after_free_tier(self) -> Decimal:
        """The total once each price's monthly free tier (if the account has it to spare) is taken off."""
        quantities: dict[str, Decimal] = {}
        for item in self.items:
            quantities[item.price_key] = quantities.get(item.price_key, Decimal(0)) + item.quantity
        total = Decimal(0)
        for key, quantity in quantities.items():
            price = self.prices[key]
            billable = max(Decimal(0), quantity - (price.free_per_month or 0))
            total += billable * price.unit_price
        return total

    def by_service(self) -> list[tuple[str, Decimal]]:
        """Each service's share, the largest first."""
        shares: dict[str, Decimal] = {}
        for item in self.items:
            shares[item.service] = shares.get(item.service, Decimal(0)) + item.monthly
        return sorted(shares.items(), key=lambda pair: (-pair[1], pair[0]))

    def as_json(self) -> dict[str, Any]:
        """``{currency, monthly_total, items: [{service, what, monthly}], ...}``: money as decimal strings."""
        return {
            "currency": self.prices.currency,
            "monthly_total": format_money(self.monthly_total),
            "items": [
                {
                    "service": item.service,
                    "what": item.what,
                    "monthly": format_money(item.monthly),
                    "monthly_exact": _plain(item.monthly.quantize(Decimal("0.000001"))),
                    "quantity": _plain(item.quantity.quantize(Decimal("0.000001"))),
                    "unit": self.prices[item.price_key].unit,
                    "unit_price": _plain(item.unit_price),
                }
                for item in self.items
            ],
            "by_service": [{"service": name, "monthly": format_money(amount)} for name, amount in self.by_service()],
            "monthly_total_after_free_tier": format_money(self.after_free_tier()),
            "region": self.prices.region,
            "prices_recorded": self.prices.recorded.isoformat(),
            "api_requests_per_day": self.assumptions.api_requests_per_day,
        }


def _plain(value: Decimal) -> str:
    """A decimal string without exponent notation or trailing zeros."""
    text = f"{value.normalize():f}"
    return text if text != "-0" else "0"


def _count(value: Decimal) -> str:
    """A volume for a sentence: whole numbers with thousands separators, else two decimals."""
    rounded = value.quantize(Decimal("0.01"))
    if rounded == rounded.to_integral_value():
        return f"{rounded:,.0f}"
    return f"{rounded:,.2f}"


class _Lines:
    """Collects items, each priced from the list and described with its volume and price."""

    def __init__(self, prices: PriceList) -> None:
        self.prices = prices
        self.items: list[Item] = []

    def add(self, key: str, quantity: Decimal | int, what: str) -> None:
        quantity = Decimal(quantity)
        if quantity <= 0:
            return
        price = self.prices[key]
        sentence = f"{what} at {price.describe()}"
        self.items.append(Item(price.service, sentence, key, quantity, price.unit_price))


def estimate(config: Config, assumptions: Assumptions | None = None, prices: PriceList | None = None) -> Estimate:
    """Price a month of running ``config`` (defaults: the stated assumptions and the shipped list prices)."""
    assume = assumptions or Assumptions()
    price_list = prices or load_prices()
    month = month_of(config, assume)
    lines = _Lines(price_list)
    _lambda(lines, month)
    _dynamodb(lines, month)
    _messaging(lines, month)
    _api(lines, month, config, assume)
    _observability(lines, month)
    _providers(lines, month)
    _keys_and_secrets(lines, month)
    return Estimate(lines.items, price_list, assume)


def _lambda(lines: _Lines, month: Month) -> None:
    per_function = ", ".join(f"{name} {_count(count)}" for name, count in month.invocations.items() if count)
    total = month.total_invocations
    lines.add("lambda_requests", total, f"{_count(total)} invocations a month ({per_function})")
    for name, seconds in month.seconds.items():
        memory = Decimal(fp.FUNCTION_MEMORY_MB[name]) / MB_PER_GB
        count = month.invocations[name]
        if not count:
            continue
        what = (
            f"{name}: {_count(count)} invocations x {_count(seconds / count)} s average x {_count(memory)} GB "
            f"(arm64) = {_count(seconds * memory)} GB-seconds"
        )
        lines.add("lambda_arm64_gb_seconds", seconds * memory, what)


def _dynamodb(lines: _Lines, month: Month) -> None:
    runs = ", ".join(
        f"{load.source.name} {_count(load.runs)} x {_count(load.writes_per_run)}" for load in month.sources
    )
    lines.add(
        "dynamodb_write_request_units",
        month.write_units,
        f"{_count(month.write_units)} write units a month: collection runs x units each ({runs or 'no sources'}: "
        f"charges of the lookback window at ~1 KB, aggregates at ~{fp.AGGREGATE_WRITE_UNITS} KB, run records), "
        f"and {month.alerts} alerts (assumed) x {fp.ALERT_WRITE_UNITS}",
    )
    lines.add(
        "dynamodb_read_request_units",
        month.read_units,
        f"{_count(month.read_units)} read units a month: {fp.API_READ_UNITS} an API request, "
        f"{fp.EVALUATE_READ_UNITS} an evaluation, {fp.RECOMMEND_READ_UNITS} a recommendation run, "
        f"{fp.STALENESS_READ_UNITS} an hourly staleness check",
    )
    gigabytes = month.stored_items * fp.ITEM_KB / KB_PER_GB
    kept = "a year of history" if month.sources else "no sources"
    lines.add("dynamodb_storage_gb_month", gigabytes, f"{_count(gigabytes)} GB stored after {kept} (~1 KB an item)")
    lines.add("dynamodb_pitr_gb_month", gigabytes, f"point-in-time recovery of those {_count(gigabytes)} GB")
    lines.add(
        "dynamodb_stream_reads_by_lambda",
        month.write_units,
        f"the stream's ~{_count(month.write_units)} records read by 4 Lambda triggers (free)",
    )


def _messaging(lines: _Lines, month: Month) -> None:
    messages = month.alerts + month.reports
    lines.add(
        "sns_publishes",
        messages,
        f"{month.alerts} alerts a month (assumed) and {_count(month.reports)} reports published to the alerts topic",
    )
    deliveries = messages * month.email_channels
    lines.add(
        "sns_email_deliveries", deliveries, f"{_count(messages)} messages x {month.email_channels} e-mail channels"
    )
    lines.add(
        "eventbridge_scheduled_rule_events",
        month.scheduled_events,
        f"{_count(month.scheduled_events)} scheduled events a month (collections and the hourly staleness check)",
    )
    lines.add(
        "eventbridge_scheduler_invocations",
        month.reports,
        f"{_count(month.reports)} report schedules fired a month ([reports], EventBridge Scheduler)",
    )


def _api(lines: _Lines, month: Month, config: Config, assume: Assumptions) -> None:
    requests = month.api_requests
    lines.add(
        "apigateway_rest_requests",
        requests,
        f"{assume.api_requests_per_day:,} requests a day (--api-requests-per-day) = {_count(requests)} a month",
    )
    # The dashboard signs people in through Cognito unless the config says otherwise ([api] dashboard).
    if getattr(config.api, "dashboard", "cognito") == "cognito":
        users = assume.dashboard_users
        lines.add("cognito_essentials_maus", users, f"{users} people signing in to the dashboard (assumed)")


def _observability(lines: _Lines, month: Month) -> None:
    kilobytes = month.total_invocations * fp.LOG_KB_PER_INVOCATION + month.api_requests * fp.ACCESS_LOG_KB_PER_REQUEST
    gigabytes = kilobytes / KB_PER_GB
    lines.add(
        "cloudwatch_logs_ingestion_gb",
        gigabytes,
        f"{_count(gigabytes)} GB of logs a month: ~{fp.LOG_KB_PER_INVOCATION} KB an invocation, "
        f"~{fp.ACCESS_LOG_KB_PER_REQUEST} KB an API access log line",
    )
    lines.add("cloudwatch_logs_storage_gb_month", gigabytes, "the same kept a month (retention: one month)")
    lines.add("cloudwatch_alarms", fp.ALARMS, f"{fp.ALARMS} alarms on the alert failure queue")
    metrics = month.total("metrics_requested")
    lines.add("cloudwatch_get_metric_data", metrics, f"{_count(metrics)} EC2 utilisation metrics read a month")


def _providers(lines: _Lines, month: Month) -> None:
    requests = month.total("cost_explorer_requests")
    names = ", ".join(
        f"{load.source.name} {_count(load.runs)} runs x {load.cost_explorer_requests}"
        for load in month.sources
        if load.cost_explorer_requests
    )
    lines.add("cost_explorer_api_requests", requests, f"{_count(requests)} GetCostAndUsage requests a month ({names})")
    lines.add("ec2_describe_calls", month.total("ec2_calls"), f"{_count(month.total('ec2_calls'))} EC2 listings")
    calls = month.total("price_list_calls")
    lines.add("price_list_api_requests", calls, f"{_count(calls)} GetProducts requests (EC2 inventory prices)")
    lists, gets = month.total("s3_lists"), month.total("s3_gets")
    lines.add(
        "s3_put_list_requests",
        lists + fp.S3_ACCESS_LOG_PUTS,
        f"{_count(lists)} FOCUS prefix listings and ~{fp.S3_ACCESS_LOG_PUTS} access-log objects a month",
    )
    lines.add("s3_get_requests", gets, f"{_count(gets)} FOCUS file reads a month")
    lines.add("s3_standard_gb_month", fp.S3_STORED_GB, f"~{fp.S3_STORED_GB} GB in the data and access-log buckets")


def _keys_and_secrets(lines: _Lines, month: Month) -> None:
    lines.add("kms_customer_managed_keys", fp.CUSTOMER_MANAGED_KEYS, "the alerts topic's key (alarms publish to it)")
    # SNS asks the key for a data key per publish and to decrypt it per e-mail delivery.
    requests = Decimal(month.alerts * (1 + month.email_channels))
    lines.add("kms_requests", requests, f"{_count(requests)} key requests a month (alert publishes and deliveries)")
    names = ", ".join(month.secrets)
    lines.add("secretsmanager_secrets", len(month.secrets), f"secrets read: {len(month.secrets)} ({names})")
    lines.add(
        "secretsmanager_api_calls",
        month.secret_calls,
        f"{_count(month.secret_calls)} secret reads a month (collections of sources with a token, deliveries)",
    )
