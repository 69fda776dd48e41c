"""API Gateway REST (v1 proxy) translation: an HTTP request in, the Lambda proxy response out."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from spendwatch.platform.clock import utc_now

from spendwatch_local.lambdas.shapes import LOCAL_ACCOUNT

PROXY_RESOURCE = "/{proxy+}"
STAGE = "local"
# Headers the server computes itself; a handler's value would be wrong once the body is re-encoded.
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class MalformedResponseError(ValueError):
    """The function returned something API Gateway would answer with a 502."""


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as the local gateway received it."""

    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str


@dataclass(frozen=True)
class HttpResponse:
    """What to write back on the wire."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def build_event(request: HttpRequest, now: datetime | None = None) -> dict[str, Any]:
    """The API Gateway REST proxy event for a request on the ``/{proxy+}`` resource."""
    moment = now or utc_now()
    split = urlsplit(request.target)
    path = unquote(split.path) or "/"
    query = parse_qsl(split.query, keep_blank_values=True)
    body, is_base64 = _event_body(request.body)
    # The API's root is its own resource "/" with no path parameters; everything else is {proxy+}.
    resource = "/" if path == "/" else PROXY_RESOURCE
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": _last_values(request.headers),
        "multiValueHeaders": _all_values(request.headers),
        "queryStringParameters": _last_values(query),
        "multiValueQueryStringParameters": _all_values(query),
        "pathParameters": None if path == "/" else {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": _request_context(request, path, resource, moment),
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _request_context(request: HttpRequest, path: str, resource: str, moment: datetime) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in request.headers}
    request_id = str(uuid.uuid4())
    return {
        "accountId": LOCAL_ACCOUNT,
        "apiId": "local",
        "resourceId": "local",
        "resourcePath": resource,
        "httpMethod": request.method,
        "path": f"/{STAGE}{path}",
        "protocol": "HTTP/1.1",
        "stage": STAGE,
        "requestId": request_id,
        "extendedRequestId": request_id,
        "requestTime": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(moment.timestamp() * 1000),
        "domainName": headers.get("host", "localhost"),
        "identity": {"sourceIp": request.source_ip, "userAgent": headers.get("user-agent")},
    }


def _event_body(raw: bytes) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def _last_values(pairs: Sequence[tuple[str, str]]) -> dict[str, str] | None:
    # API Gateway keeps the last value of a repeated name in the single-value map, and sends None when empty.
    return dict(pairs) or None


def _all_values(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]] | None:
    merged: dict[str, list[str]] = {}
    for name, value in pairs:
        merged.setdefault(name, []).append(value)
    return merged or None


def parse_response(response: object, head_only: bool = False) -> HttpResponse:
    """The HTTP response for a proxy result; MalformedResponseError where API Gateway would send 502."""
    if not isinstance(response, Mapping):
        raise MalformedResponseError(f"the function returned {type(response).__name__}, not an object")
    status = _status(response.get("statusCode"))
    headers = _merged_headers(response.get("headers"), response.get("multiValueHeaders"))
    body = _response_body(response.get("body"), bool(response.get("isBase64Encoded")))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("Content-Length", str(len(body))))
    return HttpResponse(status, headers, b"" if head_only else body)


def _status(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedResponseError(f"statusCode {value!r} is not a number")
    try:
        status = int(value)
    except ValueError as exc:
        raise MalformedResponseError(f"statusCode {value!r} is not a number") from exc
    if not 100 <= status <= 599:
        raise MalformedResponseError(f"statusCode {status} is out of range")
    return status


def _merged_headers(single: object, multi: object) -> list[tuple[str, str]]:
    """API Gateway's merge: multiValueHeaders win for a name present in both."""
    if single is not None and not isinstance(single, Mapping):
        raise MalformedResponseError("headers must be an object")
    if multi is not None and not isinstance(multi, Mapping):
        raise MalformedResponseError("multiValueHeaders must be an object")
    merged: list[tuple[str, str]] = []
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise MalformedResponseError(f"multiValueHeaders[{name!r}] must be a list")
        merged.extend((str(name), str(value)) for value in values)
    seen = {name.lower() for name, _ in merged}
    merged.extend((str(name), str(value)) for name, value in (single or {}).items() if name.lower() not in seen)
    return [(name, value) for name, value in merged if name.lower() not in _HOP_HEADERS]


def _response_body(body: object, is_base64: bool) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResponseError(f"body must be a string, not {type(body).__name__}")
    if not is_base64:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise MalformedResponseError("body is marked base64 but is not valid base64") from exc


def error_response(status: int, code: str, message: str) -> HttpResponse:
    """A response carrying the contract's error body."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return HttpResponse(status, headers, body)
