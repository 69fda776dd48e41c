"""Plan limits against usage: the used quantity, utilisation, growth and the day a limit is reached.

A limit's daily series is its metric's usage in its scope, summed per day. ``basis = "level"`` reads the
latest day's quantity (days without records carry the last reading forward: a level is not zero because
nobody reported it); ``basis = "sum"`` adds up the days of its period through the last day with usage
(a day without records used nothing).

Forecasts come from the cost forecaster (robust Holt-Winters) with ``usage_params``: an undamped trend
(``phi = 1``) learnt faster than the cost model's (``beta = 0.015``) and started at the first week's
least-squares slope, so steady growth is extrapolated instead of flattening out; limits are judged without a
weekday profile (on a few weeks of a ramp it would soak up the growth). On 40 days of linear growth with
Gaussian noise of one day's growth (200 series), the day of reaching a limit 7, 15 and 30 days out lands on
average half a day after a least-squares extrapolation, within 3 days in 99, 99 and 92 % of series; 60 days
out, 70 %. A noise-free ramp of 10 days or more gives exactly the extrapolated day.

``growth_per_day``: for a level limit, the forecast's slope (mean of forecast days 24-30 minus mean of days
1-7, over 23 days: a weekly rhythm cancels out); for a sum limit, the mean forecast daily quantity over the
next 7 days (what the period-to-date sum grows by). A sum limit's limit date walks the point forecast day by
day, adding to the period-to-date sum (the expected day of ``Projection.crossing``) and starting again from
zero at each new period, so a monthly quota missed this month may still be reached in a later one.

Days are counted from ``data_through``, the last day with usage: ``days_to_limit = 0`` when the limit is
already reached, and ``within:Nd`` is reached when the limit date is at most N days after ``data_through``
(while the limit is not yet reached: from then on the ``exceeded`` level stands instead).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from spendwatch.domain.alerts import describe_scope
from spendwatch.domain.models import UsageItem
from spendwatch.domain.money import ZERO
from spendwatch.domain.plans import Limit, LimitLevel, PricingPeriod
from spendwatch.domain.ports import Usage
from spendwatch.domain.pricing import period_bounds, quantise
from spendwatch.domain.usage import usage_between

if TYPE_CHECKING:  # NumPy and the forecaster load on first use, not on import
    from spendwatch.domain.forecast.methods import EtsParams

Status = Literal["ok", "warning", "critical", "exceeded"]
HORIZON_DAYS = 365
# How much usage history a limit is judged on (and a usage forecast fitted to): the API and evaluation alike.
HISTORY_DAYS = 90
# growth_per_day of a level limit: the forecast's slope between its first and its fifth week (means of 7
# days each, so a weekly rhythm cancels out).
_FIRST_WEEK, _LAST_WEEK = (1, 7), (24, 30)
UTILISATION_PLACES = Decimal("0.000001")
EXCEEDED = LimitLevel(label="exceeded", severity="critical", ratio=Decimal(1))
ONE_DAY = timedelta(days=1)


def usage_params(*, weekly: bool) -> EtsParams:
    """The forecaster's settings for usage series (see the module docstring for why and how well). Limits are
    judged on growth alone (``weekly=False``): on a few weeks of steady growth a weekday profile soaks up the
    ramp itself and delays the limit date; daily forecasts of a metric keep the weekly rhythm."""
    from spendwatch.domain.forecast.methods import EtsParams

    return EtsParams(alpha=0.1, beta=0.015, gamma=0.05, phi=1.0, warmup=7, weekly=weekly, warm_trend=True)


def recent_usage(store: Usage, metrics: set[str], today: date, days: int = HISTORY_DAYS) -> list[UsageItem]:
    """The given metrics' usage items of the ``days`` days through ``today`` (one query per metric and month)."""
    return usage_between(store, today - timedelta(days=days - 1), today, metrics)


def standings(store: Usage, limits: Sequence[Limit], today: date) -> list[Capacity]:
    """The limits' standings as of ``today``, in order, from one reading of their metrics' recent usage (nothing
    is read without limits): what the API, the page, ``/metrics`` and evaluation all judge by."""
    if not limits:
        return []
    items = recent_usage(store, {limit.metric for limit in limits}, today)
    return [capacity(limit, usage_days(limit, items), today) for limit in limits]


def usage_days(limit: Limit, items: Iterable[UsageItem]) -> list[tuple[date, Decimal]]:
    """The limit's daily quantities, in day order: its metric (exact match) in its scope, summed per day."""
    totals: dict[date, Decimal] = {}
    for item in items:
        if item.metric == limit.metric and limit.scope.matches(item.x_tenant, item.ServiceName):
            totals[item.day] = totals.get(item.day, ZERO) + item.quantity
    return sorted(totals.items())


@dataclass(frozen=True)
class Capacity:
    """One limit's standing: the ``GET /v1/capacity`` item, plus its alert period and the levels reached.

    ``utilisation`` is ``used / limit`` rounded to 6 places; ``status`` and ``levels`` compare exactly.
    ``period`` is the alert period's label (``YYYY-MM`` or ``YYYY-MM-DD``), ``start``..``end`` its days.
    """

    name: str
    metric: str
    scope: dict[str, str]
    plan: str | None
    limit: Decimal
    used: Decimal
    utilisation: Decimal
    status: Status
    growth_per_day: Decimal
    days_to_limit: int | None
    limit_date: date | None
    data_through: date | None
    period: str
    period_start: date
    period_end: date
    levels: tuple[LimitLevel, ...] = field(default=())

    def item(self) -> dict[str, Any]:
        """The contract's fields only (for the API to serialise)."""
        keys = ("name", "metric", "scope", "plan", "limit", "used", "utilisation", "status", "growth_per_day")
        return {key: getattr(self, key) for key in keys} | {
            "days_to_limit": self.days_to_limit,
            "limit_date": self.limit_date,
            "data_through": self.data_through,
        }


class _Reach(NamedTuple):
    growth: Decimal
    days: int | None


def capacity(limit: Limit, days: Iterable[tuple[date, Decimal]], today: date, *, level: float = 0.8) -> Capacity:
    """The limit's standing from its daily quantities (``usage_days``) as of ``today`` (later days are ignored).

    The limit date is the point forecast's; ``level`` (the interval level) is accepted for symmetry with the
    other forecast calls and does not change the standing.
    """
    del level
    series = [(day, quantity) for day, quantity in days if day <= today]
    through = max((day for day, _ in series), default=None)
    anchor = through or today
    period_kind: PricingPeriod = "month" if limit.basis == "level" else limit.period
    start, end = period_bounds(period_kind, anchor)
    used = _used(limit, series, through, start)
    reach = _reach(limit, series, through, used) if through is not None else _Reach(ZERO, None)
    reached = _levels(limit, used, reach.days)
    return Capacity(
        name=limit.name,
        metric=limit.metric,
        scope=limit.scope.model_dump(exclude_none=True),
        plan=limit.plan,
        limit=limit.limit,
        used=used,
        utilisation=(used / limit.limit).quantize(UTILISATION_PLACES),
        status=_status(limit, used),
        growth_per_day=reach.growth,
        days_to_limit=reach.days,
        limit_date=None if reach.days is None or through is None else through + timedelta(days=reach.days),
        data_through=through,
        period=start.isoformat()[: 10 if period_kind == "day" else 7],
        period_start=start,
        period_end=end,
        levels=tuple(reached),
    )


def _used(limit: Limit, series: Sequence[tuple[date, Decimal]], through: date | None, start: date) -> Decimal:
    if through is None:
        return ZERO
    if limit.basis == "level":
        return sum((quantity for day, quantity in series if day == through), ZERO)
    return sum((quantity for day, quantity in series if start <= day <= through), ZERO)


def _status(limit: Limit, used: Decimal) -> Status:
    """Exceeded at or over the limit; else the highest percentage level reached: the first is a warning."""
    if used >= limit.limit:
        return "exceeded"
    shares = [lv for lv in limit.levels if lv.ratio is not None]
    reached = [index for index, lv in enumerate(shares) if lv.ratio is not None and used >= lv.ratio * limit.limit]
    if not reached:
        return "ok"
    return "warning" if max(reached) == 0 else "critical"


def _levels(limit: Limit, used: Decimal, days_to_limit: int | None) -> list[LimitLevel]:
    """The levels reached: percentages by the used quantity, horizons by the forecast, and ``exceeded``."""
    over = used >= limit.limit
    soon = None if over else days_to_limit
    reached = [
        lv
        for lv in limit.levels
        if (lv.ratio is not None and used >= lv.ratio * limit.limit)
        or (lv.within_days is not None and soon is not None and soon <= lv.within_days)
    ]
    return [*reached, EXCEEDED] if over else reached


def _filled(series: Sequence[tuple[date, Decimal]], through: date) -> list[tuple[date, Decimal]]:
    """A level series with every day through ``through``: a day without a reading keeps the last one."""
    known = dict(series)
    day, last, filled = min(known), ZERO, []
    while day <= through:
        last = known.get(day, last)
        filled.append((day, last))
        day += ONE_DAY
    return filled


def _reach(limit: Limit, series: Sequence[tuple[date, Decimal]], through: date, used: Decimal) -> _Reach:
    """Growth per day and days from ``through`` until the limit is reached (None: not within a year)."""
    from spendwatch.domain.forecast.projection import Projection, money

    points = _filled(series, through) if limit.basis == "level" else list(series)
    projection = Projection(points, through + ONE_DAY, through=through, params=usage_params(weekly=False))
    path = [money(value) for value in projection.path(HORIZON_DAYS)]
    if limit.basis == "level":
        growth = (_mean(path, *_LAST_WEEK) - _mean(path, *_FIRST_WEEK)) / (_LAST_WEEK[1] - _FIRST_WEEK[1])
        days = 0 if used >= limit.limit else next((h for h, q in enumerate(path, 1) if q >= limit.limit), None)
        return _Reach(quantise(growth), days)
    growth = _mean(path, *_FIRST_WEEK)
    if used >= limit.limit:
        return _Reach(quantise(growth), 0)
    return _Reach(quantise(growth), _sum_reach(limit, path, through, used))


def _sum_reach(limit: Limit, path: Sequence[Decimal], through: date, used: Decimal) -> int | None:
    """First forecast day whose period-to-date sum reaches the limit; each new period starts from zero."""
    running, start = used, period_bounds(limit.period, through)[0]
    for offset, quantity in enumerate(path, 1):
        day = through + timedelta(days=offset)
        first = period_bounds(limit.period, day)[0]
        if first != start:
            running, start = ZERO, first
        running += quantity
        if running >= limit.limit:
            return offset
    return None


def _mean(path: Sequence[Decimal], first: int, last: int) -> Decimal:
    """Mean of forecast days ``first..last`` (1-based, inclusive)."""
    return sum(path[first - 1 : last], ZERO) / (last - first + 1)


class UsagePoint(NamedTuple):
    """One forecast day of a usage series: the expected quantity and its interval."""

    day: date
    quantity: Decimal
    lower: Decimal
    upper: Decimal


def usage_forecast(
    days: Iterable[tuple[date, Decimal]], today: date, horizon_days: int, level: float = 0.8
) -> list[UsagePoint]:
    """Daily forecast of a usage series from ``today`` through ``today + horizon_days - 1`` (and any days
    between the last complete day, ``today - 1``, and ``today``), with the usage settings of the forecaster."""
    from spendwatch.domain.forecast.projection import Projection

    projection = Projection(days, today, params=usage_params(weekly=True))
    points = projection.forecast(horizon_days, level, accuracy=False).points
    return [UsagePoint(p.day, p.amount, p.lower, p.upper) for p in points]


# ---- capacity alerts: what the evaluator proposes and resolves (kind "capacity") ----


@dataclass(frozen=True)
class CapacityAlert:
    """A proposed capacity alert: the ``Alert`` fields a rule passes to ``Stamp.alert`` (see ``fields``).

    One per (limit, period, level): ``rule`` names the limit, ``period`` is the capacity's alert period and
    ``level`` the threshold's label (``75%``, ``within:7d``, ``exceeded``), so the alert id is stable.
    """

    rule: str
    scope: dict[str, str]
    period: str
    level: str
    severity: Literal["warning", "critical"]
    title: str
    message: str
    actual: Decimal
    threshold: Decimal
    kind: Literal["capacity"] = "capacity"

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for ``Stamp.alert`` (kind, severity, rule, scope, period, level, title, message,
        actual, threshold)."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "rule": self.rule,
            "scope": dict(self.scope),
            "period": self.period,
            "level": self.level,
            "title": self.title,
            "message": self.message,
            "actual": self.actual,
            "threshold": self.threshold,
        }


def capacity_rule(name: str) -> str:
    """The ``rule`` of every alert of the limit named ``name``."""
    return f"capacity:{name}"


def capacity_alerts(standing: Capacity) -> list[CapacityAlert]:
    """One proposed alert per level the limit has reached in its current period."""
    return [_proposal(standing, level) for level in standing.levels]


def _proposal(standing: Capacity, level: LimitLevel) -> CapacityAlert:
    used, limit, scope = quantity_text(standing.used), quantity_text(standing.limit), describe_scope(standing.scope)
    pct = (standing.used / standing.limit * 100).quantize(Decimal("0.1"))
    plan = f" on plan {standing.plan!r}" if standing.plan else ""
    said = (
        f"{used} of {limit} {standing.metric} used{plan} ({pct}% of the limit) for {standing.period} "
        f"({scope}), data through {standing.data_through}"
    )
    if level.within_days is not None:
        growth = quantity_text(standing.growth_per_day)
        title = f"Limit {standing.name!r} forecast to be reached on {standing.limit_date} (within {level.within_days}d)"
        message = f"{said}; growing {growth} a day, the forecast reaches the limit on {standing.limit_date}."
        threshold = standing.limit
    elif level is EXCEEDED:
        title = f"Limit {standing.name!r} exceeded ({pct}% used)"
        message = f"{said}; the limit is reached."
        threshold = standing.limit
    else:
        title = f"Limit {standing.name!r} crossed {level.label} ({pct}% used)"
        threshold = (level.ratio or ZERO) * standing.limit
        message = f"{said}; threshold {level.label} = {quantity_text(threshold)} {standing.metric}."
    return CapacityAlert(
        rule=capacity_rule(standing.name),
        scope=standing.scope,
        period=standing.period,
        level=level.label,
        severity=level.severity,
        title=title,
        message=message,
        actual=standing.used,
        threshold=threshold,
    )


def quantity_text(value: Decimal) -> str:
    """A quantity as people (and the API) read it: plain digits, no exponent, no trailing zeros."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


class OpenAlert(Protocol):
    """What resolving needs of a stored alert (the ``Alert`` model has these fields)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def status(self) -> str: ...


def settled_capacity_alerts(standing: Capacity, alerts: Iterable[OpenAlert]) -> list[str]:
    """Ids of this limit's unresolved capacity alerts that no longer hold: their period has ended, or the
    level is no longer reached (usage fell back, the forecast moved out, the threshold left the config)."""
    reached = {level.label for level in standing.levels}
    rule = capacity_rule(standing.name)
    return [
        alert.id
        for alert in alerts
        if alert.kind == "capacity"
        and alert.rule == rule
        and alert.status != "resolved"
        and (alert.period != standing.period or alert.level not in reached)
    ]
