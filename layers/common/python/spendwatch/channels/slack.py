"""Slack delivery: Block Kit messages through an incoming webhook, or printed when no webhook is configured."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import sleep
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from spendwatch.channels.console import ConsoleChannel
from spendwatch.channels.posting import post_for_delivery
from spendwatch.channels.render import amounts, clip, freshness, money, percent
from spendwatch.channels.report_render import change_text, detail_lines, headline, spark_values, sparkline
from spendwatch.domain.alerts import SEVERITY_RANK, Alert, Delivery, describe_scope
from spendwatch.domain.money import format_money
from spendwatch.platform.secrets import SecretError, read_secret

if TYPE_CHECKING:
    import httpx

    from spendwatch.domain.reports import Report

CHANNEL = "slack"
ENV_WEBHOOK = "SLACK_WEBHOOK_URL"

# Block Kit limits (docs.slack.dev, block reference): 50 blocks per message, header text 150 characters,
# section text 3000; context elements are held to the 2000 that section fields allow.
MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3000
MAX_CONTEXT = 2000
MAX_FALLBACK = 3000
# Slack documents no total for block text, but chat.postMessage has refused ~13.2k characters
# (slackapi/bolt-js#2509); messages stay under this and split instead.
MESSAGE_TEXT_BUDGET = 12_000
MAX_DRIVERS = 5
# Slack allows one message per second per webhook (short bursts aside); split messages are spaced that far.
POST_SPACING_SECONDS = 1.0
# Bounded so a batch fits the function's timeout: Slack's own example asks for Retry-After: 30.
MAX_ATTEMPTS = 4
MAX_RETRY_WAIT_SECONDS = 60.0
TIMEOUT_SECONDS = 10.0

EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}


# -- Block Kit (pure) -----------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn reserves for links and mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip_escaped(text: str, limit: int) -> str:
    """Cut escaped text without leaving half an ``&amp;`` entity behind."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut.rstrip() + "…"


def section_text(alert: Alert) -> str:
    """The alert's main text: title, message, amounts and the drivers with expected vs actual and share."""
    lines = [f"{EMOJI[alert.severity]} *{escape(alert.title)}*", escape(alert.message)]
    if summary := amounts(alert):
        lines.append(summary)
    if alert.drivers:
        lines.append("*Drivers*")
        for driver in alert.drivers[:MAX_DRIVERS]:
            expected, actual = money(driver.expected, alert.currency), money(driver.actual, alert.currency)
            lines.append(
                f"• {escape(driver.dimension)} `{escape(driver.key)}`: {expected} → {actual}"
                f" ({percent(driver.share)} of the change)"
            )
        if len(alert.drivers) > MAX_DRIVERS:
            lines.append(f"• and {len(alert.drivers) - MAX_DRIVERS} more")
    return clip_escaped("\n".join(lines), MAX_SECTION)


def alert_blocks(alert: Alert) -> list[dict[str, Any]]:
    """A section with the alert and a context line with its kind, scope, freshness and id."""
    level = f" · level {alert.level}" if alert.level else ""
    context = [
        f"*{alert.severity.upper()}* · {alert.kind} · {escape(alert.period)}{escape(level)}",
        f"scope: {escape(describe_scope(alert.scope))}",
        freshness(alert.data_through),
        f"alert `{alert.id}`",
    ]
    return [
        {
            "type": "section",
            "block_id": clip(f"alert:{alert.id}", 255),
            "text": {"type": "mrkdwn", "text": section_text(alert)},
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": clip_escaped(text, MAX_CONTEXT)} for text in context],
        },
    ]


def block_text_size(blocks: Sequence[dict[str, Any]]) -> int:
    """Characters of text a list of blocks carries."""
    size = 0
    for block in blocks:
        size += len(block.get("text", {}).get("text", ""))
        size += sum(len(element.get("text", "")) for element in block.get("elements", []))
    return size


@dataclass(frozen=True)
class Message:
    """One webhook post and the alerts it carries."""

    payload: dict[str, Any]
    alert_ids: tuple[str, ...]


def group(alerts: Sequence[Alert]) -> list[list[Alert]]:
    """Pack alerts in order into messages that stay within the block and text limits (a divider between alerts)."""
    groups: list[list[Alert]] = []
    current: list[Alert] = []
    blocks, text = 1, 0  # the header
    for alert in alerts:
        own = alert_blocks(alert)
        needed = len(own) + (1 if current else 0)
        size = block_text_size(own)
        if current and (blocks + needed > MAX_BLOCKS or text + size > MESSAGE_TEXT_BUDGET):
            groups.append(current)
            current, blocks, text = [], 1, 0
            needed = len(own)
        current.append(alert)
        blocks, text = blocks + needed, text + size
    if current:
        groups.append(current)
    return groups


def header_text(alerts: Sequence[Alert], part: int, parts: int) -> str:
    """The header: the alert itself when alone, else a count led by the worst severity."""
    worst = max(alerts, key=lambda a: SEVERITY_RANK[a.severity])
    text = alerts[0].title if len(alerts) == 1 else f"spendwatch: {len(alerts)} new alerts"
    suffix = f" ({part}/{parts})" if parts > 1 else ""
    return clip(f"{EMOJI[worst.severity]} {text}", MAX_HEADER - len(suffix)) + suffix


def fallback_text(alerts: Sequence[Alert]) -> str:
    """The top-level text: what notifications show, and what Slack requires (``no_text`` otherwise)."""
    titles = "; ".join(f"{a.severity.upper()}: {a.title}" for a in alerts)
    return clip_escaped(escape(f"spendwatch: {titles}"), MAX_FALLBACK)


def build_messages(alerts: Sequence[Alert]) -> list[Message]:
    """Block Kit messages for ``alerts``: as few as the limits allow, each with a header and fallback text."""
    groups = group(alerts)
    messages = []
    for part, members in enumerate(groups, start=1):
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": header_text(members, part, len(groups))}}
        ]
        for index, alert in enumerate(members):
            if index:
                blocks.append({"type": "divider"})
            blocks.extend(alert_blocks(alert))
        payload = {"text": fallback_text(members), "blocks": blocks}
        messages.append(Message(payload, tuple(a.id for a in members)))
    return messages


# -- the webhook ----------------------------------------------------------------------------------------
def webhook_url(secret_name: str, read: Callable[[str, str], str | None] = read_secret) -> str | None:
    """``SLACK_WEBHOOK_URL`` or the named secret; None when neither exists (alerts are printed instead)."""
    try:
        value = read(ENV_WEBHOOK, secret_name)
    except SecretError as exc:
        if _secret_absent(exc):
            return None
        raise
    return value.strip() if value and value.strip() else None


def _secret_absent(exc: BaseException) -> bool:
    """Whether Secrets Manager said the secret does not exist (as opposed to failing to answer)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ClientError):
            return bool(seen.response.get("Error", {}).get("Code") == "ResourceNotFoundException")
        # The parameters utility re-raises inside its except block, so the ClientError is the context.
        seen = seen.__cause__ or seen.__context__
    return False


def post(client: httpx.Client, url: str, payload: dict[str, Any], pause: Callable[[float], None]) -> Delivery:
    """Post one message; only HTTP 200 with body ``ok`` is success, other 4xx are final, 429/5xx retried."""
    return post_for_delivery(
        client,
        url,
        _refusal,
        what="slack webhook",
        pause=pause,
        max_attempts=MAX_ATTEMPTS,
        max_wait=MAX_RETRY_WAIT_SECONDS,
        json=payload,
    )


def _refusal(response: httpx.Response) -> str | None:
    body = response.text.strip()
    if response.status_code == 200 and body == "ok":
        return None
    # Slack's error bodies are short plain-text codes (invalid_payload, no_service ...), safe to keep.
    return f"slack webhook answered HTTP {response.status_code}: {body[:100]}"


def _quiet_httpx() -> None:
    # httpx logs every request URL at INFO, and the webhook URL is the secret.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclass
class SlackChannel:
    """Posts alerts to an incoming webhook, grouped into as few messages as Slack's limits allow."""

    url: str = field(repr=False)
    pause: Callable[[float], None] = sleep
    client: httpx.Client | None = None
    name: str = CHANNEL

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Post the alerts; the result per alert id is the outcome of the message that carried it."""
        import httpx

        _quiet_httpx()
        client = self.client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        results: dict[str, Delivery] = {}
        try:
            for index, message in enumerate(build_messages(alerts)):
                if index:
                    self.pause(POST_SPACING_SECONDS)
                outcome = post(client, self.url, message.payload, self.pause)
                results.update(dict.fromkeys(message.alert_ids, outcome))
        finally:
            if self.client is None:
                client.close()
        return results

    def send_report(self, report: Report) -> Delivery:
        """Post a report as one message (see ``slack_report``)."""
        import httpx

        _quiet_httpx()
        client = self.client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        try:
            return post(client, self.url, report_payload(report), self.pause)
        finally:
            if self.client is None:
                client.close()


# -- reports (pure) -------------------------------------------------------------------------------------
MAX_BUTTON_URL = 3000  # Block Kit's limit for a button's url
MAX_FIELD = 2000


def report_payload(report: Report) -> dict[str, Any]:
    """The webhook payload: a header, the headline figures as fields, the details, a context line and buttons."""
    currency = report.currency
    fields = [f"*Total*\n{money(report.total, currency)}", f"*Change*\n{escape(change_text(report))}"]
    if report.projection is not None:
        p = report.projection
        interval = f"{format_money(p.lower)} to {format_money(p.upper)}"
        fields.append(f"*Projected {p.month}*\n{money(p.amount, currency)} ({p.level} %: {interval})")
    fields.append(f"*Alerts opened*\n{report.alerts_opened}")
    details = "\n".join(escape(line) for line in detail_lines(report))
    context = [f"report `{report.id}` · time zone {escape(report.timezone)}"]
    if spark := sparkline(spark_values(report)):
        context.insert(0, f"daily cost {spark}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(headline(report), MAX_HEADER)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": clip_escaped(f, MAX_FIELD)} for f in fields]},
        {"type": "section", "text": {"type": "mrkdwn", "text": clip_escaped(details, MAX_SECTION)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_escaped(t, MAX_CONTEXT)} for t in context]},
    ]
    buttons = [
        {"type": "button", "text": {"type": "plain_text", "text": label}, "url": report.links[kind]}
        for kind, label in (("html", "Open the report"), ("csv", "Download the CSV"))
        if 0 < len(report.links.get(kind, "")) <= MAX_BUTTON_URL
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": clip_escaped(escape(headline(report)), MAX_FALLBACK), "blocks": blocks}


def channel(secret_name: str, override: str | None = None) -> SlackChannel | ConsoleChannel:
    """Slack when a webhook is configured, else the console; SecretError when the secret cannot be read.

    ``override`` is ``SLACK_WEBHOOK_URL`` from the function's settings (local runs); deployed, the secret.
    """
    overrides = {ENV_WEBHOOK: override} if override else None
    url = webhook_url(secret_name, lambda env_name, name: read_secret(env_name, name, overrides))
    # ``sleep`` is this module's name, looked up per call, so a test can replace the clock for a whole handler run.
    return SlackChannel(url, pause=sleep) if url else ConsoleChannel()
