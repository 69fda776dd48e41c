"""DigitalOcean through pydo: day-level billing insights, closed invoices for older months, droplet inventory,
and (``inventory = true``) sizes, volumes, reserved IPs, snapshots and droplet utilisation.

Which source a day comes from (never both):
- a day of the current month, or of a month billing insights hold any row for, comes from insights;
- a closed month (before the current one) for which insights hold no row at all comes from its invoice,
  and then the whole month is read and covered, since invoice items are not day-level.
The month-to-date balance is a check only; it is never written as cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any

from spendwatch.domain.money import ZERO, MoneyError, parse_amount
from spendwatch.platform.observability import logger
from spendwatch.platform.secrets import SecretError

from collect.sources.base import CollectRequest, Coverage, Sink, SourceError
from collect.sources.digitalocean.api import DigitalOceanError, DoApi
from collect.sources.digitalocean.inventory import UTILISATION_DEADLINE, InventoryReader
from collect.sources.digitalocean.records import Origin, RowError, droplet_usage, insight_cost, invoice_cost, next_month
from collect.sources.digitalocean.transport import DEFAULT_API_URL, TransportSetupError, build_client

ENV_API_URL = "DIGITALOCEAN_API_URL"
ENV_TOKEN = "DIGITALOCEAN_TOKEN"  # noqa: S105 - the name of the variable, not a token
# Insights trail by about a day and the balance counts today so far: allow two average days of drift.
MTD_MIN_TOLERANCE = Decimal("1.00")
MTD_LAG_DAYS = 2


@dataclass(frozen=True)
class Segment:
    """The part of one calendar month inside the window (billing insights take at most 31 days per call)."""

    month: date
    start: date
    end: date

    @property
    def key(self) -> str:
        """``YYYY-MM``, as invoices name their period."""
        return self.month.strftime("%Y-%m")

    @property
    def whole_month(self) -> tuple[date, date]:
        """First and last day of the segment's month."""
        return self.month, next_month(self.month) - timedelta(days=1)


def month_segments(start: date, end: date) -> list[Segment]:
    """[start, end] cut at month boundaries."""
    segments = []
    day = start
    while day <= end:
        month = day.replace(day=1)
        last = min(end, next_month(month) - timedelta(days=1))
        segments.append(Segment(month, day, last))
        day = last + timedelta(days=1)
    return segments


def billing_window(request: CollectRequest, today: date) -> tuple[date, date] | None:
    """request.start..end, else the trailing ``lookback_days`` up to today; never past today (UTC)."""
    end = min(request.end or today, today)
    start = request.start or today - timedelta(days=request.source.lookback_days - 1)
    return (start, end) if start <= end else None


def mtd_note(month_to_date: Decimal, insights_total: Decimal, days_read: int) -> str | None:
    """Why the balance and the insights disagree, or None when they agree within the expected drift."""
    daily = insights_total / days_read if days_read else ZERO
    allowance = max(MTD_MIN_TOLERANCE, daily * MTD_LAG_DAYS)
    difference = month_to_date - insights_total
    if -MTD_MIN_TOLERANCE <= difference <= allowance:
        return None
    return (
        f"note: DigitalOcean month-to-date usage {month_to_date} differs from this month's billing insights "
        f"{insights_total} by {difference} (more than the {allowance:.2f} a day's lag explains); not written as cost"
    )


@dataclass
class BillingReader:
    """Reads one window of billing into the sink and remembers what it has read, for error messages."""

    api: DoApi
    sink: Sink
    origin: Origin
    today: date
    done: list[str] = field(default_factory=list)
    covered: list[tuple[date, date]] = field(default_factory=list)

    def read(self, start: date, end: date) -> None:
        """Every month of [start, end] from insights or, failing that for a closed month, its invoice."""
        without_insights = []
        for segment in month_segments(start, end):
            rows, total = self._insights(segment)
            if rows or self._insights_reach(segment):
                self.covered.append((segment.start, segment.end))
                self._check_month_to_date(segment, total)
            else:
                without_insights.append(segment)
        if without_insights:
            self._invoices(without_insights)

    def _insights(self, segment: Segment) -> tuple[int, Decimal]:
        rows, total = 0, ZERO
        for row in self.api.insights(self.origin.account_urn, segment.start, segment.end):
            rows += 1
            try:
                item = insight_cost(row, self.origin, segment.start, segment.end)
            except RowError as exc:
                self.sink.reject(f"billing insights {segment.start}..{segment.end} row {rows}", str(exc))
                continue
            self.sink.cost(item)
            total += item.BilledCost
        self.done.append(f"billing insights {segment.start}..{segment.end} ({rows} rows)")
        return rows, total

    def _insights_reach(self, segment: Segment) -> bool:
        """An empty segment is a day of no spend unless insights know nothing of its (closed) month at all."""
        if segment.month >= self.today.replace(day=1):
            return True
        if (segment.start, segment.end) == segment.whole_month:
            return False
        return self.api.insights_exist(self.origin.account_urn, *segment.whole_month)

    def _invoices(self, segments: list[Segment]) -> None:
        wanted = {segment.key for segment in segments}
        found: dict[str, str] = {}
        for entry in self.api.invoices():
            period, uuid = _invoice_ref(entry)
            if period in wanted and uuid:
                found[period] = uuid
            if found.keys() >= wanted:
                break  # every month wanted is found: further pages would only cost requests
        for segment in segments:
            invoice = found.get(segment.key)
            if invoice is None:
                # Neither insights nor an invoice know of spend in these days: they cost nothing.
                self.covered.append((segment.start, segment.end))
                continue
            self._invoice(segment, invoice)
            self.covered.append(segment.whole_month)

    def _invoice(self, segment: Segment, uuid: str) -> None:
        logger.info("digitalocean_invoice_fallback", extra={"month": segment.key, "invoice_uuid": uuid})
        count = 0
        for row in self.api.invoice_items(uuid):
            count += 1
            try:
                self.sink.cost(invoice_cost(row, self.origin, segment.month))
            except RowError as exc:
                self.sink.reject(f"invoice {segment.key} item {count}", str(exc))
        self.done.append(f"invoice {segment.key} ({count} items)")

    def _check_month_to_date(self, segment: Segment, total: Decimal) -> None:
        """Compare with the balance only when this run read the whole month so far."""
        if segment.start != segment.month or segment.end != self.today:
            return
        try:
            balance = self.api.balance()
            month_to_date = parse_amount(balance["month_to_date_usage"])
        except (DigitalOceanError, MoneyError) as exc:
            logger.warning("digitalocean_mtd_check_failed", extra={"error": str(exc)})
            return
        days = (segment.end - segment.start).days + 1
        note = mtd_note(month_to_date, total, days)
        fields = {
            "month": segment.key,
            "month_to_date_usage": str(month_to_date),
            "insights_total": str(total),
            "generated_at": balance.get("generated_at"),
        }
        if note is None:
            logger.info("digitalocean_mtd_check", extra=fields)
            return
        logger.warning("digitalocean_mtd_mismatch", extra={**fields, "note": note})
        # A run record has no field for notes; first_rejection is what GET /v1/collections shows a reader.
        # No record was rejected, so the count (and the run's status) stay as they are.
        if self.sink.first_rejection is None:
            self.sink.first_rejection = note

    def coverage(self) -> Coverage:
        """The span of the days read in full (contiguous: segments follow each other, invoices widen to months)."""
        if not self.covered:
            return Coverage(None, None)
        return Coverage(min(s for s, _ in self.covered), max(e for _, e in self.covered))


def _invoice_ref(entry: Any) -> tuple[str, str]:
    if not isinstance(entry, dict):
        return "", ""
    period, uuid = entry.get("invoice_period"), entry.get("invoice_uuid")
    return (period if isinstance(period, str) else ""), (uuid if isinstance(uuid, str) else "")


def read_droplets(api: DoApi, sink: Sink, origin: Origin, day: date) -> list[Any] | None:
    """Droplet inventory as usage; a failure here is a rejection, so complete billing still counts.

    Returns the droplet rows listed, or None when the listing failed part way (the inventory then skips droplets).
    """
    count = 0
    rows: list[Any] = []
    try:
        for droplet in api.droplets():
            count += 1
            rows.append(droplet)
            try:
                for item in droplet_usage(droplet, origin, day):
                    sink.use(item)
            except RowError as exc:
                sink.reject(f"droplets item {count}", str(exc))
    except DigitalOceanError as exc:
        sink.reject("droplets", f"inventory incomplete after {count} droplets: {exc}")
        return None
    return rows


def _token(request: CollectRequest) -> str:
    try:
        token = request.secret(ENV_TOKEN, request.config.secrets.digitalocean_token)
    except SecretError as exc:
        raise SourceError(str(exc)) from exc
    if not token:
        raise SourceError(f"no DigitalOcean token: set {ENV_TOKEN} or the secret it names in the config")
    return token


def api_url(request: CollectRequest) -> str:
    """``DIGITALOCEAN_API_URL`` if set, else the source's ``url``, else the public API."""
    return request.env.get(ENV_API_URL) or request.source.url or DEFAULT_API_URL


def _summary(done: list[str], keep: int = 4) -> str:
    """What was read, shortened for a run record: a long backfill reads one part per month."""
    if len(done) <= keep:
        return ", ".join(done) or "nothing"
    return f"{', '.join(done[: keep // 2])}, ({len(done) - keep} more), {', '.join(done[-(keep // 2) :])}"


def _client(request: CollectRequest, sleep: Callable[[float], None], clock: Callable[[], float]) -> DoApi:
    token = _token(request)
    try:
        transport = build_client(api_url(request), token, request.requests.hit, sleep=sleep, clock=clock)
    except TransportSetupError as exc:
        raise SourceError(str(exc)) from exc
    return DoApi(transport.client, token)


def _account_urn(api: DoApi) -> str:
    try:
        return api.account_urn()
    except DigitalOceanError as exc:
        raise DigitalOceanError(f"{exc}; nothing was read") from exc


def collect(
    request: CollectRequest,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Coverage:
    """Billing for the window, then the droplet inventory and, with ``inventory`` on, the other resources and the
    droplets' utilisation; the days read in full are the coverage."""
    started = clock()
    api = _client(request, sleep, clock)
    today = request.collected_at.astimezone(UTC).date()
    origin = Origin(request.source.name, request.collected_at, _account_urn(api))
    reader = BillingReader(api, request.sink, origin, today)
    window = billing_window(request, today)
    if window:
        try:
            reader.read(*window)
        except DigitalOceanError as exc:
            read = _summary(reader.done)
            raise DigitalOceanError(
                f"{exc}; read before the failure: {read}; not read: the rest of billing {window[0]}..{window[1]} "
                "and the droplet inventory"
            ) from exc
    droplets = read_droplets(api, request.sink, origin, today)
    if request.source.inventory:
        days = request.source.utilisation_days
        deadline = started + UTILISATION_DEADLINE
        inventory = InventoryReader(api, request.sink, origin, today, days, clock=clock, deadline=deadline)
        inventory.read(droplets)
        reader.done += inventory.done
    logger.info("digitalocean_collected", extra={"read": reader.done, "requests": request.requests.count})
    return reader.coverage()
