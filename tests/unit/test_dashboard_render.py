"""The dashboard's pure parts: the chart's axis maths and geometry, and how the page folds long breakdowns."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from spendwatch.domain import trend_chart
from spendwatch.domain.forecast import ForecastPoint

from api.views import dashboard, overview

TODAY = date(2026, 3, 15)
NICE_MANTISSAS = {Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5)}
spans = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10) ** 9, places=2)


def _mantissa(step: Decimal) -> Decimal:
    return step.scaleb(-step.adjusted()).normalize()


@given(spans)
def test_nice_step_is_round_and_the_smallest_giving_at_most_five_intervals(span: Decimal) -> None:
    step = trend_chart.nice_step(span)
    assert _mantissa(step) in NICE_MANTISSAS or _mantissa(step) == 10
    assert span / step <= trend_chart.TICKS
    smaller = [m.scaleb(e) for m in NICE_MANTISSAS for e in range(step.adjusted() - 1, step.adjusted() + 1)]
    assert all(span / s > trend_chart.TICKS for s in smaller if s < step)


def _trend(actuals: list[Decimal], forecast: list[tuple[Decimal, Decimal, Decimal]]) -> trend_chart.Trend:
    days = [TODAY - timedelta(days=len(actuals) - i) for i in range(len(actuals))]
    points = [ForecastPoint(TODAY + timedelta(days=i), *f) for i, f in enumerate(forecast)]
    return trend_chart.Trend(list(zip(days, actuals, strict=True)), Decimal(0), points, TODAY, "USD", 80)


def _numbers(svg: str, element: str, css: str) -> list[Decimal]:
    """Every coordinate of one polyline or polygon, x and y alternating."""
    match = re.search(rf'<{element} class="{css}" points="([^"]+)"', svg)
    assert match, css
    return [Decimal(n) for pair in match[1].split() for n in pair.split(",")]


def test_everything_drawn_stays_inside_the_plot_and_credits_put_zero_above_the_bottom() -> None:
    svg = trend_chart.render(
        _trend([Decimal(-30), Decimal(10), Decimal(95)], [(Decimal(90), Decimal(70), Decimal(140))])
    )
    top, bottom = trend_chart.TOP, trend_chart.HEIGHT - trend_chart.BOTTOM
    for element, css in (("polyline", "actual"), ("polyline", "forecast"), ("polygon", "band")):
        ys = _numbers(svg, element, css)[1::2]
        assert all(top <= y <= bottom for y in ys)
    ticks = re.findall(r'<text class="tick"[^>]*text-anchor="end">([^<]+)</text>', svg)
    assert ticks == ["-50", "0", "50", "100", "150"]


def test_the_band_encloses_the_forecast_line() -> None:
    forecast = [(Decimal(10 + i), Decimal(5 + i), Decimal(20 + i)) for i in range(30)]
    svg = trend_chart.render(_trend([Decimal(12)] * 60, forecast))
    band = _numbers(svg, "polygon", "band")
    assert len(band) == 2 * 2 * len(forecast)  # x and y of each upper bound, then of each lower bound
    upper_ys, lower_ys = band[1 : 2 * 30 : 2], band[2 * 30 + 1 :: 2][::-1]
    line_ys = _numbers(svg, "polyline", "forecast")[3::2]  # after the point joining it to the actual line
    assert all(u <= y <= low for u, y, low in zip(upper_ys, line_ys, lower_ys, strict=True))


def _dashboard(services: dict[str, Decimal]) -> dashboard.Dashboard:
    total = sum(services.values(), Decimal(0))
    summary = overview.MonthSummary(
        today=TODAY,
        currency="USD",
        month="2026-03",
        month_to_date=total,
        same_period_last_month=Decimal(0),
        change_pct=None,
        projected=(total, total, total),
        accuracy=None,
        series=[(TODAY, total)],
        forecast=[],
    )
    now = datetime(2026, 3, 15, 12, tzinfo=UTC)
    return dashboard.Dashboard(now, summary, {"AWS": total}, services, [], [], [])


def test_a_long_breakdown_keeps_the_largest_and_folds_the_rest_into_one_row() -> None:
    services = {f"service {n:02}": Decimal(100 - n) + Decimal("0.005") for n in range(20)}
    page = dashboard.render(_dashboard(services))
    section = page[page.index('id="services"') : page.index("</section>", page.index('id="services"'))]
    rows = re.findall(r"<tr><td>([^<]+)</td><td><div.*?</div></td><td class=num>([^<]+)</td>", section)
    assert [name for name, _ in rows] == [f"service {n:02}" for n in range(11)] + ["9 more services"]
    assert rows[-1][1] == "765.04"  # 89 + 88 + ... + 81, and 9 half-cents rounded once, half to even
    assert re.search(r"<tfoot><tr><td>Total</td><td></td><td class=num>1810.10</td>", section)


def test_signed_in_people_get_an_escaped_sign_out_form_the_page_may_post() -> None:
    person = dashboard.SignedIn(
        email='"><script>alert(1)</script>@example.com',
        signout_url="https://abc.execute-api.eu-west-1.amazonaws.com/prod/auth/signout",
        login_url="https://costs.auth.eu-west-1.amazoncognito.com",
    )
    form = dashboard.signout_form(person)
    assert form.startswith(f'<form method="post" action="{person.signout_url}">')
    assert "<script>" not in form and "&lt;script&gt;" in form
    assert dashboard.signout_form(None) == ""
    policy = dashboard.headers(person)["Content-Security-Policy"]
    assert f"form-action 'self' {person.login_url};" in policy  # sign-out goes on to the managed login's /logout
    assert "form-action 'none'" in dashboard.headers(None)["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
