"""A report as a message: the plain text of the SNS e-mail body and the console, the subject, and Slack's Block Kit.

Headline figures (total and change, projection), the top movers, budgets, alerts opened, recommendations, unit
costs, a sparkline of the period and the links to the report's HTML page and CSV.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from spendwatch.channels.render import MAX_BODY, clip
from spendwatch.domain.money import format_money
from spendwatch.domain.reports import Report, ReportLine

SPARKS = "▁▂▃▄▅▆▇█"
SPARK_DAYS = 14  # a daily report's sparkline: the last two weeks up to its day
MOVERS = 3  # per dimension in a message
MAX_SUBJECT = 99
TITLES = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def sparkline(values: Sequence[Decimal]) -> str:
    """One block character per value, from the lowest to the highest value (all equal: the middle)."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARKS[3] * len(values)
    steps = len(SPARKS) - 1
    return "".join(SPARKS[int((v - low) / (high - low) * steps + Decimal("0.5"))] for v in values)


def spark_values(report: Report) -> list[Decimal]:
    """The days the sparkline draws: the period's (a daily report: the last two weeks through its day)."""
    first = report.start if report.kind != "daily" else None
    points = [p for p in report.trend if p.day <= report.end and (first is None or p.day >= first)]
    return [p.amount for p in points[-SPARK_DAYS:]] if first is None else [p.amount for p in points]


def period_text(report: Report) -> str:
    """``2026-10-01`` for a day, ``2026-10-05 to 2026-10-11`` for a longer period."""
    return report.start.isoformat() if report.start == report.end else f"{report.start} to {report.end}"


def money(amount: Decimal, currency: str) -> str:
    """An amount with its currency."""
    return f"{format_money(amount)} {currency}"


def change_text(report: Report) -> str:
    """``+12.5 % against 100.00 USD the period before`` (or what is known)."""
    if report.previous_total is None:
        return "no previous period"
    before = money(report.previous_total, report.currency)
    if report.change_pct is None:
        return f"the period before: {before}"
    sign = "+" if report.change_pct > 0 else ""
    return f"{sign}{report.change_pct} % against {before} the period before"


def headline(report: Report) -> str:
    """The report in one line: kind, period, total."""
    return (
        f"spendwatch {TITLES[report.kind].lower()} report {period_text(report)}: {money(report.total, report.currency)}"
    )


def subject(report: Report) -> str:
    """The e-mail subject: one line under SNS's 100 characters."""
    sign = "" if report.change_pct is None else f" ({'+' if report.change_pct > 0 else ''}{report.change_pct} %)"
    return clip(_CONTROL.sub(" ", f"[spendwatch] {headline(report)}{sign}"), MAX_SUBJECT)


def mover_text(dimension: str, line: ReportLine, currency: str) -> str:
    """``service Amazon EC2: 40.00 -> 45.00 USD (+5.00)``."""
    sign = "+" if line.change > 0 else ""
    before = format_money(line.previous or Decimal(0))
    return f"{dimension} {line.key}: {before} -> {money(line.amount, currency)} ({sign}{format_money(line.change)})"


def detail_lines(report: Report) -> list[str]:
    """Movers, budgets, alerts, recommendations and unit costs as plain lines."""
    lines: list[str] = []
    movers = [(d, m) for d in ("service", "provider", "tenant") for m in report.movers.get(d, [])[:MOVERS]]
    if movers:
        lines += ["Top movers:", *(f"  {mover_text(d, m, report.currency)}" for d, m in movers)]
    if report.budgets:
        lines.append(f"Budgets through {report.end}:")
        lines += [
            f"  {b.name} ({b.period}): {money(b.spent, b.currency)} of {format_money(b.amount)}, "
            f"{b.utilisation} % {b.status}"
            for b in report.budgets
        ]
    lines.append(f"Alerts opened: {report.alerts_opened}")
    lines += [f"  {a.severity.upper()} {a.kind}: {a.title}" for a in report.alerts[:10]]
    savings = money(report.recommendations_monthly_savings, report.currency)
    lines.append(f"Open recommendations: {report.recommendations_open}, saving {savings} a month")
    for unit in report.unit_costs:
        per = "n/a" if unit.unit_cost is None else f"{unit.unit_cost.normalize():f} {report.currency}"
        lines.append(f"Unit cost {unit.name}{f' ({unit.tenant})' if unit.tenant else ''}: {per}")
    return lines


def render_text(report: Report) -> str:
    """The report as a plain-text message (an SNS e-mail body, or what the console prints)."""
    lines = [headline(report), f"Change: {change_text(report)}"]
    if report.projection is not None:
        p = report.projection
        lines.append(
            f"Projected {p.month} month end: {money(p.amount, report.currency)} "
            f"({p.level} % interval {format_money(p.lower)} to {format_money(p.upper)})"
        )
    lines += detail_lines(report)
    if spark := sparkline(spark_values(report)):
        lines.append(f"Daily cost: {spark}")
    if report.links:
        until = f" (links work until {report.links_expire_at:%Y-%m-%d %H:%M} UTC)" if report.links_expire_at else ""
        lines.append(f"Report{until}:")
        lines += [f"  {kind.upper()}: {url}" for kind, url in sorted(report.links.items(), reverse=True)]
    lines.append(f"Report {report.id} (time zone {report.timezone}); GET /v1/reports/{report.id}")
    return clip("\n".join(lines), MAX_BODY)
