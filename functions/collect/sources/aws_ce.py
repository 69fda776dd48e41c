"""AWS Cost Explorer: daily cost per linked account and service, split by region and tag keys on request; with
``inventory = true`` also the EC2 inventory, its prices and the instances' CPU (``collect.sources.aws_inventory``).

See docs/aws-cost-explorer.md.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError
from spendwatch.domain.config import Source
from spendwatch.domain.models import CostItem
from spendwatch.domain.money import ZERO, MoneyError, parse_amount
from spendwatch.platform.aws import client

from collect.sources.base import CollectRequest, Coverage, SourceError

PROVIDER = "AWS"
METRICS = ("UnblendedCost", "AmortizedCost", "UsageQuantity")
MAX_REQUESTS = 50  # $0.50 a run; beyond that the configured groupings cost more than the watchdog should
NO_REGION = "NoRegion"
# Cost Explorer rounds every group's amount (to about 10 decimals), so parts may miss their cell by rounding alone.
TOLERANCE = Decimal("0.000001")
RESTART_CODES = frozenset({"RequestChangedException", "InvalidNextTokenException"})
HINTS = {
    "DataUnavailableException": "Cost Explorer has no data for these days yet (the first 24 hours after enabling it)",
    "BillExpirationException": "Cost Explorer no longer holds these days; ask for a later window",
    "LimitExceededException": "still throttled after the client's retries",
    "ThrottlingException": "still throttled after the client's retries",
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")

ValuePath = tuple[str, ...]


class CostExplorerError(SourceError):
    """Cost Explorer failed for good; the message names the query, the page and the days missing."""


class GroupError(ValueError):
    """One group that cannot become a cost item; the run counts it and goes on."""


class PageError(RuntimeError):
    """One page could not be fetched."""

    def __init__(self, page: int, exc: Exception) -> None:
        self.page = page
        if isinstance(exc, ClientError):
            self.code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
            message = exc.response.get("Error", {}).get("Message", "")
        else:
            self.code, message = type(exc).__name__, str(exc)
        super().__init__(f"{self.code}: {message}")


@dataclass(frozen=True)
class Grouping:
    """A Cost Explorer grouping (a dimension or a tag key) and where its values go on a cost item."""

    type: str
    key: str

    def __str__(self) -> str:
        return f"tag {self.key}" if self.type == "TAG" else self.key

    def definition(self) -> dict[str, str]:
        """The GroupBy entry."""
        return {"Type": self.type, "Key": self.key}

    def value(self, raw: str) -> str:
        """The value in a group key; tag values come back as ``key$value`` (``key$`` when untagged)."""
        if self.type != "TAG":
            return raw
        prefix = f"{self.key}$"
        if not raw.startswith(prefix):
            raise GroupError(f"tag group {raw!r} does not start with {prefix!r}")
        return raw[len(prefix) :]

    def match(self, value: str) -> dict[str, Any]:
        """A filter expression selecting one value (an empty tag value selects resources without the tag)."""
        if self.type != "TAG":
            return {"Dimensions": {"Key": self.key, "Values": [value]}}
        if not value:
            return {"Tags": {"Key": self.key, "MatchOptions": ["ABSENT"]}}
        return {"Tags": {"Key": self.key, "Values": [value], "MatchOptions": ["EQUALS"]}}

    def place(self, value: str, fields: dict[str, Any]) -> None:
        """Put one value on the fields of a cost item."""
        if self.key == "LINKED_ACCOUNT" and self.type == "DIMENSION":
            fields["SubAccountId"] = value
        elif self.key == "REGION" and self.type == "DIMENSION":
            fields["RegionId"] = "" if value == NO_REGION else value
        elif value:
            fields["Tags"][self.key] = value


SERVICE = Grouping("DIMENSION", "SERVICE")
LINKED_ACCOUNT = Grouping("DIMENSION", "LINKED_ACCOUNT")
REGION = Grouping("DIMENSION", "REGION")


def plan_for(source: Source) -> list[Grouping]:
    """The groupings items are split by, coarsest first: linked account, region, then each tag key."""
    plan = [LINKED_ACCOUNT, *([REGION] if source.group_by_region else [])]
    return plan + [Grouping("TAG", key) for key in dict.fromkeys(source.tag_keys)]


@dataclass(frozen=True)
class Window:
    """Inclusive days to read."""

    start: date
    end: date

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"

    def time_period(self) -> dict[str, str]:
        """Cost Explorer's TimePeriod, whose End is exclusive."""
        return {"Start": self.start.isoformat(), "End": (self.end + timedelta(days=1)).isoformat()}


def window_for(request: CollectRequest) -> Window:
    """The backfill's days if given, else the trailing ``lookback_days`` up to and including today (UTC)."""
    today = request.collected_at.astimezone(UTC).date()
    end = request.end or max(request.start or today, today)
    start = request.start or end - timedelta(days=request.source.lookback_days - 1)
    return Window(start, end)


@dataclass(frozen=True)
class Query:
    """One GetCostAndUsage question: the window by SERVICE and one grouping, filtered on a value path."""

    window: Window
    grouping: Grouping
    fixed: tuple[tuple[Grouping, str], ...] = ()

    def __str__(self) -> str:
        where = " and ".join(f"{g}={v!r}" for g, v in self.fixed)
        return f"GetCostAndUsage by SERVICE, {self.grouping}{f' where {where}' if where else ''} for {self.window}"

    @property
    def path(self) -> ValuePath:
        """The values this query is filtered on."""
        return tuple(value for _, value in self.fixed)

    def params(self, token: str | None = None) -> dict[str, Any]:
        """The request parameters, for the first page or the one ``token`` points to."""
        params: dict[str, Any] = {
            "TimePeriod": self.window.time_period(),
            "Granularity": "DAILY",
            "Metrics": list(METRICS),
            "GroupBy": [SERVICE.definition(), self.grouping.definition()],
        }
        matches = [grouping.match(value) for grouping, value in self.fixed]
        if matches:
            params["Filter"] = matches[0] if len(matches) == 1 else {"And": matches}
        if token:
            params["NextPageToken"] = token
        return params


def pages(ce: Any, query: Query) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every page of a query (there is no paginator for GetCostAndUsage), numbered from 1."""
    token: str | None = None
    page, restarted = 1, False
    while True:
        try:
            response: dict[str, Any] = ce.get_cost_and_usage(**query.params(token))
        except ClientError as exc:
            error = PageError(page, exc)
            if token and not restarted and error.code in RESTART_CODES:
                # Cost Explorer refreshed its data between two pages: the old token is void, so ask again.
                token, page, restarted = None, 1, True
                continue
            raise error from exc
        except BotoCoreError as exc:
            raise PageError(page, exc) from exc
        yield page, response
        token = response.get("NextPageToken")
        if not token:
            return
        page += 1


@dataclass(frozen=True)
class Cell:
    """Where one group's numbers belong: its period, the value path of its groupings, its service."""

    start: date
    end: date
    path: ValuePath
    service: str

    def parent(self) -> Cell:
        """The cell this one splits."""
        return Cell(self.start, self.end, self.path[:-1], self.service)


@dataclass(frozen=True)
class Amounts:
    """A cell's metrics, exact."""

    billed: Decimal
    effective: Decimal
    quantity: Decimal | None
    unit: str
    currency: str
    estimated: bool

    def minus(self, parts: list[Amounts]) -> Amounts:
        """What is left of this cell's cost once its parts are taken out (usage is not comparable, so none)."""
        billed = self.billed - sum((p.billed for p in parts), ZERO)
        effective = self.effective - sum((p.effective for p in parts), ZERO)
        return Amounts(billed, effective, None, "", self.currency, self.estimated)

    @property
    def material(self) -> bool:
        """More than Cost Explorer's rounding."""
        return abs(self.billed) > TOLERANCE or abs(self.effective) > TOLERANCE


def _amount(name: str, raw: object) -> Decimal:
    if not isinstance(raw, str):
        raise GroupError(f"{name} amount {raw!r} is not a decimal string")
    try:
        return parse_amount(raw)
    except MoneyError as exc:
        raise GroupError(f"{name} amount {raw!r} is not a number") from exc


def _money(metrics: dict[str, Any], name: str) -> tuple[Decimal, str]:
    metric = metrics.get(name)
    if not isinstance(metric, dict) or "Amount" not in metric:
        raise GroupError(f"{name} is missing")
    currency = str(metric.get("Unit", "")).upper()
    if not _CURRENCY.match(currency):
        raise GroupError(f"{name} unit {metric.get('Unit')!r} is not a currency code")
    return _amount(name, metric["Amount"]), currency


def parse_amounts(metrics: dict[str, Any], estimated: bool) -> Amounts:
    """A group's metrics as exact amounts; GroupError says what is missing or unreadable."""
    billed, currency = _money(metrics, "UnblendedCost")
    effective, other = _money(metrics, "AmortizedCost")
    if other != currency:
        raise GroupError(f"AmortizedCost is in {other} but UnblendedCost in {currency}")
    usage = metrics.get("UsageQuantity")
    quantity, unit = None, ""
    if isinstance(usage, dict) and "Amount" in usage:
        quantity, unit = _amount("UsageQuantity", usage["Amount"]), str(usage.get("Unit", ""))
    return Amounts(billed, effective, quantity, unit, currency, estimated)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def cost_item(
    cell: Cell, amounts: Amounts, plan: list[Grouping], source: str, collected_at: datetime, description: str = ""
) -> CostItem:
    """The cost item of one cell (a coarser cell's path is shorter than the plan and fills fewer fields)."""
    fields: dict[str, Any] = {"Tags": {}}
    for grouping, value in zip(plan, cell.path, strict=False):
        grouping.place(value, fields)
    return CostItem(
        ProviderName=PROVIDER,
        ServiceName=cell.service,
        ChargeCategory="Usage",
        ChargeDescription=description,
        ChargePeriodStart=_midnight(cell.start),
        ChargePeriodEnd=_midnight(cell.end),
        BilledCost=amounts.billed,
        EffectiveCost=amounts.effective,
        BillingCurrency=amounts.currency,
        ConsumedQuantity=amounts.quantity,
        ConsumedUnit=amounts.unit,
        x_source=source,
        x_collected_at=collected_at,
        x_estimated=amounts.estimated,
        **fields,
    )


def _period(result: dict[str, Any]) -> tuple[date, date]:
    period = result.get("TimePeriod") or {}
    try:
        return date.fromisoformat(str(period["Start"])[:10]), date.fromisoformat(str(period["End"])[:10])
    except (KeyError, ValueError) as exc:
        raise GroupError(f"TimePeriod {period!r} is not a pair of days") from exc


@dataclass
class Level:
    """What the queries of one grouping returned: cells with their amounts, and every value path seen."""

    cells: dict[Cell, Amounts] = field(default_factory=dict)
    paths: set[ValuePath] = field(default_factory=set)
    seen: set[Cell] = field(default_factory=set)


@dataclass
class Reader:
    """Runs one collection's queries level by level and writes the finest cells (and any remainders)."""

    ce: Any
    request: CollectRequest
    window: Window
    plan: list[Grouping]
    calls: int = 0
    written: int = 0
    returned: set[date] = field(default_factory=set)

    def run(self) -> None:
        """Read the first grouping, then split by each further one; only the last level's cells are items."""
        last = len(self.plan) - 1
        level = self.read_level(0, [()], leaf=last == 0)
        for depth in range(1, last + 1):
            self._check_budget(depth, len(level.paths))
            finer = self.read_level(depth, sorted(level.paths), leaf=depth == last)
            self.write_remainders(level, finer, self.plan[depth])
            level = finer

    def read_level(self, depth: int, paths: list[ValuePath], leaf: bool) -> Level:
        """One query per value path of the level before, grouped by this level's grouping."""
        level = Level()
        for path in paths:
            fixed = tuple(zip(self.plan[:depth], path, strict=True))
            self.read(Query(self.window, self.plan[depth], fixed), level, leaf)
        return level

    def read(self, query: Query, level: Level, leaf: bool) -> None:
        """Every page of one query into ``level``; leaf cells are written as their page arrives."""
        through: date | None = None
        try:
            for page, response in pages(self.ce, query):
                self.calls += 1
                for result in response.get("ResultsByTime") or []:
                    through = self._result(query, page, result, level, leaf) or through
        except PageError as exc:
            raise CostExplorerError(self._failure(query, exc, through)) from exc

    def _result(self, query: Query, page: int, result: dict[str, Any], level: Level, leaf: bool) -> date | None:
        try:
            start, end = _period(result)
        except GroupError as exc:
            self.request.sink.reject(f"{query} page {page}", str(exc))
            return None
        estimated = bool(result.get("Estimated", False))
        self.returned.add(start)
        for group in result.get("Groups") or []:
            where = f"{query} page {page} {start} {group.get('Keys')!r}"
            try:
                self._group(query, (start, end, estimated), group, level, leaf)
            except GroupError as exc:
                self.request.sink.reject(where, str(exc))
        return start

    def _group(
        self, query: Query, period: tuple[date, date, bool], group: dict[str, Any], level: Level, leaf: bool
    ) -> None:
        keys = group.get("Keys") or []
        if len(keys) != 2:
            raise GroupError(f"expected 2 keys (SERVICE, {query.grouping})")
        start, end, estimated = period
        cell = Cell(start, end, (*query.path, query.grouping.value(str(keys[1]))), str(keys[0]))
        if cell in level.seen:
            return  # read already, before a restarted query
        level.seen.add(cell)
        level.paths.add(cell.path)
        amounts = parse_amounts(group.get("Metrics") or {}, estimated)
        level.cells[cell] = amounts
        if leaf:
            self.write(cell, amounts)

    def write(self, cell: Cell, amounts: Amounts, description: str = "") -> None:
        """Hand one cell to the sink as a cost item."""
        try:
            item = cost_item(cell, amounts, self.plan, self.request.source.name, self.request.collected_at, description)
        except ValidationError as exc:
            raise GroupError(str(exc.errors()[0]["msg"])) from exc
        self.request.sink.cost(item)
        self.written += 1

    def write_remainders(self, coarse: Level, fine: Level, grouping: Grouping) -> None:
        """Write what each coarse cell holds beyond its parts, so the totals stay those of the first request."""
        parts: defaultdict[Cell, list[Amounts]] = defaultdict(list)
        for cell, amounts in fine.cells.items():
            parts[cell.parent()].append(amounts)
        for cell, amounts in coarse.cells.items():
            rest = amounts.minus(parts.get(cell, []))
            if rest.material:
                description = f"Cost Explorer did not attribute this part to any {grouping} value"
                try:
                    self.write(cell, rest, description)
                except GroupError as exc:
                    self.request.sink.reject(f"remainder {cell}", str(exc))

    def _check_budget(self, depth: int, queries: int) -> None:
        if self.calls + queries > MAX_REQUESTS:
            raise CostExplorerError(
                f"splitting by {self.plan[depth]} needs {queries} more requests after {self.calls}, over the "
                f"limit of {MAX_REQUESTS} a run, so the run stops before spending them. Ask for fewer groupings "
                "(fewer tag keys) or read the FOCUS export instead"
            )

    def _failure(self, query: Query, exc: PageError, through: date | None) -> str:
        hint = HINTS.get(exc.code)
        return (
            f"{query}: page {exc.page} failed ({exc}{f'; {hint}' if hint else ''}). "
            f"{self.written} cost items read before it are kept; missing: {through or self.window.start}"
            f"..{self.window.end} from this query, and every query after it"
        )


def collect(request: CollectRequest, ce: Any = None) -> Coverage:
    """Read the window's daily costs from Cost Explorer; it is covered once every request has succeeded."""
    ce = client("ce") if ce is None else ce
    window = window_for(request)
    reader = Reader(ce, request, window, plan_for(request.source))
    with request.requests.counting(ce):
        reader.run()
    if request.source.inventory:
        from collect.sources.aws_inventory import read_inventory  # only runs that read the inventory load it

        read_inventory(request)
    # Only days Cost Explorer answered for are complete; a day missing from the answer is not a zero day.
    if not reader.returned:
        return Coverage(None, None)
    return Coverage(min(reader.returned), max(reader.returned))
