"""A fake Cognito user pool: the managed login's ``/oauth2/authorize``, ``/oauth2/token`` and ``/logout``, and the
pool's JWKS, signing ID tokens with a test RSA key made for each fake.

``/oauth2/authorize`` signs its one user in at once (no form): it checks the request as Cognito does (response
type, client, registered redirect URI, an S256 PKCE challenge, the ``openid`` scope) and redirects to the
redirect URI with a one-time code and the caller's ``state``. ``/oauth2/token`` exchanges a code once, for the
client and redirect URI it was issued to, when the ``code_verifier`` hashes to the challenge; the ID token
carries the authorize request's ``nonce``. Times come from ``spendwatch.platform.clock`` (``SPENDWATCH_NOW``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from spendwatch.platform import clock

from spendwatch_local.fakes._http import FakeServer, Reply, Request, json_reply

KID = "fake-signing-key"


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None


@dataclass
class FakeCognito(FakeServer):
    """One pool with one app client and one user; ``exchanges`` counts token requests, ``jwks_reads`` key reads."""

    pool_id: str
    client_id: str
    redirect_uris: tuple[str, ...]
    email: str = "finops@example.com"
    lifetime: timedelta = timedelta(hours=8)
    extra_claims: dict[str, Any] = field(default_factory=dict)  # added to the tokens the token endpoint issues
    exchanges: int = 0
    jwks_reads: int = 0
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    subject: str = field(default_factory=lambda: str(uuid.uuid4()))
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    thread_name = "fake-cognito"
    methods = frozenset({"GET", "POST"})

    @property
    def issuer(self) -> str:
        """The ``iss`` of its tokens: where the pool's JWKS is, under ``COGNITO_IDP_URL`` = :attr:`url`."""
        return f"{self.url}/{self.pool_id}"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """The claims of an ID token Cognito would issue now, with ``overrides`` (None removes a claim)."""
        now = int(clock.utc_now().timestamp())
        claims: dict[str, Any] = {
            "sub": self.subject,
            "aud": self.client_id,
            "email_verified": True,
            "token_use": "id",
            "auth_time": now,
            "iss": self.issuer,
            "cognito:username": self.subject,
            "exp": now + int(self.lifetime.total_seconds()),
            "iat": now,
            "jti": str(uuid.uuid4()),
            "email": self.email,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def mint(self, key: rsa.RSAPrivateKey | None = None, kid: str = KID, **overrides: Any) -> str:
        """An ID token signed with RS256 by ``key`` (default: the pool's own)."""
        return jwt.encode(self.claims(**overrides), key or self.key, algorithm="RS256", headers={"kid": kid})

    def reply(self, request: Request) -> Reply:
        if request.method == "GET" and request.path == f"/{self.pool_id}/.well-known/jwks.json":
            with self._lock:
                self.jwks_reads += 1
            jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return json_reply(200, {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]})
        if request.method == "GET" and request.path == "/oauth2/authorize":
            return self._authorize(request.query)
        if request.method == "POST" and request.path == "/oauth2/token":
            return self._token(dict(parse_qsl(request.body.decode())))
        if request.method == "GET" and request.path == "/logout":
            return Reply(302, headers={"Location": request.query.get("logout_uri", "")})
        return json_reply(404, {"message": "not found"})

    def _authorize(self, query: dict[str, str]) -> Reply:
        redirect_uri = query.get("redirect_uri", "")
        valid = (
            query.get("response_type") == "code"
            and query.get("client_id") == self.client_id
            and redirect_uri in self.redirect_uris
            and query.get("code_challenge_method") == "S256"
            and len(query.get("code_challenge", "")) == 43
            and "openid" in query.get("scope", "").split()
        )
        if not valid:
            return json_reply(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._grants[code] = _Grant(self.client_id, redirect_uri, query["code_challenge"], query.get("nonce"))
        return Reply(302, headers={"Location": f"{redirect_uri}?{urlencode({'code': code, 'state': query['state']})}"})

    def _token(self, form: dict[str, str]) -> Reply:
        with self._lock:
            self.exchanges += 1
            grant = self._grants.pop(form.get("code", ""), None)  # a code is good for one exchange
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or form.get("client_id") != grant.client_id
            or form.get("redirect_uri") != grant.redirect_uri
            or challenge != grant.challenge
        ):
            return json_reply(400, {"error": "invalid_grant"})
        token = self.mint(nonce=grant.nonce, **self.extra_claims)
        lifetime = int(self.lifetime.total_seconds())
        return json_reply(
            200, {"id_token": token, "access_token": "not-used", "token_type": "Bearer", "expires_in": lifetime}
        )
