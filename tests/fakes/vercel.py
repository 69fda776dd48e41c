"""A local Vercel ``/v1/billing/charges`` endpoint: FOCUS rows as JSON lines, bearer auth, scripted failures.

Serve it over HTTP (``with FakeVercel(...) as fake: fake.url``, a thread on 127.0.0.1 and a free port) or
without sockets (``fake.transport()`` for ``httpx.MockTransport``). Rows are served when their
``ChargePeriodStart`` falls in ``[from, to)``; a row given as a string is served verbatim in every answer
(that is how a test plants a broken line). The API streams one answer per query and does not page.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

Row = Mapping[str, Any] | str
EXAMPLE = Path(__file__).parents[1] / "fixtures" / "vercel" / "charges_focus_example.jsonl"
PATH = "/v1/billing/charges"


def example_rows() -> list[dict[str, Any]]:
    """The FOCUS charges of ``tests/fixtures/vercel/charges_focus_example.jsonl`` (2025-03-10..12)."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@dataclass(frozen=True)
class Reply:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def _error(status: int, code: str, message: str) -> Reply:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    return Reply(status, body, {"Content-Type": "application/json"})


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class FakeVercel:
    """Vercel's billing charges API over configurable rows.

    ``rows`` are served as they are; ``every_day`` rows are served again for every UTC day the query
    touches, re-dated to that day (what a demo wants). ``token`` is the only bearer token accepted;
    ``team_id``, when given, is the only team that may be asked for. With ``compress`` the answer is
    gzipped when the client accepts it, as Vercel does. Replies queued with :meth:`then` are served first.
    """

    def __init__(
        self,
        rows: Sequence[Row] = (),
        token: str = "vercel-test-token",
        team_id: str | None = None,
        compress: bool = False,
        every_day: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.rows = list(rows)
        self.every_day = list(every_day)
        self.token = token
        self.team_id = team_id
        self.compress = compress
        self.requests: list[dict[str, str]] = []
        self._queued: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def then(self, *replies: Reply) -> FakeVercel:
        """Answer the next requests with ``replies`` (e.g. a 429 with Retry-After, a 503, a broken body)."""
        with self._lock:
            self._queued.extend(replies)
        return self

    # -- the API --------------------------------------------------------------------------------
    def answer(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Reply:
        """What Vercel would answer to ``GET path?query`` with ``headers`` (names in lower case)."""
        with self._lock:
            self.requests.append({"path": path, **query, "authorization": headers.get("authorization", "")})
            if self._queued:
                return self._queued.popleft()
        if path != PATH:
            return _error(404, "not_found", "The requested endpoint does not exist")
        if headers.get("authorization") != f"Bearer {self.token}":
            return _error(403, "forbidden", "Not authorized")
        if self.team_id and query.get("teamId") != self.team_id:
            return _error(403, "forbidden", "You don't have permission to access this team")
        try:
            start, end = _moment(query["from"]), _moment(query["to"])
        except (KeyError, ValueError):
            return _error(400, "bad_request", "from and to must be ISO 8601 date-times")
        body = "".join(f"{line}\n" for line in self._lines(start, end)).encode()
        reply_headers = {"Content-Type": "application/jsonl"}
        if self.compress and "gzip" in headers.get("accept-encoding", ""):
            body = gzip.compress(body)
            reply_headers["Content-Encoding"] = "gzip"
        return Reply(200, body, reply_headers)

    def _lines(self, start: datetime, end: datetime) -> list[str]:
        lines = []
        for row in [*self.rows, *self._every_day(start, end)]:
            if isinstance(row, str):
                lines.append(row)
            elif start <= _moment(str(row["ChargePeriodStart"])) < end:
                lines.append(json.dumps(row, separators=(",", ":")))
        return lines

    def _every_day(self, start: datetime, end: datetime) -> list[Row]:
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        rows: list[Row] = []
        while day < end:
            stamp = {"ChargePeriodStart": _iso(day), "ChargePeriodEnd": _iso(day + timedelta(days=1))}
            rows += [{**row, **stamp} for row in self.every_day]
            day += timedelta(days=1)
        return rows

    # -- transports -----------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        """The fake as an httpx transport: no sockets, for unit tests."""

        def handle(request: httpx.Request) -> httpx.Response:
            headers = {name.lower(): value for name, value in request.headers.items()}
            reply = self.answer(request.url.path, dict(request.url.params), headers)
            return httpx.Response(reply.status, content=reply.body, headers=dict(reply.headers))

        return httpx.MockTransport(handle)

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        if self._server is None:
            raise RuntimeError("the fake is not serving; use it as a context manager or call start()")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        """Serve on 127.0.0.1 on a free port in a daemon thread; returns the base URL."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-vercel", daemon=True)
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

    def __enter__(self) -> FakeVercel:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _handler(fake: FakeVercel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = fake.answer(parts.path, dict(parse_qsl(parts.query)), headers)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


def example_day() -> list[dict[str, Any]]:
    """The example's charges of its first day, to serve for every day asked (see ``every_day``)."""
    return [row for row in example_rows() if str(row["ChargePeriodStart"]).startswith("2025-03-10")]


if __name__ == "__main__":
    with FakeVercel(every_day=example_day()) as served:
        print(f"fake Vercel API on {served.url} (set VERCEL_API_URL to it, VERCEL_TOKEN={served.token})")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
