"""API Lambda: API Gateway proxy events in, the contract's JSON out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from spendwatch.platform.observability import logger
from spendwatch.store import StoreError

from api.routes import LazyResolver
from api.web import auth, caching
from api.web.errors import ApiError, error_response

# Every route, /health and the OpenAPI document included, is in a module of api.routes, imported when a request
# first asks for one of its paths: a cold start loads what it serves.
app = LazyResolver()


def _where(error: dict[str, Any]) -> str:
    """``start``, ``body.records.0.quantity`` or ``body`` (a JSON error's position is not a field)."""
    kind, *rest = error.get("loc", ("request",)) or ("request",)
    path = ".".join(str(p) for p in rest) if error.get("type") != "json_invalid" else ""
    if kind == "body":
        return f"body.{path}" if path else "body"
    return path or str(kind)


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response[Any]:
    """Bad query parameters (400) or a body that is not what the route takes (422), saying what was wrong."""
    errors = exc.errors()
    problems = "; ".join(f"{_where(err)}: {err.get('msg', 'invalid')}" for err in errors) or "invalid request"
    if any((err.get("loc") or ("",))[0] == "body" for err in errors):
        return error_response(422, "invalid_body", problems)
    return error_response(400, "invalid_parameter", problems)


@app.exception_handler(UnicodeDecodeError)
def undecodable_body(exc: UnicodeDecodeError) -> Response[Any]:
    """A base64 body that is not UTF-8 (JSON must be): powertools raises while decoding it, before validation."""
    return error_response(422, "invalid_body", "body: not UTF-8 text")


@app.exception_handler(OverflowError)
def date_out_of_range(exc: OverflowError) -> Response[Any]:
    """Date arithmetic past 9999-12-31 or before 0001-01-01: a day the caller asked for is too far out."""
    return error_response(400, "invalid_parameter", "a date is too far in the past or future")


@app.exception_handler(ApiError)
def api_error(exc: ApiError) -> Response[Any]:
    """Errors raised by routes."""
    return error_response(exc.status, exc.code, exc.message, exc.headers)


@app.exception_handler(StoreError)
def store_error(exc: StoreError) -> Response[Any]:
    """The table is unavailable: a retryable 503, details in the log only."""
    logger.exception("store unavailable")
    return error_response(503, "unavailable", "storage is temporarily unavailable; retry later")


def allowed_methods(path: str) -> list[str]:
    """The methods some route takes on ``path`` (HEAD wherever GET is), sorted; empty for an unknown path."""
    app.include_for(path)
    # Powertools keeps its routes in these two lists (pinned version; a test covers every route's answer).
    routes = app._static_routes + app._dynamic_routes
    methods = {route.method for route in routes if route.rule.match(path)}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


@app.not_found
def not_found(exc: NotFoundError) -> Response[Any]:
    """Unknown path (404), or a method no route on the path takes (405 with ``Allow``)."""
    event = app.current_event
    allowed = allowed_methods(event.path)
    if not allowed:
        return error_response(404, "not_found", "no such route")
    # A HEAD request is resolved as GET; the request context keeps the method the client sent.
    method = event.request_context.http_method or event.http_method
    message = f"{method} is not allowed on {event.path}; allowed: {', '.join(allowed)}"
    return error_response(405, "method_not_allowed", message, {"Allow": ", ".join(allowed)})


def _json_body(event: dict[str, Any]) -> None:
    """Bodies are JSON whatever Content-Type says: ``curl -d`` sends form encoding, which would be parsed as such."""
    if not event.get("body"):
        return
    for key, value in (("headers", "application/json"), ("multiValueHeaders", ["application/json"])):
        headers = {name: v for name, v in (event.get(key) or {}).items() if name.lower() != "content-type"}
        event[key] = {**headers, "Content-Type": value}


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId", clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Authenticate (or take a step of signing in), then route."""
    denied = auth.check(event)
    _json_body(event)
    if denied is not None:
        return denied
    if event.get("httpMethod") == "HEAD":
        # HEAD is answered as GET on every route that takes GET; the gateway sends the headers only, with the
        # Content-Length the GET would have.
        event["httpMethod"] = "GET"
    return caching.conditional(event, app.resolve(event, context), revalidate=auth.signed_in_page(event))
