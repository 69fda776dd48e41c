"""The local gateway speaks API Gateway REST proxy: events in the real shape, responses merged as AWS does."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from spendwatch_local.apigateway.events import HttpRequest, MalformedResponseError, build_event, parse_response
from spendwatch_local.apigateway.server import respond

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def request(
    target: str, method: str = "GET", headers: list[tuple[str, str]] | None = None, body: bytes = b""
) -> HttpRequest:
    return HttpRequest(method, target, headers or [("Host", "127.0.0.1:8321")], body, "127.0.0.1")


def test_get_with_repeated_query_and_headers() -> None:
    event = build_event(
        request(
            "/v1/costs?group_by=provider&tag=a&tag=b",
            headers=[("Host", "127.0.0.1:8321"), ("Authorization", "Bearer t"), ("X-Many", "1"), ("X-Many", "2")],
        ),
        NOW,
    )
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/v1/costs"
    assert event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "v1/costs"}
    assert event["queryStringParameters"] == {"group_by": "provider", "tag": "b"}  # the last value wins
    assert event["multiValueQueryStringParameters"] == {"group_by": ["provider"], "tag": ["a", "b"]}
    assert event["headers"]["Authorization"] == "Bearer t"
    assert event["multiValueHeaders"]["X-Many"] == ["1", "2"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "local"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/local/v1/costs"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestTimeEpoch"] == int(NOW.timestamp() * 1000)
    assert context["requestId"]


def test_empty_query_is_none_as_api_gateway_sends_it() -> None:
    event = build_event(request("/health"), NOW)
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_root_is_its_own_resource_and_keeps_the_dashboard_token() -> None:
    event = build_event(request("/?token=abc"), NOW)
    assert (event["resource"], event["path"], event["pathParameters"]) == ("/", "/", None)
    assert event["queryStringParameters"] == {"token": "abc"}


def test_path_and_query_are_decoded() -> None:
    event = build_event(request("/v1/costs?group_by=tag%3Ateam&q=a+b"), NOW)
    assert event["queryStringParameters"] == {"group_by": "tag:team", "q": "a b"}


def test_text_body_is_passed_as_text_and_binary_as_base64() -> None:
    text = build_event(request("/v1/usage", "POST", body=b'{"a": 1}'), NOW)
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    binary = build_event(request("/v1/usage", "POST", body=b"\xff\x00"), NOW)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\x00"


def test_response_headers_merge_with_multi_value_winning() -> None:
    response = parse_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/csv", "X-One": "single", "Content-Length": "999"},
            "multiValueHeaders": {"X-One": ["m1", "m2"], "Set-Cookie": ["a=1", "b=2"]},
            "body": "a,b\n",
            "isBase64Encoded": False,
        }
    )
    assert response.status == 201
    assert ("X-One", "single") not in response.headers
    assert [v for k, v in response.headers if k == "X-One"] == ["m1", "m2"]
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("Content-Length", "4") in response.headers  # recomputed, not the function's
    assert ("Content-Length", "999") not in response.headers
    assert response.body == b"a,b\n"


def test_base64_body_is_decoded_and_json_is_the_default_type() -> None:
    response = parse_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x89PNG").decode(), "isBase64Encoded": True}
    )
    assert response.body == b"\x89PNG"
    assert ("Content-Type", "application/json") in response.headers


def test_head_sends_the_length_without_the_body() -> None:
    response = parse_response({"statusCode": 200, "body": "{}"}, head_only=True)
    assert response.body == b""
    assert ("Content-Length", "2") in response.headers


@pytest.mark.parametrize(
    "result",
    [
        None,
        "ok",
        {"body": "{}"},
        {"statusCode": "abc"},
        {"statusCode": 700},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
        {"statusCode": 200, "multiValueHeaders": {"X": "not a list"}},
    ],
)
def test_malformed_results_are_refused(result: Any) -> None:
    with pytest.raises(MalformedResponseError):
        parse_response(result)


def quiet_logger() -> Logger:
    return Logger(service="test-local-gateway", stream=io.StringIO())


def test_a_raising_function_becomes_the_contract_500() -> None:
    def boom(event: dict[str, Any]) -> Any:
        raise RuntimeError("database on fire")

    response = respond(request("/v1/costs"), boom, quiet_logger())
    assert response.status == 500
    assert json.loads(response.body) == {
        "error": {"code": "internal", "message": "internal error; see the spendwatch local log"}
    }


def test_a_malformed_result_becomes_a_502() -> None:
    response = respond(request("/v1/costs"), lambda event: {"nope": True}, quiet_logger())
    assert response.status == 502
    assert json.loads(response.body)["error"]["code"] == "bad_gateway"


def test_the_function_sees_the_event_and_its_answer_is_sent() -> None:
    seen: list[dict[str, Any]] = []

    def echo(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"status":"ok"}'}

    response = respond(request("/health"), echo, quiet_logger())
    assert seen[0]["path"] == "/health"
    assert (response.status, response.body) == (200, b'{"status":"ok"}')


def test_the_server_marks_each_request_as_answered_until_its_answer_is_out() -> None:
    import threading
    import urllib.request

    from spendwatch_local.apigateway.server import GatewayServer
    from spendwatch_local.foreground import FOREGROUND

    during: list[int] = []

    def count(event: dict[str, Any]) -> dict[str, Any]:
        during.append(FOREGROUND.serving_now)
        return {"statusCode": 200, "body": "{}"}

    server = GatewayServer(("127.0.0.1", 0), count, quiet_logger())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=10) as answer:
            assert answer.status == 200
    finally:
        server.stop()
    assert during == [1] and FOREGROUND.serving_now == 0
