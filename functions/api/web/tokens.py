"""Cognito ID tokens: RS256 JWTs checked against the user pool's published keys (JWKS).

The signed-in session is the ID token itself (see ``signin``): Cognito signs it, so the function keeps no
signing secret of its own. A token is accepted only when signed with RS256 by a key of the pool's JWKS, issued
by the pool (``iss``), for the app client (``aud``), as an ID token (``token_use``), and not expired at the
clock's "now" (``SPENDWATCH_NOW`` moves it in tests). PyJWT, cryptography and httpx are imported on the first
check only: ~100 ms measured here (httpx ~50 ms, PyJWT with cryptography ~50 ms) plus one read of the keys, on
top of a cold start that serves the page; nothing for ``/v1`` or ``/metrics``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

ALGORITHM = "RS256"
MAX_TOKEN_CHARS = 8192
# Tolerated difference between Cognito's clock and ours for "issued at".
CLOCK_SKEW = timedelta(minutes=5)
# An unknown key id fetches the JWKS again (Cognito rotated its keys), at most this often: forged tokens naming
# made-up key ids must not turn every request into a call to Cognito.
REFETCH_SECONDS = 300.0
JWKS_TIMEOUT_SECONDS = 5.0

# JWKS URL -> (when it was fetched on the monotonic clock, key id -> public key); one per container.
_keys: dict[str, tuple[float, dict[str, Any]]] = {}


class TokenError(Exception):
    """The token is not a valid ID token of this pool and client (the message says why, never the token)."""


class KeysUnavailableError(Exception):
    """The pool's JWKS could not be read: the token can be neither accepted nor refused."""


@dataclass(frozen=True)
class Pool:
    """Where the tokens come from: the issuer (``https://cognito-idp.<region>.amazonaws.com/<pool id>``)."""

    issuer: str
    client_id: str

    @property
    def jwks_url(self) -> str:
        """The pool's public signing keys."""
        return f"{self.issuer}/.well-known/jwks.json"


@dataclass(frozen=True)
class Identity:
    """Who signed in, and until when."""

    subject: str
    email: str | None
    expires: datetime


def _fetch_keys(url: str) -> dict[str, Any]:
    import httpx
    import jwt
    from spendwatch.platform.http import HttpError, request

    try:
        with httpx.Client(timeout=httpx.Timeout(JWKS_TIMEOUT_SECONDS, connect=3.0)) as client:
            response = request(client, "GET", url, max_attempts=2, max_wait=2.0, what="user pool keys")
        if response.status_code != 200:
            raise KeysUnavailableError(f"user pool keys: HTTP {response.status_code}")
        document = response.json()
    except (HttpError, ValueError) as exc:
        raise KeysUnavailableError(f"user pool keys: {exc}") from None
    keys: dict[str, Any] = {}
    for jwk in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str):
            continue
        try:
            keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm=ALGORITHM).key
        except jwt.PyJWTError:
            continue  # a key this check cannot use signs nothing it accepts
    return keys


def signing_key(url: str, kid: str) -> Any:
    """The public key ``kid`` of the JWKS at ``url``, fetched once per container (again for a new key id)."""
    cached = _keys.get(url)
    if cached is None or (kid not in cached[1] and time.monotonic() - cached[0] > REFETCH_SECONDS):
        cached = (time.monotonic(), _fetch_keys(url))
        _keys[url] = cached
    key = cached[1].get(kid)
    if key is None:
        raise TokenError("signed with a key the user pool does not publish")
    return key


def _signed_claims(token: str, pool: Pool) -> dict[str, Any]:
    import jwt

    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError("too long for an ID token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenError("not a JWT") from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise TokenError(f"not signed with {ALGORITHM} by a named key")
    key = signing_key(pool.jwks_url, kid)
    try:
        # Times are checked below against the clock seam, not PyJWT's system clock.
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=pool.client_id,
            issuer=pool.issuer,
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["exp", "iat", "iss", "aud", "sub", "token_use"],
            },
        )
    except jwt.PyJWTError as exc:
        raise TokenError(f"refused: {type(exc).__name__}") from None
    return claims


def _instant(claims: dict[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TokenError(f"{name} is not a time")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise TokenError(f"{name} is out of range") from None


def verify_id_token(token: str, pool: Pool, now: datetime, nonce: str | None = None) -> Identity:
    """The identity in a valid ID token; TokenError when it is not one (KeysUnavailableError: cannot tell)."""
    claims = _signed_claims(token, pool)
    if claims.get("token_use") != "id":
        raise TokenError("not an ID token")
    expires, issued = _instant(claims, "exp"), _instant(claims, "iat")
    if expires <= now:
        raise TokenError("expired")
    if issued > now + CLOCK_SKEW:
        raise TokenError("issued in the future")
    if nonce is not None and claims.get("nonce") != nonce:
        raise TokenError("nonce does not match this sign-in")
    email = claims.get("email")
    return Identity(subject=str(claims["sub"]), email=email if isinstance(email, str) else None, expires=expires)
