"""``plan_upgrade``: move to a limit's ``upgrade`` plan when staying costs more than the upgrade.

From a limit's ``Capacity``:
- the limit is *hit this period* when it is exceeded or its ``limit_date`` falls on or before the period's
  last day;
- the *projected* quantity at the period's end is ``used + growth_per_day * days left after data_through``;
- the *avoided cost* is the larger of the overage the upgrade absorbs, ``(min(projected, upgrade limit) -
  limit) * overage_price`` (0 without an overage price), and ``cost_of_hitting`` (what a month at the limit
  costs, 0 when not given), scaled to a month for a daily limit (times the days of the month);
- it fires when the limit is hit this period and the avoided cost exceeds the upgrade's price.

``monthly_savings = avoided cost - upgrade price``, so it is always positive when the rule fires: the money the
upgrade saves net of what it costs. ROI = that saving / the upgrade's price (none for a free upgrade).
Confidence is ``high`` when the limit is exceeded or reached within 7 days, else ``medium``.
"""

from __future__ import annotations

import calendar
from decimal import Decimal

from spendwatch.domain.recommendations.inputs import LimitExposure
from spendwatch.domain.recommendations.model import Finding, ResourceRef, money_text, percent, ratio_text

SOON_DAYS = 7


def _month_factor(exposure: LimitExposure) -> Decimal:
    standing = exposure.capacity
    length = (standing.period_end - standing.period_start).days + 1
    days_in_month = calendar.monthrange(standing.period_start.year, standing.period_start.month)[1]
    return Decimal(days_in_month) / Decimal(length) if length < days_in_month else Decimal(1)


def _projected(exposure: LimitExposure) -> Decimal:
    standing = exposure.capacity
    left = 0 if standing.data_through is None else max((standing.period_end - standing.data_through).days, 0)
    return max(standing.used + standing.growth_per_day * left, standing.used)


def _hit_this_period(exposure: LimitExposure) -> bool:
    standing = exposure.capacity
    if standing.status == "exceeded" or standing.used >= standing.limit:
        return True
    return standing.limit_date is not None and standing.limit_date <= standing.period_end


def plan_upgrade(exposure: LimitExposure) -> Finding | None:
    """The upgrade recommendation for one limit, or None when the upgrade does not pay for itself."""
    standing, upgrade = exposure.capacity, exposure.upgrade
    if not _hit_this_period(exposure):
        return None
    projected = _projected(exposure)
    absorbed = max(min(projected, upgrade.limit) - standing.limit, Decimal(0))
    overage = absorbed * (exposure.overage_price or Decimal(0)) * _month_factor(exposure)
    hitting = exposure.cost_of_hitting or Decimal(0)
    avoided = max(overage, hitting)
    if avoided <= upgrade.price:
        return None
    saving = avoided - upgrade.price
    roi = saving / upgrade.price if upgrade.price > 0 else None
    soon = standing.status == "exceeded" or (standing.days_to_limit is not None and standing.days_to_limit <= SOON_DAYS)
    when = "is exceeded" if standing.used >= standing.limit else f"will be reached on {standing.limit_date}"
    return Finding(
        kind="plan_upgrade",
        resource=ResourceRef("spendwatch", "limit", standing.name, standing.plan or standing.name, ""),
        title=f"Upgrade {standing.plan or standing.name} to {upgrade.plan}",
        detail=(
            f"The {standing.metric} limit of {standing.limit} {when} (period {standing.period}); staying costs about "
            f"{money_text(avoided.quantize(Decimal('0.01')))} {exposure.currency} a month, {upgrade.plan} costs "
            f"{money_text(upgrade.price)}: net {money_text(saving.quantize(Decimal('0.01')))}"
            + (f", ROI {percent(roi)}." if roi is not None else ".")
        ),
        monthly_savings=saving,
        currency=exposure.currency,
        confidence="high" if soon else "medium",
        evidence={
            "limit": money_text(standing.limit),
            "used": money_text(standing.used),
            "growth_per_day": money_text(standing.growth_per_day),
            "limit_date": None if standing.limit_date is None else standing.limit_date.isoformat(),
            "period": standing.period,
            "projected": money_text(projected),
            "overage_cost": money_text(overage),
            "cost_of_hitting": money_text(hitting),
            "avoided_cost": money_text(avoided),
            "upgrade_plan": upgrade.plan,
            "upgrade_price": money_text(upgrade.price),
            "upgrade_limit": money_text(upgrade.limit),
            "roi": None if roi is None else ratio_text(roi),
        },
    )
