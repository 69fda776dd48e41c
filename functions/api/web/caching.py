"""Conditional GETs: every successful GET carries a strong ETag and a short private max-age.

Answers are computed from data that changes only when a collection or an evaluation writes, so a client
(the dashboard in a browser, Grafana, a script polling the summary) that presents ``If-None-Match`` gets a
bodiless 304 instead of the same megabyte again. ``private`` keeps shared caches from storing answers that
needed credentials; ``Vary`` says which request headers the answer depends on.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

# Seconds a client may reuse an answer without asking; None means revalidate every time.
MAX_AGE: dict[str, int | None] = {"/v1/openapi.json": 300, "/metrics": None, "/health": None}
DEFAULT_MAX_AGE = 60
VARY = "Authorization, x-api-key"


def etag(body: str | bytes) -> str:
    """A strong validator for a body."""
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _request_header(event: dict[str, Any], name: str) -> str | None:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    value = headers.get(name.lower())
    return value if isinstance(value, str) else None


def _matches(if_none_match: str, tag: str) -> bool:
    """RFC 9110 weak comparison: ``*`` or any listed tag equal to ours once ``W/`` is set aside."""
    candidates = [part.strip().removeprefix("W/") for part in if_none_match.split(",")]
    return "*" in candidates or tag in candidates


def _set(response: dict[str, Any], name: str, value: str) -> None:
    if "multiValueHeaders" in response:
        response["multiValueHeaders"][name] = [value]
    else:
        response.setdefault("headers", {})[name] = value


def conditional(event: dict[str, Any], response: dict[str, Any], *, revalidate: bool = False) -> dict[str, Any]:
    """Add ETag and Cache-Control to a successful GET; answer 304 when the client's copy is current.

    ``revalidate``: the client must ask every time (``no-cache``), as for a page that needs a session.
    """
    if event.get("httpMethod") != "GET" or response.get("statusCode") != 200:
        return response
    raw = response.get("body") or ""
    body = base64.b64decode(raw) if response.get("isBase64Encoded") else raw
    tag = etag(body)
    max_age = None if revalidate else MAX_AGE.get(str(event.get("path")), DEFAULT_MAX_AGE)
    _set(response, "ETag", tag)
    _set(response, "Cache-Control", f"private, max-age={max_age}" if max_age else "private, no-cache")
    _set(response, "Vary", VARY)
    presented = _request_header(event, "If-None-Match")
    if presented and _matches(presented, tag):
        response["statusCode"] = 304
        response["body"] = ""
        response["isBase64Encoded"] = False
    return response
