"""The local API Gateway: a threading HTTP server that invokes the api function for every request."""

from __future__ import annotations

import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aws_lambda_powertools import Logger

from spendwatch_local.apigateway.events import (
    HttpRequest,
    HttpResponse,
    MalformedResponseError,
    build_event,
    error_response,
    parse_response,
)
from spendwatch_local.foreground import FOREGROUND

Invoke = Callable[[dict[str, Any]], Any]
# API Gateway's own payload limit; a larger body is refused before the function sees it.
MAX_BODY_BYTES = 10 * 1024 * 1024


class GatewayServer(ThreadingHTTPServer):
    """Serves HTTP by turning each request into an API Gateway proxy event."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], invoke: Invoke, logger: Logger) -> None:
        self.invoke = invoke
        self.logger = logger
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, GatewayRequestHandler)

    @property
    def port(self) -> int:
        """The bound port (useful when asked for port 0)."""
        return int(self.server_address[1])

    def stop(self, timeout: float = 0.0) -> None:
        """Stop serve_forever (it polls every 0.1 s) and close the socket; requests in flight are not waited for."""
        self.shutdown()
        self.server_close()

    def respond(self, request: HttpRequest) -> HttpResponse:
        """The function's answer to ``request`` (background work gives way meanwhile)."""
        with FOREGROUND.serving():
            return respond(request, self.invoke, self.logger)


def respond(request: HttpRequest, invoke: Invoke, logger: Logger) -> HttpResponse:
    """Invoke the function for ``request``; a failing function becomes a 500/502, never a crash."""
    event = build_event(request)
    try:
        result = invoke(event)
    except Exception:
        logger.exception("api function raised", extra={"method": request.method, "path": event["path"]})
        return error_response(500, "internal", "internal error; see the spendwatch local log")
    try:
        return parse_response(result, head_only=request.method == "HEAD")
    except MalformedResponseError as exc:
        logger.error("api function returned a malformed response", extra={"problem": str(exc)})
        return error_response(502, "bad_gateway", "malformed response from the api function")


class GatewayRequestHandler(BaseHTTPRequestHandler):
    """One HTTP connection; every method goes through the same proxy."""

    server: GatewayServer
    protocol_version = "HTTP/1.1"
    server_version = "spendwatch-local"

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the function, as through API Gateway's ANY method: the API answers a method it
        # does not take with its own 405 (or 404), never the standard library's HTML 501.
        if name.startswith("do_"):
            return self._proxy
        raise AttributeError(name)

    def _proxy(self) -> None:
        body = self._read_body()
        if body is None:
            return
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        self._write(self.server.respond(request))

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._refuse(error_response(411, "length_required", "send Content-Length, not chunked"))
            return None
        length_text = self.headers.get("Content-Length") or "0"
        if not length_text.isdigit():
            self._refuse(error_response(400, "invalid_request", "Content-Length is not a number"))
            return None
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self._refuse(error_response(413, "payload_too_large", "the request body exceeds 10 MB"))
            return None
        return self.rfile.read(length) if length else b""

    def _refuse(self, response: HttpResponse) -> None:
        # The body stays unread, so this connection cannot carry another request.
        self.close_connection = True
        self._write(response)

    def _write(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if response.body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Access log as a structured debug line instead of stderr text."""
        self.server.logger.debug("http", extra={"client": self.client_address[0], "line": format % args})
