"""A local webhook receiver: verifies spendwatch's signature as a receiver should, and records what arrived.

Each ``POST`` is checked with ``spendwatch.channels.webhook.verify`` (HMAC-SHA256 over ``"<timestamp>." + body``,
timestamp within five minutes); a valid one answers 204, a bad signature 401. Script failures with :meth:`fail`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Self

from spendwatch.channels.webhook import EVENT_HEADER, verify

from spendwatch_local.fakes._http import FakeServer, Reply, Request, json_reply

HOOK_PATH = "/hooks/spendwatch"


@dataclass(frozen=True)
class Delivered:
    """One post: its event header, its JSON body, whether the signature held, and the answer's status."""

    event: str
    alert: Any
    signed: bool
    status: int


class FakeWebhook(FakeServer):
    """A receiver at :data:`HOOK_PATH` that knows the signing secret."""

    thread_name = "fake-webhook"
    methods = frozenset({"POST"})

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.posts: list[Delivered] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()

    @property
    def hook_url(self) -> str:
        """The URL a ``type = "webhook"`` channel posts to."""
        return f"{self.url}{HOOK_PATH}"

    def fail(self, times: int = 1, status: int = 503) -> Self:
        """Answer the next ``times`` posts with ``status``."""
        with self._lock:
            self._script.extend([Reply(status)] * times)
        return self

    @property
    def accepted(self) -> list[Delivered]:
        """Posts whose signature held and that were answered with success."""
        with self._lock:
            return [post for post in self.posts if post.signed and post.status < 300]

    def reply(self, request: Request) -> Reply:
        """Verify, record, answer."""
        if request.path != HOOK_PATH:
            return json_reply(404, {"error": "no such hook"})
        signed = verify(self.secret, request.headers, request.body, time.time())
        try:
            alert: Any = json.loads(request.body)
        except ValueError:
            alert = None
        with self._lock:
            if self._script:
                reply = self._script.popleft()
            else:
                reply = Reply(204) if signed else json_reply(401, {"error": "bad signature"})
            self.posts.append(Delivered(request.headers.get(EVENT_HEADER.lower(), ""), alert, signed, reply.status))
        return reply
