"""People signing in to the page, deployed with ``dashboard = "cognito"``: the real API handler behind the gateway,
on moto, against a fake Cognito (managed login, token endpoint and JWKS signing with a test RSA key).

What is defined: ``GET /`` without a session cookie answers 302 to the managed login; with a session cookie that
is forged, altered, signed by another key, for another client or expired it answers 401 (JSON, clearing the
cookie); a callback whose state is not the login cookie's answers 400 and exchanges nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from spendwatch.platform import clock, resources

from api.web import tokens
from spendwatch_local.apigateway.events import HttpRequest, build_event
from tests.fakes.cognito import FakeCognito
from tests.integration.conftest import TOKEN, LambdaContext, api_event, write_config

PUBLIC_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/prod/"
ORIGIN = "https://abc123.execute-api.us-east-1.amazonaws.com"
CALLBACK = PUBLIC_URL + "auth/callback"
POOL_ID = "us-east-1_FakePool1"
CLIENT_ID = "fakeclient0123456789"
NOW = datetime.fromisoformat("2031-05-06T07:08:09+00:00")
SESSION = "__Host-spendwatch-session"
LOGIN = "__Host-spendwatch-login"


def _pin(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setenv(clock.NOW_ENV, moment.isoformat())
    clock.reset()


@pytest.fixture
def cognito(aws_env: dict[str, Any]) -> Iterator[FakeCognito]:
    """The API deployed behind the gateway with a Cognito pool (the fake), the clock pinned at NOW."""
    monkeypatch: pytest.MonkeyPatch = aws_env["monkeypatch"]
    write_config(aws_env, "")
    _pin(monkeypatch, NOW)
    with FakeCognito(pool_id=POOL_ID, client_id=CLIENT_ID, redirect_uris=(CALLBACK,)) as fake:
        for name, value in {
            resources.ENV_API_AUTH: "gateway",
            resources.ENV_PUBLIC_URL: PUBLIC_URL,
            resources.ENV_COGNITO_POOL_ID: POOL_ID,
            resources.ENV_COGNITO_CLIENT_ID: CLIENT_ID,
            resources.ENV_COGNITO_LOGIN_URL: fake.url,
            "COGNITO_IDP_URL": fake.url,
        }.items():
            monkeypatch.setenv(name, value)
        _cold_start()
        yield fake
    monkeypatch.delenv(clock.NOW_ENV)
    clock.reset()
    _cold_start()


def _cold_start() -> None:
    from api import deps

    deps.settings.cache_clear()
    tokens._keys.clear()


def _call(method: str, path: str, query: dict[str, str] | None = None, **headers: str) -> dict[str, Any]:
    """The handler's raw proxy response to a request as API Gateway passes it on."""
    from api.handler import handler

    target = path + (f"?{urlencode(query)}" if query else "")
    pairs = [(name.replace("_", "-"), value) for name, value in headers.items()]
    event = build_event(HttpRequest(method, target, pairs, b"", "203.0.113.9"))
    response: dict[str, Any] = handler(event, LambdaContext())
    return response


def _headers(response: dict[str, Any], name: str) -> list[str]:
    single = response.get("headers") or {}
    multi = response.get("multiValueHeaders") or {}
    return [*multi.get(name, []), *([single[name]] if name in single else [])]


def _set_cookies(response: dict[str, Any]) -> dict[str, str]:
    """Each Set-Cookie by cookie name, whole (value and attributes)."""
    return {value.partition("=")[0]: value for value in _headers(response, "Set-Cookie")}


def _value(set_cookie: str) -> str:
    return set_cookie.partition(";")[0].partition("=")[2]


def _attributes(set_cookie: str) -> set[str]:
    return {part.strip() for part in set_cookie.split(";")[1:]}


def _sign_in(fake: FakeCognito) -> tuple[dict[str, Any], dict[str, Any]]:
    """Open the page, sign in at the (fake) managed login, come back: the first and the callback's responses."""
    first = _call("GET", "/")
    login_cookie = _set_cookies(first)[LOGIN]
    managed_login = httpx.get(_headers(first, "Location")[0], follow_redirects=False)
    assert managed_login.status_code == 302, managed_login.text
    back = urlsplit(managed_login.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    query = {name: values[0] for name, values in parse_qs(back.query).items()}
    return first, _call("GET", "/auth/callback", query, Cookie=f"{LOGIN}={_value(login_cookie)}")


def _session(fake: FakeCognito) -> str:
    _, callback = _sign_in(fake)
    return _value(_set_cookies(callback)[SESSION])


def _page(session: str) -> dict[str, Any]:
    return _call("GET", "/", Cookie=f"other=1; {SESSION}={session}")


def test_the_page_sends_a_browser_without_a_session_to_the_managed_login(cognito: FakeCognito) -> None:
    response = _call("GET", "/")
    assert response["statusCode"] == 302
    location = urlsplit(_headers(response, "Location")[0])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{cognito.url}/oauth2/authorize"
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert {k: query[k] for k in ("response_type", "client_id", "redirect_uri", "scope", "code_challenge_method")} == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid email",
        "code_challenge_method": "S256",
    }
    login = _set_cookies(response)[LOGIN]
    state, nonce, verifier = _value(login).split(".")
    assert (query["state"], query["nonce"]) == (state, nonce)
    assert len(query["code_challenge"]) == 43 and verifier not in location.query  # the verifier stays with the browser
    assert _attributes(login) == {"Max-Age=600", "Path=/", "Secure", "HttpOnly", "SameSite=Lax"}
    again = _value(_set_cookies(_call("GET", "/"))[LOGIN])
    assert again.split(".")[0] != state  # a fresh state for every sign-in


def test_signing_in_ends_in_a_secure_httponly_samesite_session_that_opens_the_page(cognito: FakeCognito) -> None:
    _, callback = _sign_in(cognito)
    assert callback["statusCode"] == 302
    assert _headers(callback, "Location") == [PUBLIC_URL]
    cookies = _set_cookies(callback)
    attributes = _attributes(cookies[SESSION])
    (max_age,) = [int(a.removeprefix("Max-Age=")) for a in attributes if a.startswith("Max-Age=")]
    assert 8 * 3600 - 60 < max_age <= 8 * 3600  # the token's lifetime (the clock runs on from NOW)
    assert attributes - {f"Max-Age={max_age}"} == {"Path=/", "Secure", "HttpOnly", "SameSite=Lax"}
    assert "Max-Age=0" in _attributes(cookies[LOGIN])  # the sign-in in progress is over
    assert cognito.exchanges == 1

    page = _page(_value(cookies[SESSION]))
    assert page["statusCode"] == 200, page["body"]
    assert _headers(page, "Content-Type") == ["text/html; charset=utf-8"]
    assert cognito.email in page["body"] and f'action="{PUBLIC_URL}auth/signout"' in page["body"]
    assert f"form-action 'self' {cognito.url};" in _headers(page, "Content-Security-Policy")[0]
    assert _headers(page, "Cache-Control") == ["private, no-cache"]  # after signing out, no copy from the cache


def test_a_session_is_good_until_the_token_expires_and_then_refused(cognito: FakeCognito, aws_env: Any) -> None:
    session = _session(cognito)
    _pin(aws_env["monkeypatch"], NOW + timedelta(hours=8) - timedelta(seconds=1))
    assert _page(session)["statusCode"] == 200
    _pin(aws_env["monkeypatch"], NOW + timedelta(hours=8))
    expired = _page(session)
    assert expired["statusCode"] == 401
    assert '"unauthorized"' in expired["body"]
    assert "Max-Age=0" in _attributes(_set_cookies(expired)[SESSION])  # cleared: opening the page signs in again


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    return f"{header}.{flipped}.{signature}"


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda fake: _tampered(fake.mint()), id="altered"),
        pytest.param(
            lambda fake: fake.mint(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)), id="other-key"
        ),
        pytest.param(lambda fake: fake.mint(aud="another-client"), id="other-client"),
        pytest.param(lambda fake: fake.mint(iss="https://cognito-idp.us-east-1.amazonaws.com/" + POOL_ID), id="issuer"),
        pytest.param(lambda fake: fake.mint(token_use="access"), id="access-token"),
        pytest.param(lambda fake: fake.mint(exp=int(NOW.timestamp()) - 1), id="expired"),
        pytest.param(lambda fake: fake.mint(iat=int(NOW.timestamp()) + 3600), id="from-the-future"),
        pytest.param(lambda fake: fake.mint(sub=None), id="no-subject"),
        pytest.param(
            lambda fake: tokens_without_signature(fake.claims()),
            id="alg-none",
        ),
        pytest.param(lambda fake: "not-a-token", id="garbage"),
    ],
)
def test_a_forged_session_cookie_gets_401(cognito: FakeCognito, forge: Any) -> None:
    assert _page(cognito.mint())["statusCode"] == 200  # the pool's own token passes: the forgeries fail on their flaw
    response = _page(forge(cognito))
    assert response["statusCode"] == 401, response["body"]
    assert "Max-Age=0" in _attributes(_set_cookies(response)[SESSION])


def tokens_without_signature(claims: dict[str, Any]) -> str:
    import jwt

    return jwt.encode(claims, key=None, algorithm="none", headers={"kid": "fake-signing-key"})


def test_made_up_key_ids_do_not_make_every_request_read_the_keys_again(cognito: FakeCognito) -> None:
    assert _page(cognito.mint())["statusCode"] == 200
    for n in range(5):
        assert _page(cognito.mint(kid=f"made-up-{n}"))["statusCode"] == 401
    assert cognito.jwks_reads == 1


@pytest.mark.parametrize(
    "cookie",
    [
        pytest.param(lambda state, nonce, verifier: f"{LOGIN}=other-state.{nonce}.{verifier}", id="wrong-state"),
        pytest.param(lambda state, nonce, verifier: "", id="no-login-cookie"),
        pytest.param(lambda state, nonce, verifier: f"{LOGIN}={state}.{nonce}", id="malformed"),
    ],
)
def test_a_callback_whose_state_is_not_this_browsers_gets_400_and_exchanges_nothing(
    cognito: FakeCognito, cookie: Any
) -> None:
    first = _call("GET", "/")
    state, nonce, verifier = _value(_set_cookies(first)[LOGIN]).split(".")
    back = httpx.get(_headers(first, "Location")[0]).headers["location"]
    query = {name: values[0] for name, values in parse_qs(urlsplit(back).query).items()}
    response = _call("GET", "/auth/callback", query, Cookie=cookie(state, nonce, verifier))
    assert response["statusCode"] == 400
    assert '"invalid_state"' in response["body"]
    assert SESSION not in _set_cookies(response)
    assert cognito.exchanges == 0


@pytest.mark.parametrize(
    ("change", "status"),
    [
        pytest.param(lambda state, nonce, verifier: (state, nonce, verifier + "x"), 401, id="other-pkce-verifier"),
        pytest.param(lambda state, nonce, verifier: (state, "another-nonce", verifier), 401, id="other-nonce"),
    ],
)
def test_the_code_needs_this_sign_ins_verifier_and_the_token_its_nonce(
    cognito: FakeCognito, change: Any, status: int
) -> None:
    first = _call("GET", "/")
    parts = change(*_value(_set_cookies(first)[LOGIN]).split("."))
    back = httpx.get(_headers(first, "Location")[0]).headers["location"]
    query = {name: values[0] for name, values in parse_qs(urlsplit(back).query).items()}
    response = _call("GET", "/auth/callback", query, Cookie=f"{LOGIN}={'.'.join(parts)}")
    assert response["statusCode"] == status, response["body"]
    assert SESSION not in _set_cookies(response)


def test_a_code_works_once_and_a_refused_sign_in_says_so(cognito: FakeCognito) -> None:
    first = _call("GET", "/")
    login = f"{LOGIN}={_value(_set_cookies(first)[LOGIN])}"
    back = httpx.get(_headers(first, "Location")[0]).headers["location"]
    query = {name: values[0] for name, values in parse_qs(urlsplit(back).query).items()}
    assert _call("GET", "/auth/callback", query, Cookie=login)["statusCode"] == 302
    assert _call("GET", "/auth/callback", query, Cookie=login)["statusCode"] == 401  # replayed code
    denied = _call("GET", "/auth/callback", {"error": "access_denied", "state": query["state"]}, Cookie=login)
    assert denied["statusCode"] == 401 and "access_denied" in denied["body"]


def test_signing_out_clears_the_session_and_ends_the_managed_login(cognito: FakeCognito) -> None:
    session = _session(cognito)
    response = _call(
        "POST", "/auth/signout", Cookie=f"{SESSION}={session}", Origin=ORIGIN, Sec_Fetch_Site="same-origin"
    )
    assert response["statusCode"] == 303
    location = urlsplit(_headers(response, "Location")[0])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{cognito.url}/logout"
    assert parse_qs(location.query) == {"client_id": [CLIENT_ID], "logout_uri": [PUBLIC_URL]}
    cleared = _set_cookies(response)[SESSION]
    assert _value(cleared) == "" and "Max-Age=0" in _attributes(cleared)
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} <= _attributes(cleared)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Origin": "https://evil.example"}, id="other-origin"),
        pytest.param({"Origin": "null"}, id="opaque-origin"),
        pytest.param({"Sec_Fetch_Site": "cross-site"}, id="cross-site"),
        pytest.param({"Origin": ORIGIN, "Sec_Fetch_Site": "same-site"}, id="sibling-site"),
        pytest.param({}, id="no-origin-at-all"),
    ],
)
def test_another_site_cannot_sign_someone_out(cognito: FakeCognito, headers: dict[str, str]) -> None:
    response = _call("POST", "/auth/signout", Cookie=f"{SESSION}={cognito.mint()}", **headers)
    assert response["statusCode"] == 403
    assert _set_cookies(response) == {}


def test_signing_out_takes_post_only(cognito: FakeCognito) -> None:
    response = _call("GET", "/auth/signout", Origin=ORIGIN)
    assert (response["statusCode"], _headers(response, "Allow")) == (405, ["POST"])


def test_machine_routes_stay_with_the_gateway_and_ignore_the_session(cognito: FakeCognito) -> None:
    # Behind the gateway /v1 has passed IAM or an API key before the function runs; no cookie is asked for.
    assert _call("GET", "/v1/budgets")["statusCode"] == 200
    assert _call("GET", "/metrics")["statusCode"] == 200


def test_unreadable_pool_keys_are_a_503_not_a_refusal(cognito: FakeCognito, aws_env: Any) -> None:
    aws_env["monkeypatch"].setenv("COGNITO_IDP_URL", cognito.url + "/elsewhere")
    _cold_start()
    assert _page(cognito.mint())["statusCode"] == 503


def test_locally_the_token_still_opens_the_page_whatever_cognito_says(cognito: FakeCognito, aws_env: Any) -> None:
    from api.handler import handler

    aws_env["monkeypatch"].setenv(resources.ENV_API_AUTH, "bearer")
    _cold_start()
    page = handler(api_event("/", {"token": TOKEN}, token=None), LambdaContext())
    assert page["statusCode"] == 200
    assert "Sign out" not in page["body"]
    assert _page(cognito.mint())["statusCode"] == 401  # a session cookie is no bearer token


def test_the_deployed_document_says_the_page_takes_the_session_cookie(cognito: FakeCognito) -> None:
    import json

    document = json.loads(_call("GET", "/v1/openapi.json")["body"])
    schemes = document["components"]["securitySchemes"]
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie", "name": SESSION}
    page = document["paths"]["/"]["get"]
    assert page["security"] == [{"session": []}] and "302" in page["responses"]
    assert document["security"] == [{"sigv4": []}]  # machines: IAM, as [api].auth says
    assert "security" not in document["paths"]["/v1/costs"]["get"]


def test_an_id_token_too_large_for_a_cookie_is_refused_rather_than_dropped_by_the_browser(
    cognito: FakeCognito,
) -> None:
    cognito.extra_claims = {"cognito:groups": [f"team-{n:04d}" for n in range(400)]}
    _, callback = _sign_in(cognito)
    assert callback["statusCode"] == 502, callback["body"]
    assert SESSION not in _set_cookies(callback)
    cognito.extra_claims = {}
    _, callback = _sign_in(cognito)
    assert callback["statusCode"] == 302
