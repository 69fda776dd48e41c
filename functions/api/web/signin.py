"""People sign in to the page through the Cognito user pool's managed login (deployed, ``dashboard = "cognito"``).

API Gateway lets the page's routes through without IAM or an API key; the function checks the session here,
before routing, the way an authorizer would (one function, no second cold start, and it can send a browser to
the login page instead of a bare 401):

- ``GET /`` without a session cookie: 302 to the managed login (``/oauth2/authorize``, authorization code with
  PKCE S256, a random ``state`` and ``nonce``), which are kept in the ``__Host-`` login cookie for ten minutes.
- ``GET /auth/callback?code&state``: ``state`` must equal the login cookie's (else 400, so another site cannot
  complete a sign-in in someone's browser); the code is exchanged once at the pool's token endpoint with the
  PKCE verifier; the ID token must be valid (``tokens``) and carry the cookie's nonce. The ID token becomes the
  session cookie (``Secure; HttpOnly; SameSite=Lax``, expiring with the token) and the browser goes to the page.
- ``GET /`` with a session cookie that is forged, altered, expired or from another pool: 401 (JSON, as every
  error), and the cookie is cleared, so opening the page again starts a new sign-in.
- ``POST /auth/signout`` (the page's button): only from the page itself (``Origin`` or ``Sec-Fetch-Site``, so
  another site cannot sign someone out), clears the session and ends the managed login's own session
  (``/logout``), which sends the browser back to the page and so to the login.

The page only reads; sign-out is its one action that changes anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from spendwatch.platform.clock import utc_now
from spendwatch.platform.observability import logger

from api.web import cookies
from api.web.errors import ApiError, proxy_error
from api.web.tokens import KeysUnavailableError, Pool, TokenError, verify_id_token

if TYPE_CHECKING:
    from spendwatch.platform.settings import ApiSettings

PAGE = "/"
CALLBACK = "/auth/callback"
SIGNOUT = "/auth/signout"
SCOPES = "openid email"
TOKEN_TIMEOUT_SECONDS = 10.0
_ACCEPT_JSON = {"Accept": "application/json"}


@dataclass(frozen=True)
class Signin:
    """The deployment's URLs: the API's own (ending in "/") and the managed login's; the pool's tokens."""

    public_url: str
    login_url: str
    pool: Pool

    @property
    def redirect_uri(self) -> str:
        """Where the managed login sends a browser back with a code (registered on the app client)."""
        return self.public_url + CALLBACK.removeprefix("/")

    @property
    def signout_url(self) -> str:
        """The page's sign-out button posts here."""
        return self.public_url + SIGNOUT.removeprefix("/")

    @property
    def origin(self) -> str:
        """The page's origin, as a browser sends it in ``Origin``."""
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"


def from_settings(settings: ApiSettings) -> Signin | None:
    """The sign-in of a deployment with ``dashboard = "cognito"``; None otherwise (and always locally)."""
    if not settings.signs_in_people:
        return None
    pool_id = str(settings.cognito_pool_id)
    region = pool_id.partition("_")[0]
    idp = (settings.cognito_idp_url or f"https://cognito-idp.{region}.amazonaws.com").rstrip("/")
    return Signin(
        public_url=str(settings.public_url),
        login_url=str(settings.cognito_login_url).rstrip("/"),
        pool=Pool(issuer=f"{idp}/{pool_id}", client_id=str(settings.cognito_client_id)),
    )


def _redirect(location: str, cookie_values: list[str], status: int = 302) -> dict[str, Any]:
    return {
        "statusCode": status,
        "multiValueHeaders": {
            "Location": [location],
            "Set-Cookie": cookie_values,
            "Cache-Control": ["no-store"],
            "Referrer-Policy": ["no-referrer"],
        },
        "body": "",
        "isBase64Encoded": False,
    }


def _refuse(status: int, code: str, message: str, clear: str | None = None) -> dict[str, Any]:
    response = proxy_error(status, code, message, {"Cache-Control": "no-store"})
    if clear is not None:
        response["multiValueHeaders"] = {"Set-Cookie": [cookies.clear(clear)]}
    return response


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start(signin: Signin) -> dict[str, Any]:
    """Send the browser to the managed login, remembering this sign-in's state, nonce and PKCE verifier."""
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": signin.pool.client_id,
            "redirect_uri": signin.redirect_uri,
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    login = cookies.set_cookie(cookies.LOGIN, f"{state}.{nonce}.{verifier}", cookies.LOGIN_SECONDS)
    return _redirect(f"{signin.login_url}/oauth2/authorize?{query}", [login])


def _exchange(signin: Signin, code: str, verifier: str) -> str:
    """The ID token for ``code``. One attempt: a code is good for one exchange, so a retry could only fail."""
    form = {
        "grant_type": "authorization_code",
        "client_id": signin.pool.client_id,
        "code": code,
        "redirect_uri": signin.redirect_uri,
        "code_verifier": verifier,
    }
    import httpx  # only signing in calls out: a cold start serving /v1 does not pay for it

    try:
        with httpx.Client(timeout=httpx.Timeout(TOKEN_TIMEOUT_SECONDS, connect=3.0)) as client:
            response = client.post(f"{signin.login_url}/oauth2/token", data=form, headers=_ACCEPT_JSON)
    except httpx.HTTPError as exc:
        logger.warning("token endpoint unreachable", extra={"error": type(exc).__name__})
        raise ApiError(503, "unavailable", "the sign-in service is unreachable; retry later") from None
    if response.status_code >= 500:
        raise ApiError(503, "unavailable", "the sign-in service failed; retry later")
    try:
        token = response.json().get("id_token") if response.status_code == 200 else None
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str):
        logger.info("code refused", extra={"status": response.status_code})
        raise ApiError(401, "unauthorized", "the sign-in code was refused; open the page again")
    return token


def _login_cookie(event: dict[str, Any], state: str | None) -> tuple[str, str] | None:
    """(nonce, verifier) of the sign-in in progress when ``state`` is its state, else None."""
    parts = (cookies.read(event, cookies.LOGIN) or "").split(".")
    if not state or len(parts) != 3 or not hmac.compare_digest(state.encode(), parts[0].encode()):
        return None
    return parts[1], parts[2]


def callback(event: dict[str, Any], signin: Signin) -> dict[str, Any]:
    """Finish a sign-in: check the state, exchange the code, check the ID token, set the session cookie."""
    query = event.get("queryStringParameters") or {}
    if query.get("error"):
        reason = str(query["error"])[:64]
        return _refuse(401, "unauthorized", f"sign-in was not completed ({reason})", clear=cookies.LOGIN)
    pending = _login_cookie(event, query.get("state"))
    code = query.get("code")
    if pending is None or not code:
        message = "this sign-in was not started here, or took too long; open the page again"
        return _refuse(400, "invalid_state", message, clear=cookies.LOGIN)
    nonce, verifier = pending
    try:
        session = _session_cookie(signin, str(code), verifier, nonce)
    except ApiError as exc:
        return _refuse(exc.status, exc.code, exc.message, clear=cookies.LOGIN)
    return _redirect(signin.public_url, [session, cookies.clear(cookies.LOGIN)])


def _session_cookie(signin: Signin, code: str, verifier: str, nonce: str) -> str:
    """The session cookie for ``code``: its ID token, checked, kept until it expires; ApiError says why not."""
    token = _exchange(signin, code, verifier)
    now = utc_now()
    try:
        identity = verify_id_token(token, signin.pool, now, nonce=nonce)
    except TokenError as exc:
        logger.warning("ID token refused", extra={"reason": str(exc)})
        raise ApiError(401, "unauthorized", "the sign-in service's answer was not valid") from None
    except KeysUnavailableError:
        raise ApiError(503, "unavailable", "the user pool's keys cannot be read; retry later") from None
    if len(token) > cookies.MAX_VALUE:
        logger.error("ID token too large for a cookie", extra={"length": len(token)})
        raise ApiError(502, "unavailable", "the user pool's ID token is too large to keep as a session cookie")
    return cookies.set_cookie(cookies.SESSION, token, int((identity.expires - now).total_seconds()))


def _from_the_page(event: dict[str, Any], signin: Signin) -> bool:
    """A browser says where a request comes from: ``Origin`` (every POST) and ``Sec-Fetch-Site``; both must agree."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    origin, site = headers.get("origin"), headers.get("sec-fetch-site")
    if origin is None and site is None:
        return False
    return origin in (None, signin.origin) and site in (None, "same-origin")


def signout(event: dict[str, Any], signin: Signin) -> dict[str, Any]:
    """Clear the session and end the managed login's session, which then sends the browser to the page."""
    if event.get("httpMethod") != "POST":
        message = f"{event.get('httpMethod')} is not allowed on {SIGNOUT}; allowed: POST"
        return proxy_error(405, "method_not_allowed", message, {"Allow": "POST"})
    if not _from_the_page(event, signin):
        return _refuse(403, "forbidden", "sign out from the dashboard page")
    query = urlencode({"client_id": signin.pool.client_id, "logout_uri": signin.public_url})
    return _redirect(f"{signin.login_url}/logout?{query}", [cookies.clear(cookies.SESSION)], status=303)


def page(event: dict[str, Any], signin: Signin) -> dict[str, Any] | None:
    """None when the page's session is valid (the person is recorded as the request's authorizer), else the answer."""
    token = cookies.read(event, cookies.SESSION)
    if token is None:
        return start(signin)
    try:
        identity = verify_id_token(token, signin.pool, utc_now())
    except TokenError as exc:
        logger.info("session refused", extra={"reason": str(exc)})
        message = "the session is not valid or has expired; open the page again"
        return _refuse(401, "unauthorized", message, clear=cookies.SESSION)
    except KeysUnavailableError:
        return _refuse(503, "unavailable", "the user pool's keys cannot be read; retry later")
    # Where an API Gateway authorizer would put it, for whatever wants to know who is looking.
    context = event.setdefault("requestContext", {})
    context["authorizer"] = {"principalId": identity.subject, "email": identity.email or ""}
    return None


def check(event: dict[str, Any], signin: Signin) -> dict[str, Any] | None:
    """The sign-in routes' answers, and the page's session check; None for every other path (the gateway's)."""
    path = event.get("path")
    if path == PAGE:
        return page(event, signin)
    if path == CALLBACK:
        if event.get("httpMethod") != "GET":
            return proxy_error(405, "method_not_allowed", f"only GET is allowed on {CALLBACK}", {"Allow": "GET"})
        return callback(event, signin)
    if path == SIGNOUT:
        return signout(event, signin)
    return None
