"""The trend chart: daily actuals, the forecast and its prediction band, as inline SVG.

Drawn by the dashboard page and by the reports' HTML pages. Coordinates are computed with Decimal like every
amount they come from, and written with one decimal. Every element carries presentation attributes (colours,
strokes, font) as well as its class, so the chart reads the same where no stylesheet applies (a mail client);
the dashboard's stylesheet overrides them (dark mode, hover).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from html import escape
from typing import TYPE_CHECKING

from spendwatch.domain.money import ZERO, format_money

if TYPE_CHECKING:
    from spendwatch.domain.forecast import ForecastPoint

WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 76, 16, 26, 46
PLOT_W = Decimal(WIDTH - LEFT - RIGHT)
PLOT_H = Decimal(HEIGHT - TOP - BOTTOM)
TICKS = 5
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
# Presentation attributes per class (the light palette of the dashboard's stylesheet).
STYLE = {
    "grid": 'stroke="#d8dee4"',
    "axis": 'stroke="#59636e"',
    "tick": 'fill="#59636e" font-size="12" font-family="sans-serif"',
    "axis-title": 'fill="#1f2328" font-size="12" font-family="sans-serif"',
    "today-label": 'fill="#1f2328" font-size="12" font-family="sans-serif"',
    "today": 'stroke="#1f2328" stroke-dasharray="2 3"',
    "band": 'fill="#8250df" fill-opacity="0.18"',
    "forecast": 'fill="none" stroke="#8250df" stroke-width="2" stroke-dasharray="6 4"',
    "actual": 'fill="none" stroke="#0969da" stroke-width="2" stroke-linejoin="round"',
    "so-far": 'fill="#ffffff" stroke="#0969da" stroke-width="2"',
}


@dataclass(frozen=True)
class Scale:
    """Maps days and amounts to SVG coordinates."""

    first: date
    days: int
    low: Decimal
    high: Decimal

    def x(self, day: date) -> Decimal:
        """Horizontal position of a day."""
        return LEFT + PLOT_W * (day - self.first).days / max(self.days - 1, 1)

    def y(self, amount: Decimal) -> Decimal:
        """Vertical position of an amount."""
        return TOP + PLOT_H * (self.high - amount) / (self.high - self.low)


@dataclass(frozen=True)
class Trend:
    """What the chart draws: complete days up to yesterday, today so far, and the forecast from today."""

    actuals: Sequence[tuple[date, Decimal]]  # oldest first, ending yesterday at the latest
    so_far: Decimal
    forecast: Sequence[ForecastPoint]
    today: date
    currency: str
    level: int  # of the prediction interval, in percent
    marker: str = "today"  # the label of the vertical line at ``today``
    x_title: str = "Day (UTC)"


def nice_step(span: Decimal) -> Decimal:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving at most ``TICKS`` intervals over ``span``."""
    raw = span / TICKS if span > 0 else Decimal(1)
    magnitude = Decimal(1).scaleb(raw.adjusted())
    return next(m * magnitude for m in NICE_STEPS if m * magnitude >= raw)


def _scale(trend: Trend) -> tuple[Scale, Decimal]:
    values = [a for _, a in trend.actuals] + [trend.so_far]
    values += [p.upper for p in trend.forecast] + [p.lower for p in trend.forecast]
    low, high = min([ZERO, *values]), max([ZERO, *values])
    step = nice_step(high - low)
    low = (low / step).to_integral_value(ROUND_FLOOR) * step
    high = max((high / step).to_integral_value(ROUND_CEILING) * step, low + step)
    first = trend.actuals[0][0] if trend.actuals else trend.today
    last = max([trend.today, *(p.day for p in trend.forecast)])
    return Scale(first, (last - first).days + 1, low, high), step


def _n(value: Decimal) -> str:
    return f"{value:.1f}"


def _points(scale: Scale, values: Sequence[tuple[date, Decimal]]) -> str:
    return " ".join(f"{_n(scale.x(day))},{_n(scale.y(amount))}" for day, amount in values)


def _tick_label(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _y_axis(scale: Scale, step: Decimal, currency: str) -> list[str]:
    parts = []
    value = scale.low
    while value <= scale.high:
        y = _n(scale.y(value))
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" {STYLE["grid"]}/>')
        parts.append(
            f'<text class="tick" {STYLE["tick"]} x="{LEFT - 8}" y="{y}" dy="0.32em" text-anchor="end">'
            f"{_tick_label(value)}</text>"
        )
        value += step
    middle = _n(TOP + PLOT_H / 2)
    parts.append(
        f'<text class="axis-title" {STYLE["axis-title"]} transform="translate(16 {middle}) rotate(-90)" '
        'text-anchor="middle">'
        f"{escape(currency)} per day</text>"
    )
    return parts


def _x_axis(scale: Scale, title: str) -> list[str]:
    bottom = TOP + PLOT_H
    parts = [f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" {STYLE["axis"]}/>']
    for offset in range(scale.days):
        day = date.fromordinal(scale.first.toordinal() + offset)
        if day.day != 1:
            continue
        x = _n(scale.x(day))
        parts.append(f'<line class="axis" x1="{x}" x2="{x}" y1="{bottom}" y2="{bottom + 5}" {STYLE["axis"]}/>')
        parts.append(
            f'<text class="tick" {STYLE["tick"]} x="{x}" y="{bottom + 18}" text-anchor="middle">'
            f"{day:%b} {day.day}</text>"
        )
    parts.append(
        f'<text class="axis-title" {STYLE["axis-title"]} x="{_n(LEFT + PLOT_W / 2)}" y="{HEIGHT - 6}" '
        f'text-anchor="middle">{escape(title)}</text>'
    )
    return parts


def _today(scale: Scale, today: date, label: str) -> list[str]:
    x = _n(scale.x(today))
    return [
        f'<line class="today" x1="{x}" x2="{x}" y1="{TOP - 4}" y2="{_n(TOP + PLOT_H)}" {STYLE["today"]}/>',
        f'<text class="today-label" {STYLE["today-label"]} x="{x}" y="{TOP - 9}" text-anchor="middle">'
        f"{escape(label)}</text>",
    ]


def _series(scale: Scale, trend: Trend) -> list[str]:
    parts = []
    if trend.forecast:
        upper = [(p.day, p.upper) for p in trend.forecast]
        lower = [(p.day, p.lower) for p in reversed(trend.forecast)]
        parts.append(f'<polygon class="band" points="{_points(scale, upper + lower)}" {STYLE["band"]}/>')
        # Starting from the last complete day joins the forecast to the actual line.
        line = [*trend.actuals[-1:], *((p.day, p.amount) for p in trend.forecast)]
        parts.append(f'<polyline class="forecast" points="{_points(scale, line)}" {STYLE["forecast"]}/>')
    if trend.actuals:
        parts.append(f'<polyline class="actual" points="{_points(scale, trend.actuals)}" {STYLE["actual"]}/>')
    if trend.so_far:
        x, y = _n(scale.x(trend.today)), _n(scale.y(trend.so_far))
        parts.append(f'<circle class="so-far" cx="{x}" cy="{y}" r="3.5" {STYLE["so-far"]}/>')
    return parts


def _notes(trend: Trend) -> dict[date, list[str]]:
    currency, notes = trend.currency, {}
    for day, amount in trend.actuals:
        notes[day] = [f"actual {format_money(amount)} {currency}"]
    if trend.so_far or trend.marker == "today":
        notes[trend.today] = [f"so far {format_money(trend.so_far)} {currency}"]
    for p in trend.forecast:
        notes.setdefault(p.day, []).append(
            f"forecast {format_money(p.amount)} {currency} "
            f"({trend.level} %: {format_money(p.lower)} to {format_money(p.upper)})"
        )
    return notes


def _hover(scale: Scale, trend: Trend) -> list[str]:
    """One invisible column per day whose tooltip gives that day's figures (no script needed)."""
    width = PLOT_W / max(scale.days - 1, 1)
    parts = ['<g class="hover" fill="transparent">']
    for day, texts in sorted(_notes(trend).items()):
        x = _n(scale.x(day) - width / 2)
        title = escape(f"{day.isoformat()}: {'; '.join(texts)}")
        parts.append(f'<rect x="{x}" y="{TOP}" width="{_n(width)}" height="{_n(PLOT_H)}"><title>{title}</title></rect>')
    parts.append("</g>")
    return parts


def render(trend: Trend) -> str:
    """The SVG: daily actuals, then the forecast with its prediction band; today marked."""
    scale, step = _scale(trend)
    body = [
        *_y_axis(scale, step, trend.currency),
        *_x_axis(scale, trend.x_title),
        *_series(scale, trend),
        *_today(scale, trend.today, trend.marker),
        *_hover(scale, trend),
    ]
    last = date.fromordinal(scale.first.toordinal() + scale.days - 1)
    description = (
        f"Daily cost in {trend.currency} from {scale.first.isoformat()} to {trend.today.isoformat()} "
        f"({trend.marker}{', so far' if trend.so_far else ''}), "
        f"then the forecast to {last.isoformat()} with its {trend.level} % prediction interval."
    )
    return (
        f'<svg class="chart" width="100%" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="chart-title chart-desc">'
        '<title id="chart-title">Daily cost trend</title>'
        f'<desc id="chart-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )
