"""The alert as text: one renderer for the SNS e-mail body, Slack's fallback and sections, and the console."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from spendwatch.domain.alerts import Alert, Driver, describe_scope
from spendwatch.domain.money import format_money

# Far below SNS's 256 KB message limit, so even multi-byte text can never cross it.
MAX_BODY = 100_000
MAX_DRIVERS = 5


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def money(amount: Decimal, currency: str | None) -> str:
    """An amount with its currency, e.g. ``400.10 USD``."""
    return f"{format_money(amount)} {currency}" if currency else format_money(amount)


def percent(share: Decimal) -> str:
    """A fraction as a whole percentage (0.8 -> ``80%``)."""
    return f"{(share * 100).quantize(Decimal(1))}%"


def freshness(data_through: datetime | None) -> str:
    """How fresh the alert's data is, in UTC."""
    if data_through is None:
        return "data freshness unknown"
    moment = data_through if data_through.tzinfo else data_through.replace(tzinfo=UTC)
    return f"data through {moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def amounts(alert: Alert) -> str:
    """Actual, expected and threshold, whichever the alert has, on one line."""
    named = (("actual", alert.actual), ("expected", alert.expected), ("threshold", alert.threshold))
    return " · ".join(f"{name} {money(value, alert.currency)}" for name, value in named if value is not None)


def driver_text(driver: Driver, currency: str | None) -> str:
    """One driver: what it was expected to cost, what it cost, and its share of the change."""
    return (
        f"{driver.dimension} {driver.key}: expected {money(driver.expected, currency)}, "
        f"actual {money(driver.actual, currency)} ({percent(driver.share)} of the change)"
    )


def render_text(alert: Alert) -> str:
    """The alert as a plain-text message (an SNS email body, or what the console prints)."""
    lines = [f"{alert.severity.upper()} {alert.kind} alert: {alert.title}", alert.message, ""]
    lines.append(f"Scope: {describe_scope(alert.scope)}")
    lines.append(f"Period: {alert.period}" + (f" (level {alert.level})" if alert.level else ""))
    if summary := amounts(alert):
        lines.append(f"Amounts: {summary}")
    if alert.drivers:
        lines.append("Drivers:")
        lines.extend(f"  - {driver_text(d, alert.currency)}" for d in alert.drivers[:MAX_DRIVERS])
        if len(alert.drivers) > MAX_DRIVERS:
            lines.append(f"  - and {len(alert.drivers) - MAX_DRIVERS} more")
    fresh = freshness(alert.data_through)
    lines.append(fresh[0].upper() + fresh[1:])
    lines.append(f"Alert {alert.id} (rule {alert.rule}, status {alert.status})")
    return clip("\n".join(lines), MAX_BODY)
