"""A local Vercel ``/v1/billing/charges`` endpoint: FOCUS rows as JSON lines, bearer auth, scripted failures.

Serve it over HTTP (``with FakeVercel(...) as fake: fake.url``, a thread on 127.0.0.1 and a free port) or
without sockets (``fake.transport()`` for ``httpx.MockTransport``). Rows are served when their
``ChargePeriodStart`` falls in ``[from, to)``; a row given as a string is served verbatim in every answer
(that is how a test plants a broken line). The API streams one answer per query and does not page.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from spendwatch_local.fakes._http import FakeServer, Reply, Request, json_reply

Row = Mapping[str, Any] | str
PATH = "/v1/billing/charges"

__all__ = ["PATH", "FakeVercel", "Reply", "Row"]


def _error(status: int, code: str, message: str) -> Reply:
    return json_reply(status, {"error": {"code": code, "message": message}})


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class FakeVercel(FakeServer):
    """Vercel's billing charges API over configurable rows.

    ``rows`` are served as they are; ``every_day`` rows are served again for every UTC day the query
    touches, re-dated to that day (what a demo wants). ``token`` is the only bearer token accepted;
    ``team_id``, when given, is the only team that may be asked for. With ``compress`` the answer is
    gzipped when the client accepts it, as Vercel does. Replies queued with :meth:`then` are served first.
    """

    thread_name = "fake-vercel"

    def __init__(
        self,
        rows: Sequence[Row] = (),
        token: str = "vercel-test-token",  # noqa: S107 - the fake's own test token, not a credential
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

    def then(self, *replies: Reply) -> Self:
        """Answer the next requests with ``replies`` (e.g. a 429 with Retry-After, a 503, a broken body)."""
        with self._lock:
            self._queued.extend(replies)
        return self

    # -- the API --------------------------------------------------------------------------------
    def reply(self, request: Request) -> Reply:
        """The HTTP answer to one GET."""
        return self.answer(request.path, request.query, request.headers)

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
