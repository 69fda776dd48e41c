"""The OpenAPI document: what powertools generates from the routes, plus what it cannot see in them (the error
responses every route shares, and how callers authenticate)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from api.schemas import ErrorResponse
from api.web.auth import PUBLIC_PATHS
from api.web.cookies import SESSION as SESSION_COOKIE

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

PATH = "/v1/openapi.json"
METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
SCHEMAS = "#/components/schemas/"
ERROR_SCHEMA = {"$ref": f"{SCHEMAS}ErrorResponse"}
# Powertools' own validation error shapes; the API answers with ErrorResponse instead.
POWERTOOLS_ERRORS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")
SELF_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "This document", "content": {"application/json": {"schema": {"type": "object"}}}}
}


def error(description: str) -> OpenAPIResponse:
    """A route's own error response (such as a 409), in the API's one error shape, for a route's ``responses=``."""
    return {"description": description, "content": {"application/json": {"model": ErrorResponse}}}


def _shared(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    if headers:
        response["headers"] = headers
    return response


SHARED_RESPONSES: dict[str, dict[str, Any]] = {
    "InvalidParameter": _shared(
        "A query or path parameter is malformed, out of range or unknown (code invalid_parameter)"
    ),
    "Unauthorized": _shared(
        "No valid credentials (code unauthorized)",
        {"WWW-Authenticate": {"description": "The scheme to authenticate with", "schema": {"type": "string"}}},
    ),
    "NotFound": _shared("Nothing has this id, or the path matches no route (code not_found)"),
    "InvalidBody": _shared("The body is not JSON or not what the route takes (code invalid_body)"),
    "Throttled": _shared(
        "Too many requests: the deployed stage's or API key's throttling, answered by API Gateway (code throttled)"
    ),
    "Unavailable": _shared("Storage is temporarily unavailable; retry later (code unavailable)"),
    "NotModified": {"description": "The copy whose ETag the request's If-None-Match names is current; no body"},
}


def security_schemes(mode: str, gateway_auth: str) -> dict[str, dict[str, Any]]:
    """The one scheme in force: a bearer token locally; deployed, SigV4 or an API key as ``[api].auth`` says."""
    if mode != "gateway":
        return {"bearer": {"type": "http", "scheme": "bearer", "description": "The runtime's SPENDWATCH_API_TOKEN"}}
    if gateway_auth == "api_key":
        return {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}
    return {
        "sigv4": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "AWS Signature Version 4 (IAM)",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }
    }


def _shared_for(path: str, method: str, operation: dict[str, Any]) -> dict[str, str]:
    """Status -> shared response for what this operation can answer besides its own responses."""
    parameters = operation.get("parameters") or []
    shared = {"429": "Throttled"}
    if method == "get":  # every successful GET carries an ETag (api.web.caching)
        shared["304"] = "NotModified"
    if parameters:
        shared["400"] = "InvalidParameter"
    if any(p.get("in") == "path" for p in parameters):
        shared["404"] = "NotFound"
    if "requestBody" in operation:
        shared["422"] = "InvalidBody"
    if path not in PUBLIC_PATHS:
        shared["401"] = "Unauthorized"
        if path != PATH:  # every route but this document reads the table
            shared["503"] = "Unavailable"
    return shared


def complete(document: dict[str, Any], schemes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Declare the responses every operation shares and its security (``document`` is changed in place)."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template=SCHEMAS + "{model}")
    for name, schema in {**error_schema.pop("$defs", {}), "ErrorResponse": error_schema}.items():
        schemas.setdefault(name, schema)
    components.setdefault("responses", {}).update(SHARED_RESPONSES)
    components["securitySchemes"] = schemes
    document["security"] = [{name: []} for name in schemes]
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                del responses["422"]  # powertools' own body for it, never what this API sends
            for status, name in _shared_for(path, method, operation).items():
                responses.setdefault(status, {"$ref": f"#/components/responses/{name}"})
            if path in PUBLIC_PATHS:
                operation["security"] = []
    _drop_unused(schemas, document)
    return document


def _drop_unused(schemas: dict[str, Any], document: dict[str, Any]) -> None:
    for name in POWERTOOLS_ERRORS:
        if name in schemas:
            others = {key: value for key, value in schemas.items() if key != name}
            text = json.dumps({**document, "components": {**document["components"], "schemas": others}})
            if f'"{SCHEMAS}{name}"' not in text:
                del schemas[name]


SESSION_SCHEME = "session"


def people_sign_in(document: dict[str, Any]) -> dict[str, Any]:
    """With Cognito sign-in the page takes the session cookie instead (``api.web.signin``), or sends to the login."""
    document["components"]["securitySchemes"][SESSION_SCHEME] = {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The Cognito ID token the sign-in set; a browser without one is sent to the managed login",
    }
    for operation in document.get("paths", {}).get("/", {}).values():
        if isinstance(operation, dict) and "responses" in operation:
            operation["security"] = [{SESSION_SCHEME: []}]
            operation["responses"]["302"] = {"description": "No session: to the managed login, to sign in"}
    return document


def document(app: APIGatewayRestResolver, title: str, version: str) -> str:
    """The complete document as JSON, for the authentication this function runs with."""
    from api import deps

    settings = deps.settings()
    gateway_auth = "iam"
    if settings.auth == "gateway":
        gateway_auth = deps.config().api.auth
    return _rendered(app, title, version, settings.auth, gateway_auth, settings.signs_in_people)


@lru_cache(maxsize=4)
def _rendered(app: APIGatewayRestResolver, title: str, version: str, mode: str, gateway_auth: str, people: bool) -> str:
    """Generating takes ~25 ms and the routes never change in a container: once per authentication setting."""
    generated = json.loads(app.get_openapi_json_schema(title=title, version=version))
    completed = complete(generated, security_schemes(mode, gateway_auth))
    return json.dumps(people_sign_in(completed) if people else completed)
