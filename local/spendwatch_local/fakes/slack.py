"""A local Slack incoming webhook: records every post, checks Block Kit limits, answers like Slack does.

Serve it over HTTP (``with FakeSlack() as slack: slack.url``, a thread on 127.0.0.1 and a free port) or
without sockets (``slack.transport()`` for ``httpx.MockTransport``). Success is HTTP 200 with the plain-text
body ``ok``; errors are Slack's plain-text codes. Script failures with :meth:`fail`, :meth:`rate_limit`,
:meth:`reject` or :meth:`then`: scripted answers come first, in order, whatever the payload.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import httpx

WEBHOOK_PATH = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3000


@dataclass(frozen=True)
class Reply:
    """One HTTP answer."""

    status: int
    body: str = "ok"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Post:
    """One request as the fake saw it, and what it answered."""

    path: str
    raw: bytes
    payload: Any
    status: int
    answer: str
    at: float

    @property
    def accepted(self) -> bool:
        """Whether Slack would have shown this message."""
        return self.status == 200 and self.answer == "ok"


def block_problem(payload: Any) -> str | None:
    """Slack's error code for a payload it refuses, or None (only the limits this project relies on)."""
    if not isinstance(payload, dict):
        return "invalid_payload"
    blocks = payload.get("blocks", [])
    if not payload.get("text") and not blocks:
        return "no_text"
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    block_ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        return "invalid_blocks"
    for block in blocks:
        text = block.get("text", {}).get("text", "") if isinstance(block, dict) else None
        limit = MAX_HEADER if isinstance(block, dict) and block.get("type") == "header" else MAX_SECTION
        if text is None or len(text) > limit:
            return "invalid_blocks"
    return None


class FakeSlack:
    """One incoming webhook at :data:`WEBHOOK_PATH`; any other path answers 404 ``no_service``."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ------------------------------------------------------------------------------
    def then(self, *replies: Reply) -> Self:
        """Answer the next posts with ``replies``, in order."""
        with self._lock:
            self._script.extend(replies)
        return self

    def fail(self, times: int = 1, status: int = 500, body: str = "rollup_error") -> Self:
        """Answer the next ``times`` posts with a server error."""
        return self.then(*[Reply(status, body)] * times)

    def rate_limit(self, retry_after: int = 30, times: int = 1) -> Self:
        """Answer the next ``times`` posts with 429 and ``Retry-After``."""
        return self.then(*[Reply(429, "rate_limited", {"Retry-After": str(retry_after)})] * times)

    def reject(self, error: str = "invalid_payload", status: int = 400, times: int = 1) -> Self:
        """Answer the next ``times`` posts with a permanent error (``no_service``, ``channel_is_archived`` ...)."""
        return self.then(*[Reply(status, error)] * times)

    # -- what was posted ------------------------------------------------------------------------
    @property
    def accepted(self) -> list[Any]:
        """Payloads of the messages Slack would have shown, in order."""
        with self._lock:
            return [post.payload for post in self.posts if post.accepted]

    def accepted_alert_ids(self) -> list[str]:
        """Alert ids (from ``alert:<id>`` block ids) across accepted messages, one entry per appearance."""
        return [
            block["block_id"].removeprefix("alert:")
            for payload in self.accepted
            for block in payload.get("blocks", [])
            if str(block.get("block_id", "")).startswith("alert:")
        ]

    # -- the webhook ----------------------------------------------------------------------------
    def answer(self, path: str, raw: bytes) -> Reply:
        """What Slack would answer to ``POST path`` with body ``raw``."""
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = None
        with self._lock:
            reply = self._script.popleft() if self._script else self._judge(path, payload)
            self.posts.append(Post(path, raw, payload, reply.status, reply.body, time.monotonic()))
        return reply

    @staticmethod
    def _judge(path: str, payload: Any) -> Reply:
        if path != WEBHOOK_PATH:
            return Reply(404, "no_service")
        problem = block_problem(payload)
        return Reply(400, problem) if problem else Reply(200, "ok")

    def transport(self) -> httpx.MockTransport:
        """The fake as an httpx transport: no sockets, for unit tests."""

        def handle(request: httpx.Request) -> httpx.Response:
            reply = self.answer(request.url.path, request.read())
            return httpx.Response(reply.status, text=reply.body, headers=dict(reply.headers))

        return httpx.MockTransport(handle)

    # -- serving --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The webhook URL while serving (``transport()`` accepts any host with the same path)."""
        if self._server is None:
            return f"https://hooks.slack.test{WEBHOOK_PATH}"
        return f"http://127.0.0.1:{self._server.server_address[1]}{WEBHOOK_PATH}"

    def __enter__(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reply = fake.answer(self.path, raw)
            body = reply.body.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "text/html")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: callers read what was posted from ``posts``."""

    return Handler
