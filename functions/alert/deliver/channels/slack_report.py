"""A report as a Slack Block Kit message: headline figures, movers and budgets, a sparkline, buttons to its files."""

from __future__ import annotations

from typing import Any

from spendwatch.domain.money import format_money
from spendwatch.domain.reports import Report

from alert.deliver.channels.slack import MAX_CONTEXT, MAX_FALLBACK, MAX_HEADER, MAX_SECTION, clip_escaped, escape
from alert.deliver.render import clip
from alert.deliver.report_render import change_text, detail_lines, headline, money, spark_values, sparkline

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
