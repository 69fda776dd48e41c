"""Every method is answered in the API's error shape: 405 with ``Allow`` where a path exists, 404 where it does
not, and HEAD wherever GET is. The OpenAPI document is the oracle for which methods each path takes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.conftest import LambdaContext, api_event, call_api, write_config

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PROPFIND")


@pytest.fixture
def documented(aws_env: dict[str, Any]) -> dict[str, set[str]]:
    """Per concrete path (parameters filled in), the methods the OpenAPI document declares."""
    write_config(aws_env, 'currency = "USD"\n')
    status, document = call_api("/v1/openapi.json")
    assert status == 200
    paths: dict[str, set[str]] = {}
    for template, operations in document["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "some-id", template)
        paths[concrete] = {method.upper() for method in operations if method != "parameters"}
    return paths


def _invoke(path: str, method: str) -> dict[str, Any]:
    from api.handler import handler

    return handler(api_event(path, method=method), LambdaContext())  # type: ignore[no-any-return]


def _headers(response: dict[str, Any]) -> dict[str, str]:
    """Response headers by lower-case name, from either of the proxy response's header maps."""
    merged = {name.lower(): value for name, value in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        merged[name.lower()] = ", ".join(values)
    return merged


def _body_error(response: dict[str, Any]) -> dict[str, Any]:
    import json

    body = json.loads(response["body"])
    assert set(body) == {"error"}, body
    return body["error"]  # type: ignore[no-any-return]


def test_a_method_no_route_takes_is_405_with_allow(documented: dict[str, set[str]]) -> None:
    checked = 0
    for path, methods in documented.items():
        allowed = methods | ({"HEAD"} if "GET" in methods else set())
        for method in METHODS:
            if method in allowed:
                continue
            response = _invoke(path, method)
            assert response["statusCode"] == 405, (method, path, response)
            assert set(_headers(response)["allow"].split(", ")) == allowed, (method, path)
            error = _body_error(response)
            assert error["code"] == "method_not_allowed" and method in error["message"]
            checked += 1
    assert checked > 50


@pytest.mark.parametrize("method", ["GET", "TRACE", "DELETE", "PROPFIND"])
def test_an_unknown_path_is_404_whatever_the_method(documented: dict[str, set[str]], method: str) -> None:
    response = _invoke("/v1/nowhere", method)
    assert response["statusCode"] == 404
    assert _body_error(response)["code"] == "not_found"


def test_head_answers_like_get_wherever_get_is(documented: dict[str, set[str]]) -> None:
    heavy = {"/", "/metrics"}  # the page and the scrape read everything; one GET path of each kind suffices
    for path in sorted(p for p, methods in documented.items() if "GET" in methods and p not in heavy):
        get, head = _invoke(path, "GET"), _invoke(path, "HEAD")
        assert head["statusCode"] == get["statusCode"], path
        if get["statusCode"] == 200:
            get_headers, head_headers = _headers(get), _headers(head)
            assert head_headers["content-type"] == get_headers["content-type"], path
            assert head_headers.get("etag") == get_headers.get("etag"), path


def test_methods_need_the_token_before_anything_else(documented: dict[str, set[str]]) -> None:
    from api.handler import handler

    response = handler(api_event("/v1/costs", method="TRACE", token=None), LambdaContext())
    assert response["statusCode"] == 401
