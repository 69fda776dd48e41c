"""The OpenAPI document the API serves: every route in it, each with the errors it can answer and its security."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from spendwatch.platform import resources

from tests.integration.conftest import LambdaContext, api_event, call_api, write_config

PUBLIC = {"/health"}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def api(aws_env: dict[str, Any]) -> dict[str, Any]:
    write_config(aws_env, 'currency = "USD"\n')
    return aws_env


def _document() -> dict[str, Any]:
    status, body = call_api("/v1/openapi.json")
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _response(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """A response object, following a $ref into components.responses."""
    ref = response.get("$ref")
    if ref is None:
        return response
    resolved: dict[str, Any] = document["components"]["responses"][ref.rsplit("/", 1)[1]]
    return resolved


def test_the_document_is_openapi_3_1(api: dict[str, Any]) -> None:
    document = _document()
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["title"] == "spendwatch"


def test_every_registered_route_is_in_the_document(api: dict[str, Any]) -> None:
    from api.handler import app

    documented = {(path, method) for path, method, _ in _operations(_document())}  # includes every route module
    registered = {(route.openapi_path, route.method.lower()) for route in app._static_routes + app._dynamic_routes}
    assert registered, "no routes registered"
    assert registered <= documented, registered - documented


def test_every_operation_declares_the_errors_it_can_answer(api: dict[str, Any]) -> None:
    document = _document()
    for path, method, operation in _operations(document):
        label = f"{method.upper()} {path}"
        declared = set(operation["responses"])
        assert any(code.startswith("2") for code in declared), label
        assert "429" in declared, label
        if path not in PUBLIC:
            assert {"401"} <= declared, label
        parameters = operation.get("parameters") or []
        if parameters:
            assert "400" in declared, label
        if any(p["in"] == "path" for p in parameters):
            assert "404" in declared, label
        if "requestBody" in operation:
            assert "422" in declared, label
        for code, response in operation["responses"].items():
            if code.startswith(("4", "5")) and code != "429":  # 429 comes from API Gateway's throttling
                content = _response(document, response)["content"]
                assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}, label


def test_no_operation_promises_powertools_validation_bodies(api: dict[str, Any]) -> None:
    text = json.dumps(_document())
    assert "HTTPValidationError" not in text
    assert "ValidationError" not in text


def test_error_schema_is_the_one_error_shape(api: dict[str, Any]) -> None:
    schemas = _document()["components"]["schemas"]
    assert schemas["ErrorResponse"]["required"] == ["error"]
    assert schemas["ErrorResponse"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorBody"}
    assert set(schemas["ErrorBody"]["required"]) == {"code", "message"}


def test_routes_declare_their_own_success_and_conflict_statuses(api: dict[str, Any]) -> None:
    paths = _document()["paths"]
    assert {"201", "409"} <= set(paths["/v1/budgets"]["post"]["responses"])
    assert "200" not in paths["/v1/budgets"]["post"]["responses"]
    assert {"204", "409"} <= set(paths["/v1/budgets/{budget_id}"]["delete"]["responses"])
    assert "409" in paths["/v1/usage"]["post"]["responses"]
    assert "409" in paths["/v1/alerts/{alert_id}/ack"]["post"]["responses"]


def test_bearer_security_everywhere_but_health(api: dict[str, Any]) -> None:
    document = _document()
    assert document["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer", "description": "The runtime's SPENDWATCH_API_TOKEN"}
    }
    assert document["security"] == [{"bearer": []}]
    for path, method, operation in _operations(document):
        if path in PUBLIC:
            assert operation["security"] == [], f"{method} {path}"
        else:
            assert "security" not in operation, f"{method} {path}"  # the global requirement applies


@pytest.mark.parametrize(
    ("auth", "scheme"),
    [
        (
            "iam",
            {"type": "apiKey", "in": "header", "name": "Authorization", "x-amazon-apigateway-authtype": "awsSigv4"},
        ),
        ("api_key", {"type": "apiKey", "in": "header", "name": "x-api-key"}),
    ],
)
def test_deployed_document_names_the_gateway_scheme(api: dict[str, Any], auth: str, scheme: dict[str, str]) -> None:
    write_config(api, f'currency = "USD"\n[api]\nauth = "{auth}"\n')
    api["monkeypatch"].setenv(resources.ENV_API_AUTH, "gateway")
    status, document = call_api("/v1/openapi.json", token=None)
    assert status == 200, document
    (name, declared), *others = document["components"]["securitySchemes"].items()
    assert not others
    assert scheme.items() <= declared.items()
    assert document["security"] == [{name: []}]


def test_a_body_that_is_not_utf8_is_a_422(api: dict[str, Any]) -> None:
    from api.handler import handler

    event = api_event("/v1/usage", method="POST", body="{}")
    event["body"], event["isBase64Encoded"] = base64.b64encode(b'{"records": "\xff"}').decode(), True
    response = handler(event, LambdaContext())
    assert response["statusCode"] == 422
    assert json.loads(response["body"]) == {"error": {"code": "invalid_body", "message": "body: not UTF-8 text"}}


def test_a_budget_with_an_empty_tag_key_is_refused_and_budgets_stay_readable(api: dict[str, Any]) -> None:
    budget = {"name": "tagged", "amount": "10.00", "scope": {"tag": {"": "x"}}}
    status, body = call_api("/v1/budgets", method="POST", body=budget)
    assert status == 422, body
    assert body["error"]["code"] == "invalid_body"
    assert call_api("/v1/budgets")[0] == 200


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v1/costs", {"start": "9999-12-31", "end": "9999-12-31"}),
        ("/v1/costs", {"start": "9998-06-15", "end": "9999-12-31", "granularity": "month"}),
        ("/v1/usage", {"end": "0001-01-05"}),
    ],
)
def test_days_at_the_ends_of_the_calendar_are_a_400(api: dict[str, Any], path: str, query: dict[str, str]) -> None:
    status, body = call_api(path, query)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_parameter"


def test_a_range_ending_in_year_9999_is_checked_without_overflow(api: dict[str, Any]) -> None:
    status, body = call_api("/v1/usage", {"start": "9999-12-30", "end": "9999-12-31"})
    assert status == 200, body
    assert body == {"items": [], "next_token": None}
