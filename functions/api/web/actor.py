"""Who made a request, as the audit log names them: the one place that reads a caller's identity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spendwatch.domain.audit import LOCAL_ACTOR

from api import deps

UNKNOWN_ACTOR = "unknown"


def actor_of(event: Mapping[str, Any]) -> str:
    """The caller of an API Gateway proxy ``event``.

    Locally (bearer token) it is ``local``. Deployed, API Gateway has authenticated the caller and says who in
    ``requestContext.identity``: with IAM, the caller's ARN (``userArn``, else ``caller``); with an API key, the
    key's id (``apiKeyId``; never the key itself). A person signed in to the dashboard (Cognito) would be named here
    too, from ``requestContext.authorizer``.
    """
    if deps.settings().auth != "gateway":
        return LOCAL_ACTOR
    context = event.get("requestContext") or {}
    identity = context.get("identity") or {}
    for key in ("userArn", "caller", "apiKeyId"):
        value = identity.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return UNKNOWN_ACTOR
