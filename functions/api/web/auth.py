"""Who may call the API: API Gateway authenticates when deployed; locally a bearer token does."""

from __future__ import annotations

import hmac
from typing import Any

from api import deps
from api.web.errors import proxy_error

PUBLIC_PATHS = frozenset({"/health"})
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="spendwatch"'}


def _presented_token(event: dict[str, Any]) -> str | None:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    # The dashboard page may be opened straight from a terminal as /?token=...
    if event.get("path") == "/":
        query = event.get("queryStringParameters") or {}
        return query.get("token") or None
    return None


def check(event: dict[str, Any]) -> dict[str, Any] | None:
    """None when the caller may proceed, else the 401 response to send."""
    if event.get("path") in PUBLIC_PATHS:
        return None
    settings = deps.settings()
    if settings.auth == "gateway":
        # API Gateway has already enforced IAM or an API key on every non-public method.
        return None
    expected = settings.token.get_secret_value() if settings.token else ""
    presented = _presented_token(event)
    if presented is None:
        return proxy_error(401, "unauthorized", "missing bearer token", _CHALLENGE)
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        return proxy_error(401, "unauthorized", "invalid bearer token", _CHALLENGE)
    return None
