"""Render a stored report's Slack message (the Block Kit payload the deliver function posts) as a static HTML page,
for the README's screenshot: ``python tools/slack_preview.py REPORT_ID OUT.html`` against the table named by
``SPENDWATCH_TABLE`` (``AWS_ENDPOINT_URL`` for ``spendwatch local``; its export line sets both).

Only the block types the report message uses are drawn (header, section text and fields, context, actions), in
Slack's light theme; *bold*, `code` and <url|label> links are turned into HTML.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers/common/python")]

from spendwatch.channels.slack import report_payload  # noqa: E402
from spendwatch.platform.aws import client  # noqa: E402
from spendwatch.platform.settings import FunctionSettings  # noqa: E402
from spendwatch.store import Store  # noqa: E402

STYLE = (
    "body{font:15px/1.46 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1d1c1d;background:#fff;margin:0}"
    ".msg{display:flex;gap:8px;padding:16px 20px;max-width:720px}.avatar{width:36px;height:36px;border-radius:6px;"
    "background:#2eb67d;color:#fff;font-weight:700;display:flex;align-items:center;justify-content:center}"
    ".who{font-weight:900}.app{font-size:11px;background:#e8e8e8;border-radius:3px;padding:0 3px;margin-left:4px}"
    "h3{font-size:17px;margin:6px 0}.fields{display:grid;grid-template-columns:1fr 1fr;gap:8px 24px;margin:8px 0}"
    ".ctx{color:#616061;font-size:12px;margin:6px 0}code{font:12px Monaco,Menlo,monospace;background:#f6f6f6;"
    "border:1px solid #e1e1e1;border-radius:3px;padding:0 2px;color:#e01e5a}.btn{display:inline-block;border:1px "
    "solid #bbb;border-radius:4px;padding:3px 12px;margin:6px 8px 0 0;font-weight:700;font-size:13px}"
    "p{margin:4px 0;white-space:pre-wrap}a{color:#1264a3;text-decoration:none}"
)


def mrkdwn(text: str) -> str:
    """Slack's mrkdwn (the subset the message uses) as HTML."""
    out = html.escape(html.unescape(text), quote=False)
    out = re.sub(r"&lt;(https?://[^|&]+)\|([^&]+)&gt;", r'<a href="\1">\2</a>', out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", out)


def block_html(block: dict[str, Any]) -> str:
    """One block as HTML."""
    kind = block.get("type")
    if kind == "header":
        return f"<h3>{html.escape(block['text']['text'])}</h3>"
    if kind == "section":
        parts = [f"<p>{mrkdwn(block['text']['text'])}</p>"] if "text" in block else []
        if fields := block.get("fields"):
            parts.append('<div class="fields">' + "".join(f"<p>{mrkdwn(f['text'])}</p>" for f in fields) + "</div>")
        return "".join(parts)
    if kind == "context":
        return '<div class="ctx">' + " ".join(mrkdwn(e.get("text", "")) for e in block["elements"]) + "</div>"
    if kind == "actions":
        return "".join(f'<span class="btn">{html.escape(e["text"]["text"])}</span>' for e in block["elements"])
    return ""


def page(payload: dict[str, Any]) -> str:
    """The whole message as one page."""
    blocks = "".join(block_html(block) for block in payload.get("blocks", []))
    head = '<div class="who">spendwatch<span class="app">APP</span></div>'
    return (
        f"<!doctype html><meta charset=utf-8><style>{STYLE}</style>"
        f'<div class="msg"><div class="avatar">$</div><div>{head}{blocks}</div></div>'
    )


def main() -> int:
    """Write the page of the stored report named on the command line."""
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    store = Store(client("dynamodb"), FunctionSettings.from_env().table)
    report = store.get_report(sys.argv[1])
    if report is None:
        print(f"no report {sys.argv[1]!r} in the table", file=sys.stderr)
        return 1
    Path(sys.argv[2]).write_text(page(report_payload(report)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
