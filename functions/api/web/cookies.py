"""Cookies of the page's sign-in: read from a proxy event, written as ``Set-Cookie`` values.

Every cookie is ``__Host-``: sent only over HTTPS, to this host alone (no ``Domain``), for every path; no other
host under the same parent domain can set or overwrite it. They are ``HttpOnly`` (the page has no script
anyway) and ``SameSite=Lax``: sent when the managed login redirects a browser back (a top-level GET), never
with another site's POST or sub-requests.
"""

from __future__ import annotations

import re
from typing import Any

SESSION = "__Host-spendwatch-session"
# The sign-in in progress: state, nonce and PKCE verifier, for the callback to check; ten minutes to sign in.
LOGIN = "__Host-spendwatch-login"
LOGIN_SECONDS = 600
# Browsers keep a cookie of at most 4096 bytes, name and attributes included; a longer one would be dropped
# silently and every visit would start a new sign-in.
MAX_VALUE = 3900

# RFC 6265 cookie-octets: what a value may hold without quoting (tokens and JWTs are base64url and dots).
_VALUE = re.compile(r"^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$")


def _cookie_headers(event: dict[str, Any]) -> list[str]:
    values: list[str] = []
    for name, value in (event.get("multiValueHeaders") or {}).items():
        if name.lower() == "cookie":
            values.extend(str(v) for v in value or [])
    if not values:
        values = [str(v) for name, v in (event.get("headers") or {}).items() if name.lower() == "cookie" and v]
    return values


def read(event: dict[str, Any], name: str) -> str | None:
    """The value of cookie ``name`` in the request, or None; a name sent twice counts as absent (ambiguous)."""
    found = [
        value.strip()
        for header in _cookie_headers(event)
        for pair in header.split(";")
        for key, sep, value in [pair.strip().partition("=")]
        if sep and key == name
    ]
    return found[0] if len(found) == 1 and found[0] else None


def set_cookie(name: str, value: str, max_age: int) -> str:
    """A ``Set-Cookie`` value keeping ``name`` for ``max_age`` seconds."""
    if not _VALUE.match(value) or len(value) > MAX_VALUE:
        raise ValueError(f"cookie {name}: value is too long or has characters a cookie cannot carry unquoted")
    return f"{name}={value}; Max-Age={max(0, max_age)}; Path=/; Secure; HttpOnly; SameSite=Lax"


def clear(name: str) -> str:
    """A ``Set-Cookie`` value that makes the browser drop ``name`` now."""
    return f"{name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite=Lax"
