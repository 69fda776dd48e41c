"""The API's one error shape, ``{"error": {"code", "message"}}``, and the exceptions that produce it (its models,
``ErrorResponse`` and ``ErrorBody``, are in ``api.schemas`` with the others)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response


class ApiError(Exception):
    """An error with its HTTP status and code; raised by routes, rendered in one place."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response[Any]:
    """A powertools Response carrying the error body."""
    body = json.dumps({"error": {"code": code, "message": message}})
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def proxy_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The error as a raw API Gateway proxy response (used before routing, e.g. for auth)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps({"error": {"code": code, "message": message}}),
        "isBase64Encoded": False,
    }
