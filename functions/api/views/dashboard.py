"""The dashboard page: one server-rendered HTML document with inline CSS and SVG, no script, nothing fetched.

Every string that comes from data (sources, services, budget names, alert titles) is escaped here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from spendwatch.domain import trend_chart
from spendwatch.domain.alerts import SEVERITY_RANK, describe_scope
from spendwatch.domain.money import ZERO, format_money
from spendwatch.domain.unit_costs import unit_cost_rows

from api import deps
from api.views import overview

if TYPE_CHECKING:
    from spendwatch.domain.alerts import Alert
    from spendwatch.domain.audit import AuditEntry
    from spendwatch.domain.budgets import StoredBudget
    from spendwatch.domain.capacity import Capacity
    from spendwatch.domain.recommendations.model import Recommendation
    from spendwatch.domain.reports import Report
    from spendwatch.domain.unit_costs import UnitCostRow

    from api.schemas import BudgetStatus

CHART_DAYS = 90
TOP_ROWS = 12  # breakdown rows before the rest is folded into one
MAX_ALERTS = 25
MAX_RECOMMENDATIONS = 10
LATEST_REPORTS = 6
MAX_CHANGES = 10
WARN_UTILISATION = Decimal(80)
SEVERITY_ORDER = ("critical", "warning", "info")
# Nothing may be loaded from anywhere: the page is read on closed networks and carries a token in its URL.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action {}; frame-ancestors 'none'"
HEADERS = {
    "Content-Security-Policy": _CSP.format("'none'"),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
CONTENT_TYPE = "text/html; charset=utf-8"


Dashboard = overview.Snapshot


@dataclass(frozen=True)
class SignedIn:
    """A person signed in through Cognito: who, where the page's sign-out button posts, and the login's origin
    (signing out passes through it on the way back to the page)."""

    email: str
    signout_url: str
    login_url: str


def headers(person: SignedIn | None = None) -> dict[str, str]:
    """The page's headers: with a person signed in, its one form may post to the page and go on to the login."""
    if person is None:
        return HEADERS
    return {**HEADERS, "Content-Security-Policy": _CSP.format(f"'self' {person.login_url}")}


def build(now: datetime | None = None) -> Dashboard:
    """Read the page's figures through the overview module the JSON routes share, this month's unit costs and the
    latest reports and the latest changes made through the API."""
    data = overview.snapshot(now)
    config, store = deps.config(), deps.store()
    data.reports = store.list_reports(LATEST_REPORTS)[0]
    if config.unit_costs:
        first = data.now.date().replace(day=1)
        data.unit_costs = [
            row
            for unit in config.unit_costs
            for row in unit_cost_rows(store, unit, config.currency, first, data.now.date())
        ]
    data.changes, _ = store.audit_entries(MAX_CHANGES)
    return data


def render(data: Dashboard, person: SignedIn | None = None) -> str:
    """The whole HTML document (with a sign-out button when a person signed in)."""
    summary = data.summary
    sections = [
        _header(data, person),
        _kpis(data),
        _trend(summary),
        '<div class="cols">',
        _breakdown("providers", "By provider, month to date", "provider", data.providers, summary.currency),
        _breakdown("services", "By service, month to date", "service", data.services, summary.currency),
        "</div>",
        _budgets(data.budgets, summary.currency),
        _capacity(data.capacity),
        _unit_costs(data.unit_costs),
        _alerts(data.alerts),
        _recommendations(data.recommendations, summary.currency),
        _reports(data.reports, data.now),
        _freshness(data.freshness, data.now),
        _changes(data.changes),
        '<footer class="muted">The same figures as JSON: /v1/costs/summary, /v1/costs, /v1/budgets, '
        "/v1/alerts, /v1/recommendations, /v1/reports, /v1/collections, /v1/capacity, /v1/unit-costs and /v1/audit."
        "</footer>",
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>spendwatch: {escape(summary.month)} costs</title><style>{CSS}</style></head>"
        "<body><main>" + "".join(sections) + "</main></body></html>"
    )


def _money(amount: Decimal, currency: str) -> str:
    return f"{format_money(amount)} {escape(currency)}"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    moment = moment.astimezone(UTC)
    return f'<time datetime="{moment.isoformat()}">{moment:%Y-%m-%d %H:%M} UTC</time>'


def _ago(now: datetime, moment: datetime) -> str:
    minutes = int((now - moment).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes} min ago"
    hours = minutes // 60
    return f"{hours} h ago" if hours < 48 else f"{hours // 24} d ago"


def signout_form(person: SignedIn | None) -> str:
    """Who is signed in and the sign-out button (a POST to the page's own origin), or nothing."""
    if person is None:
        return ""
    return (
        f'<form method="post" action="{escape(person.signout_url)}"><span class="muted">{escape(person.email)}</span> '
        '<button type="submit">Sign out</button></form>'
    )


def _header(data: Dashboard, person: SignedIn | None) -> str:
    return (
        f'<header><h1>spendwatch</h1><p class="muted">Costs in {escape(data.summary.currency)} · '
        f"month {escape(data.summary.month)} · as of {_when(data.now)}</p>{signout_form(person)}</header>"
    )


def _kpi(key: str, title: str, value: str, note: str) -> str:
    return (
        f'<section class="card kpi" id="kpi-{key}"><h2>{title}</h2><p class="value">{value}</p><p>{note}</p></section>'
    )


def _change(summary: overview.MonthSummary) -> str:
    last = _money(summary.same_period_last_month, summary.currency)
    if summary.change_pct is None:
        return f"the same days last month: {last}"
    sign = "+" if summary.change_pct > 0 else ""
    return f"{sign}{summary.change_pct} % against {last} the same days last month"


def _kpis(data: Dashboard) -> str:
    summary, currency = data.summary, data.summary.currency
    amount, lower, upper = summary.projected
    interval = f"{round(overview.INTERVAL_LEVEL * 100)} % interval: {format_money(lower)} to {_money(upper, currency)}"
    over = sum(1 for _, status in data.budgets if Decimal(status.utilisation) >= 100)
    severities = Counter[str](a.severity for a in data.alerts)
    by_severity = ", ".join(f"{severities[s]} {s}" for s in SEVERITY_ORDER if severities[s])
    kpis = [
        _kpi("mtd", "Month to date", _money(summary.month_to_date, currency), _change(summary)),
        _kpi("projected", "Projected month end", _money(amount, currency), interval),
        _kpi("budgets", "Budgets", str(len(data.budgets)), f"{over} at or over 100 %" if data.budgets else "none"),
        _kpi("alerts", "Open alerts", str(len(data.alerts)), by_severity or "nothing needs attention"),
    ]
    return '<div class="kpis">' + "".join(kpis) + "</div>"


def _trend(summary: overview.MonthSummary) -> str:
    level = round(overview.INTERVAL_LEVEL * 100)
    head = f'<section class="card" id="trend"><h2>Daily cost: the last {CHART_DAYS} days and the 30-day forecast</h2>'
    if not any(amount != ZERO for _, amount in summary.series):
        return head + '<p class="empty">No cost data yet: the chart appears after the first collection.</p></section>'
    before = [(day, amount) for day, amount in summary.series if day < summary.today]
    so_far = sum((amount for day, amount in summary.series if day == summary.today), ZERO)
    trend = trend_chart.Trend(before[-CHART_DAYS:], so_far, summary.forecast, summary.today, summary.currency, level)
    legend = (
        '<ul class="legend"><li><span class="key actual"></span>actual</li>'
        '<li><span class="key forecast"></span>forecast</li>'
        f'<li><span class="key band"></span>{level} % prediction interval</li>'
        '<li><span class="key today"></span>today</li>'
        + ('<li><span class="key so-far"></span>today so far</li>' if so_far else "")
        + "</ul>"
    )
    return head + trend_chart.render(trend) + legend + "</section>"


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], foot: Sequence[str] | None = None) -> str:
    """A table of already-escaped cells; a column named with a leading '#' is numeric (right-aligned)."""
    numeric = [c.startswith("#") for c in columns]

    def cells(tag: str, row: Sequence[str]) -> str:
        return "".join(f"<{tag}{' class=num' if n else ''}>{c}</{tag}>" for c, n in zip(row, numeric, strict=True))

    head = cells("th", [c.lstrip("#") for c in columns])
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    tail = f"<tfoot><tr>{cells('td', foot)}</tr></tfoot>" if foot else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>{tail}</table>"


def _bar(percent: Decimal, css: str = "") -> str:
    width = min(max(percent, ZERO), Decimal(100))
    return f'<div class="bar {css}"><span style="width:{width:.1f}%"></span></div>'


def _breakdown(key: str, title: str, noun: str, totals: dict[str, Decimal], currency: str) -> str:
    head = f'<section class="card" id="{key}"><h2>{title}</h2>'
    if not totals:
        return head + '<p class="empty">No costs this month yet.</p></section>'
    rows = list(totals.items())
    if len(rows) > TOP_ROWS:
        rest = rows[TOP_ROWS - 1 :]
        rows = [*rows[: TOP_ROWS - 1], (f"{len(rest)} more {noun}s", sum((a for _, a in rest), ZERO))]
    total = sum(totals.values(), ZERO)
    largest = max(*(a for _, a in rows), ZERO)
    table_rows = [
        [
            escape(name),
            _bar(amount / largest * 100 if largest else ZERO),
            format_money(amount),
            f"{(amount / total * 100):.1f} %" if total > 0 else "",
        ]
        for name, amount in rows
    ]
    columns = [noun.capitalize(), "", f"#{escape(currency)}", "#Share"]
    return head + _table(columns, table_rows, ["Total", "", format_money(total), ""]) + "</section>"


def _budgets(budgets: list[tuple[StoredBudget, BudgetStatus]], default_currency: str) -> str:
    head = '<section class="card" id="budgets"><h2>Budgets, current period</h2>'
    if not budgets:
        return head + '<p class="empty">No budgets: add them in spendwatch.toml or with POST /v1/budgets.</p></section>'
    rows = []
    for stored, status in budgets:
        budget = stored.budget
        currency = budget.currency or default_currency
        used = Decimal(status.utilisation)
        css = "over" if used >= 100 else "warn" if used >= WARN_UTILISATION else ""
        rows.append(
            [
                f'{escape(budget.name)}<div class="note">{escape(describe_scope(budget.scope))}</div>',
                f'{escape(status.period)}<div class="note">{status.start} to {status.end}</div>',
                f"{escape(status.spent)} {escape(currency)}",
                _money(budget.amount, currency),
                _bar(used, css),
                f"{escape(status.utilisation)} %",
            ]
        )
    return head + _table(["Budget", "Period", "#Spent", "#Amount", "Utilisation", "#Used"], rows) + "</section>"


def _qty(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


STATUS_CSS = {"ok": "succeeded", "warning": "warning", "critical": "critical", "exceeded": "critical"}


def _capacity(standings: list[Capacity]) -> str:
    head = '<section class="card" id="capacity"><h2>Capacity: plan limits against usage</h2>'
    if not standings:
        return head + '<p class="empty">No plan limits: add [[limits]] to spendwatch.toml.</p></section>'
    rows = []
    for c in standings:
        percent = c.utilisation * 100
        css = "over" if c.status in ("critical", "exceeded") else "warn" if c.status == "warning" else ""
        reach = "not within a year" if c.limit_date is None else f"{c.days_to_limit} d, {c.limit_date}"
        rows.append(
            [
                f'{escape(c.name)}<div class="note">{escape(c.metric)} · {escape(describe_scope(c.scope))}</div>',
                escape(c.plan or ""),
                f"{_qty(c.used)} / {_qty(c.limit)}",
                _bar(percent, css),
                f"{percent:.1f} %",
                f'<span class="badge {STATUS_CSS[c.status]}">{escape(c.status)}</span>',
                f'<span class="nowrap">{reach}</span><div class="note">data through {c.data_through or "none"}</div>',
            ]
        )
    columns = ["Limit", "Plan", "#Used / limit", "Utilisation", "#Used", "Status", "Limit reached"]
    return head + _table(columns, rows) + "</section>"


def _unit_costs(rows: list[UnitCostRow]) -> str:
    if not rows:
        return ""
    head = '<section class="card" id="unit-costs"><h2>Unit costs, month to date</h2>'
    table_rows = [
        [
            escape(r.name),
            escape(r.tenant) or '<span class="muted">all</span>',
            _money(r.cost, r.currency),
            _qty(r.quantity),
            "" if r.unit_cost is None else f"{_qty(r.unit_cost)} {escape(r.currency)}",
        ]
        for r in rows
    ]
    columns = ["Unit cost", "Tenant", "#Cost", "#Quantity", "#Per unit"]
    return head + _table(columns, table_rows) + "</section>"


def _alerts(alerts: list[Alert]) -> str:
    head = f'<section class="card" id="alerts"><h2>Open alerts ({len(alerts)}), most severe first</h2>'
    if not alerts:
        return head + '<p class="empty">No open alerts.</p></section>'
    rows = [
        [
            f'<span class="badge {escape(a.severity)}">{escape(a.severity)}</span>',
            escape(a.kind),
            f'{escape(a.title)}<div class="note">{escape(a.message)}</div>',
            f'<span class="nowrap">{escape(a.period)}</span>',
            _when(a.created_at),
            _when(a.data_through),
        ]
        for a in sorted(alerts, key=lambda a: SEVERITY_RANK[a.severity], reverse=True)[:MAX_ALERTS]
    ]
    table = _table(["Severity", "Kind", "Alert", "Period", "Opened", "Data through"], rows)
    more = len(alerts) - MAX_ALERTS
    tail = f'<p class="note">{more} more: GET /v1/alerts?status=open lists them all.</p>' if more > 0 else ""
    return head + table + tail + "</section>"


def _resource(rec: Recommendation) -> str:
    resource = rec.resource
    where = " · ".join(escape(part) for part in (resource.provider, resource.type, resource.region) if part)
    name = escape(resource.name or resource.id)
    ident = f" · {escape(resource.id)}" if resource.name and resource.name != resource.id else ""
    return f'{name}<div class="note">{where}{ident}</div>'


def _recommendations(recs: list[Recommendation], currency: str) -> str:
    """The open recommendations, biggest savings first (``recs`` comes in that order), the first ones shown."""
    totals = overview.recommendation_totals(recs, currency)
    elsewhere = ", ".join(totals.other_currencies)
    others = f" (not counting amounts in {escape(elsewhere)})" if elsewhere else ""
    head = (
        f'<section class="card" id="recommendations"><h2>Open recommendations ({totals.open}), '
        f"{_money(totals.monthly_savings, currency)} a month{others}, biggest savings first</h2>"
    )
    if not recs:
        return head + '<p class="empty">No open recommendations.</p></section>'
    rows = [
        [
            escape(rec.kind),
            _resource(rec),
            f'{escape(rec.title)}<div class="note">{escape(rec.detail)}</div>',
            _money(rec.monthly_savings, rec.currency),
            f'<span class="badge confidence-{escape(rec.confidence)}">{escape(rec.confidence)}</span>',
        ]
        for rec in recs[:MAX_RECOMMENDATIONS]
    ]
    table = _table(["Kind", "Resource", "Recommendation", "#Monthly savings", "Confidence"], rows)
    more = len(recs) - MAX_RECOMMENDATIONS
    tail = f'<p class="note">{more} more: GET /v1/recommendations?status=open lists them all.</p>' if more > 0 else ""
    return head + table + tail + "</section>"


def _reports(reports: list[Report], now: datetime) -> str:
    """The latest reports, newest period first, with links to their pages while the presigned links work."""
    head = '<section class="card" id="reports"><h2>Latest reports</h2>'
    if not reports:
        return head + '<p class="empty">No reports yet: they are made on the [reports] schedules.</p></section>'
    rows = []
    for report in reports:
        period = str(report.start) if report.start == report.end else f"{report.start} to {report.end}"
        live = report.links_expire_at is not None and report.links_expire_at > now
        files = " · ".join(
            f'<a href="{escape(report.links[kind], quote=True)}">{kind.upper()}</a>'
            if live and kind in report.links
            else f'<span class="note">{escape(uri)}</span>'
            for kind, uri in sorted(report.artifacts.items(), reverse=True)
        )
        change = "" if report.change_pct is None else f"{'+' if report.change_pct > 0 else ''}{report.change_pct} %"
        rows.append(
            [
                escape(report.kind),
                f'<span class="nowrap">{period}</span><div class="note">/v1/reports/{escape(report.id)}</div>',
                _money(report.total, report.currency),
                change,
                str(report.alerts_opened),
                files,
            ]
        )
    columns = ["Report", "Period", "#Total", "#Change", "#Alerts opened", "Files"]
    return head + _table(columns, rows) + "</section>"


def _freshness(sources: list[overview.Freshness], now: datetime) -> str:
    head = '<section class="card" id="freshness"><h2>Data freshness per source</h2>'
    if not sources:
        return head + '<p class="empty">No collection runs yet.</p></section>'
    rows = [
        [
            escape(s.source),
            escape(s.type),
            f'<span class="badge {escape(s.status)}">{escape(s.status)}</span>',
            f'{_when(s.last_run_at)}<div class="note">{_ago(now, s.last_run_at)}</div>',
            _when(s.last_success_at),
            f'{_when(s.data_through)}<div class="note">{_ago(now, s.data_through)}</div>' if s.data_through else "none",
        ]
        for s in sources
    ]
    columns = ["Source", "Type", "Status", "Last run", "Last success", "Data through"]
    return head + _table(columns, rows) + "</section>"


def _target(entry: AuditEntry) -> str:
    """What a change was made to: its name or title when it has one, and its type and id."""
    shown = entry.after or entry.before or {}
    label = shown.get("name") or shown.get("title")
    ident = f"{escape(entry.target.type)} {escape(entry.target.id)}"
    return f'{escape(str(label))}<div class="note">{ident}</div>' if label else ident


def _changes(entries: list[AuditEntry]) -> str:
    """The latest changes made through the API, newest first (``entries`` comes in that order)."""
    head = '<section class="card" id="changes"><h2>Recent changes</h2>'
    if not entries:
        return head + '<p class="empty">No changes made through the API yet.</p></section>'
    rows = [[_when(e.at), escape(e.actor), f"<code>{escape(e.action)}</code>", _target(e)] for e in entries]
    tail = '<p class="note">GET /v1/audit lists every change of the last 400 days.</p>'
    return head + _table(["When", "Who", "What", "Target"], rows) + tail + "</section>"


CSS = (
    ":root{--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--card:#fff;--line:#d8dee4;--actual:#0969da;"
    "--forecast:#8250df;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;color-scheme:light dark}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#161b22;"
    "--line:#30363d;--actual:#4493f8;--forecast:#ab7df8;--ok:#3fb950;--warn:#d29922;--bad:#f85149}}"
    "*{box-sizing:border-box}"
    'body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;'
    "color:var(--fg);background:var(--bg)}"
    "main{max-width:1160px;margin:0 auto;padding:20px}"
    "header{display:flex;justify-content:space-between;align-items:baseline;flex-wrap:wrap;gap:4px 16px}"
    "h1{font-size:22px;margin:0}header p,header form{margin:0}button{font:inherit}"
    "h2{font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);"
    "margin:0 0 10px}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin-top:16px}"
    ".kpis,.cols{display:grid;gap:0 16px}.kpis{grid-template-columns:repeat(auto-fit,minmax(200px,1fr))}"
    ".cols{grid-template-columns:repeat(auto-fit,minmax(420px,1fr));align-items:start}"
    ".kpi p{margin:0;color:var(--muted)}.kpi .value{font-size:24px;font-weight:600;color:var(--fg);"
    "font-variant-numeric:tabular-nums}"
    ".muted,.note,.empty{color:var(--muted)}.note{font-size:12px}.empty{margin:0}footer{margin:16px 0 0;font-size:12px}"
    "table{width:100%;border-collapse:collapse}"
    "th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}"
    "th{font-size:12px;font-weight:600;color:var(--muted)}tbody tr:last-child td{border-bottom:0}"
    "tfoot td{font-weight:600;border-top:1px solid var(--line);border-bottom:0}"
    ".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td:has(>.bar){width:22%;vertical-align:middle}time,.nowrap{white-space:nowrap}"
    ".bar{height:8px;min-width:48px;background:var(--line);border-radius:4px;overflow:hidden}"
    ".bar>span{display:block;height:100%;background:var(--actual)}"
    ".bar.warn>span{background:var(--warn)}.bar.over>span{background:var(--bad)}"
    ".badge{display:inline-block;padding:0 8px;border:1px solid currentColor;border-radius:10px;font-size:12px;"
    "font-weight:600}.critical,.failed{color:var(--bad)}.warning,.partial,.running{color:var(--warn)}"
    ".info{color:var(--muted)}.succeeded{color:var(--ok)}"
    ".chart{display:block;width:100%;height:auto}.chart text{fill:var(--muted);font-size:12px}"
    ".chart .axis-title,.chart .today-label{fill:var(--fg)}"
    ".chart .grid{stroke:var(--line)}.chart .axis{stroke:var(--muted)}"
    ".chart .actual{fill:none;stroke:var(--actual);stroke-width:2;stroke-linejoin:round}"
    ".chart .forecast{fill:none;stroke:var(--forecast);stroke-width:2;stroke-dasharray:6 4}"
    ".chart .band{fill:var(--forecast);fill-opacity:.18}.chart .today{stroke:var(--fg);stroke-dasharray:2 3}"
    ".chart .hover rect{fill:transparent}.chart .hover rect:hover{fill:var(--line);fill-opacity:.6}"
    ".legend{display:flex;flex-wrap:wrap;gap:4px 20px;list-style:none;margin:8px 0 0;padding:0 0 0 76px;"
    "color:var(--muted);font-size:12px}"
    ".key{display:inline-block;width:18px;margin-right:6px;vertical-align:middle;border-top:2px solid var(--actual)}"
    ".key.forecast{border-top:2px dashed var(--forecast)}"
    ".key.band{height:10px;border:0;background:var(--forecast);opacity:.3}"
    ".key.today{border-top:2px dotted var(--fg)}.key.so-far{width:8px;height:8px;border:2px solid var(--actual);"
    "border-radius:50%}.chart .so-far{fill:var(--card);stroke:var(--actual);stroke-width:2}"
)
