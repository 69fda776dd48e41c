"""Who may call the API: API Gateway authenticates machines when deployed (and, with ``dashboard = "cognito"``, the
function checks people's sign-in on the page's routes: ``signin``); locally a bearer token does everything."""

from __future__ import annotations

import hmac
from typing import Any

from api import deps
from api.web import signin
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
    """None when the caller may proceed, else the response to send (a refusal, or a step of signing in)."""
    if event.get("path") in PUBLIC_PATHS:
        return None
    settings = deps.settings()
    if settings.auth == "gateway":
        # API Gateway has already enforced IAM or an API key on every other method.
        people = signin.from_settings(settings)
        return signin.check(event, people) if people is not None else None
    expected = settings.token.get_secret_value() if settings.token else ""
    presented = _presented_token(event)
    if presented is None:
        return proxy_error(401, "unauthorized", "missing bearer token", _CHALLENGE)
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        return proxy_error(401, "unauthorized", "invalid bearer token", _CHALLENGE)
    return None


def signed_in_page(event: dict[str, Any]) -> bool:
    """Whether this is the page served to a person signed in with Cognito: browsers must ask again each time, so
    that after signing out the page is not shown from their cache."""
    return event.get("path") == signin.PAGE and deps.settings().signs_in_people
