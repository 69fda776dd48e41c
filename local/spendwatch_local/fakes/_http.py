"""What every fake provider API shares: request and reply, a threaded server on 127.0.0.1, an httpx transport."""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import httpx

# How often serve_forever looks for a shutdown request: short, so stopping a fake never stalls a test or the demo.
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Reply:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def json_reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
    """``body`` as a JSON answer."""
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})


@dataclass(frozen=True)
class Request:
    """One request as a fake sees it: the path, the query (last value of a repeated name), lower-case headers."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""

    @classmethod
    def parse(cls, target: str, headers: Iterable[tuple[str, str]], method: str = "GET", body: bytes = b"") -> Request:
        """The request for an HTTP target (``/path?query``), its header pairs and body."""
        parts = urlsplit(target)
        lowered = {name.lower(): value for name, value in headers}
        return cls(parts.path, dict(parse_qsl(parts.query)), lowered, method, body)


class FakeServer(ABC):
    """A fake API: subclasses answer a :class:`Request` in :meth:`reply`; this serves it over HTTP or httpx."""

    thread_name = "fake-api"
    methods: frozenset[str] = frozenset({"GET"})  # anything else is answered 405 before reply() sees it
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @abstractmethod
    def reply(self, request: Request) -> Reply:
        """The answer to one request."""

    def answer_request(self, request: Request) -> Reply:
        """:meth:`reply`, or 405 for a method the fake does not serve."""
        if request.method not in self.methods:
            return json_reply(405, {"message": f"{request.method} is not allowed here"})
        return self.reply(request)

    def start(self) -> str:
        """Serve on 127.0.0.1 and a free port, in a daemon thread; returns the base URL."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        serve = {"poll_interval": POLL_SECONDS}
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs=serve, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` while serving."""
        if self._server is None:
            raise RuntimeError("the fake is not serving; use it as a context manager or call start()")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def transport(self) -> httpx.MockTransport:
        """The fake as an httpx transport: no sockets, for unit tests."""

        def handle(request: httpx.Request) -> httpx.Response:
            headers = {name.lower(): value for name, value in request.headers.items()}
            seen = Request(request.url.path, dict(request.url.params), headers, request.method, request.read())
            reply = self.answer_request(seen)
            return httpx.Response(reply.status, content=reply.body, headers=dict(reply.headers))

        return httpx.MockTransport(handle)


def _handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            reply = fake.answer_request(Request.parse(self.path, self.headers.items(), self.command, body))
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a demo or a test prints what matters itself."""

    return Handler
