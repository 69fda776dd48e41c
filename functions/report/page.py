"""A report as one HTML page a mail client can show: inline styles on every element, no script, nothing fetched.

The chart is the dashboard's (``domain.trend_chart``): the daily totals before and through the period, and the
forecast from the report's date to the end of that month with its prediction band. Every string that comes
from data is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from spendwatch.domain import trend_chart
from spendwatch.domain.money import format_money

if TYPE_CHECKING:
    from spendwatch.domain.reports import Report, ReportLine

    from report.build import Figures

FONT = "font-family:-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;color:#1f2328"
CARD = "background:#ffffff;border:1px solid #d8dee4;border-radius:8px;padding:16px;margin:16px 0"
H2 = "font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.05em;color:#59636e;margin:0 0 10px"
CELL = "text-align:left;padding:6px 8px;border-bottom:1px solid #d8dee4;vertical-align:top;font-size:14px"
NUM = "text-align:right;padding:6px 8px;border-bottom:1px solid #d8dee4;white-space:nowrap;font-size:14px"
MUTED = "color:#59636e;font-size:12px"
STATUS_COLOUR = {"ok": "#1a7f37", "warning": "#9a6700", "over": "#cf222e", "critical": "#cf222e", "info": "#59636e"}
TITLES = {"daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}


def period_text(report: Report) -> str:
    """``2026-10-01`` for a day, ``2026-10-05 to 2026-10-11`` for a week or month."""
    if report.start == report.end:
        return report.start.isoformat()
    return f"{report.start.isoformat()} to {report.end.isoformat()}"


def change_text(report: Report) -> str:
    """The change against the previous period, e.g. ``+12.5 % against 100.00 USD``."""
    if report.previous_total is None:
        return "no previous period"
    before = f"{format_money(report.previous_total)} {report.currency}"
    if report.change_pct is None:
        return f"the period before: {before}"
    sign = "+" if report.change_pct > 0 else ""
    return f"{sign}{report.change_pct} % against {before} the period before"


def _money(amount: Decimal, currency: str) -> str:
    return f"{format_money(amount)} {escape(currency)}"


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Cells already escaped; a column named with a leading '#' is numeric."""
    numeric = [c.startswith("#") for c in columns]
    head = "".join(
        f'<th style="{NUM if n else CELL};{MUTED};font-weight:600">{escape(c.lstrip("#"))}</th>'
        for c, n in zip(columns, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td style="{NUM if n else CELL}">{c}</td>' for c, n in zip(r, numeric, strict=True))
        + "</tr>"
        for r in rows
    )
    return f'<table style="width:100%;border-collapse:collapse"><tr>{head}</tr>{body}</table>'


def _badge(status: str, text: str) -> str:
    return f'<span style="color:{STATUS_COLOUR.get(status, "#59636e")};font-weight:600">{escape(text)}</span>'


def _section(key: str, title: str, inner: str) -> str:
    return f'<div id="{key}" style="{CARD}"><h2 style="{H2}">{escape(title)}</h2>{inner}</div>'


def _kpi(title: str, value: str, note: str) -> str:
    return (
        f'<td style="padding:0 16px 0 0;vertical-align:top"><div style="{MUTED}">{escape(title)}</div>'
        f'<div style="font-size:24px;font-weight:600">{value}</div><div style="{MUTED}">{note}</div></td>'
    )


def _kpis(report: Report) -> str:
    currency = report.currency
    cells = [_kpi("Total", _money(report.total, currency), escape(change_text(report)))]
    if report.projection is not None:
        p = report.projection
        cells.append(
            _kpi(
                f"Projected {p.month}",
                _money(p.amount, currency),
                f"{p.level} % interval: {format_money(p.lower)} to {_money(p.upper, currency)}",
            )
        )
    cells.append(_kpi("Alerts opened", str(report.alerts_opened), "in the period"))
    savings = _money(report.recommendations_monthly_savings, currency)
    cells.append(_kpi("Open recommendations", str(report.recommendations_open), f"{savings} a month"))
    return f'<table style="width:100%;border-collapse:collapse"><tr>{"".join(cells)}</tr></table>'


def _chart(figures: Figures) -> str:
    report = figures.report
    if not report.trend:
        return _section("trend", "Daily cost", f'<p style="{MUTED}">No cost data.</p>')
    actuals = [(point.day, point.amount) for point in report.trend]
    level = report.projection.level if report.projection else 80
    today = report.end if not figures.forecast else figures.forecast[0].day
    chart = trend_chart.Trend(
        actuals, Decimal(0), figures.forecast, today, report.currency, level, "report date", "Day"
    )
    legend = (
        f'<p style="{MUTED}"><span style="color:#0969da">&#9473;</span> actual &#160; '
        f'<span style="color:#8250df">&#9476;</span> forecast to month end, with its {level} % interval</p>'
    )
    title = f"Daily cost, the last {len(actuals)} days and the forecast"
    return _section("trend", title, trend_chart.render(chart) + legend)


def _lines(title: str, key: str, lines: list[ReportLine], currency: str) -> str:
    if not lines:
        return ""
    rows = []
    for line in lines:
        previous = line.previous or Decimal(0)
        sign = "+" if line.change > 0 else ""
        rows.append(
            [
                escape(line.key),
                format_money(line.amount),
                format_money(previous),
                f"{sign}{format_money(line.change)}",
            ]
        )
    return _section(key, title, _table(["", f"#{currency}", "#Period before", "#Change"], rows))


def _budgets(report: Report) -> str:
    if not report.budgets:
        return ""
    rows = [
        [
            escape(b.name),
            f'{escape(b.period)}<div style="{MUTED}">{b.start} to {b.end}</div>',
            _money(b.spent, b.currency),
            _money(b.amount, b.currency),
            _badge(b.status, f"{b.utilisation} % {b.status}"),
        ]
        for b in report.budgets
    ]
    title = f"Budgets through {report.end.isoformat()}"
    return _section("budgets", title, _table(["Budget", "Period", "#Spent", "#Amount", "#Used"], rows))


def _alerts(report: Report) -> str:
    if not report.alerts:
        return _section("alerts", "Alerts opened", f'<p style="{MUTED}">None in the period.</p>')
    rows = [
        [
            _badge(a.severity, a.severity),
            escape(a.kind),
            escape(a.title),
            f"{a.created_at:%Y-%m-%d %H:%M} UTC",
        ]
        for a in report.alerts
    ]
    return _section("alerts", f"Alerts opened ({len(rows)})", _table(["Severity", "Kind", "Alert", "Opened"], rows))


def _unit_costs(report: Report) -> str:
    if not report.unit_costs:
        return ""
    rows = [
        [
            escape(u.name),
            escape(u.tenant) or "all",
            _money(u.cost, report.currency),
            f"{u.quantity.normalize():f}",
            "" if u.unit_cost is None else f"{u.unit_cost.normalize():f}",
        ]
        for u in report.unit_costs
    ]
    return _section(
        "unit-costs", "Unit costs", _table(["Unit cost", "Tenant", "#Cost", "#Quantity", "#Per unit"], rows)
    )


def render(figures: Figures) -> str:
    """The whole HTML document."""
    report = figures.report
    title = f"spendwatch {TITLES[report.kind].lower()} report: {period_text(report)}"
    movers = "".join(
        _lines(f"Top movers by {dimension}", f"movers-{dimension}", report.movers.get(dimension, []), report.currency)
        for dimension in ("service", "provider", "tenant")
    )
    sections = [
        f'<h1 style="font-size:22px;margin:0">{escape(title)}</h1>',
        f'<p style="{MUTED}">Costs in {escape(report.currency)} · days of the data, as /v1/costs counts them · '
        f"made {report.generated_at:%Y-%m-%d %H:%M} UTC for the time zone {escape(report.timezone)}</p>",
        _section("summary", "Summary", _kpis(report)),
        _chart(figures),
        movers,
        _lines("Largest services", "services", report.breakdown.get("service", []), report.currency),
        _budgets(report),
        _alerts(report),
        _unit_costs(report),
        f'<p style="{MUTED}">The same figures: GET /v1/reports/{escape(report.id)}; every (day, provider, service) '
        "amount in the report's CSV.</p>",
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        f'<body style="margin:0;background:#f6f8fa;{FONT}">'
        f'<div style="max-width:960px;margin:0 auto;padding:20px">{"".join(sections)}</div></body></html>'
    )
