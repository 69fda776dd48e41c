"""A local OpenCost ``/allocation`` endpoint: configurable daily allocations, idle modes, scripted failures.

Serve it over HTTP (``with FakeOpenCost(...) as fake: fake.url``, a thread on 127.0.0.1 and a free port) or
without sockets (``fake.transport()`` for ``httpx.MockTransport``). It steps through the requested window
like OpenCost does (forward from the window start, one set per ``step``), answers ``includeIdle`` and
``shareIdle`` the way OpenCost does for ``__idle__``, and can be told to answer 429s, 5xx or broken bodies.
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

Allocation = dict[str, Any]
EXAMPLE = Path(__file__).parents[1] / "fixtures" / "opencost" / "allocation_window7d_aggregate_namespace_example.json"
IDLE = "__idle__"
SHARED_BY_RESOURCE = ("cpuCost", "gpuCost", "ramCost")


def example_allocations() -> dict[str, Allocation]:
    """The three namespaces of OpenCost's published example answer, keyed by name."""
    data: dict[str, Allocation] = json.loads(EXAMPLE.read_text(encoding="utf-8"))["data"][0]
    return data


def idle_allocation(cpu_cost: float, ram_cost: float, cluster: str = "default-cluster") -> Allocation:
    """An ``__idle__`` allocation as OpenCost builds it (only CPU, GPU and RAM costs)."""
    return {
        "name": IDLE,
        "properties": {"cluster": cluster},
        "cpuCost": cpu_cost,
        "gpuCost": 0.0,
        "ramCost": ram_cost,
        "totalCost": cpu_cost + ram_cost,
    }


@dataclass(frozen=True)
class Reply:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


def _json(status: int, body: Any) -> Reply:
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_window(text: str) -> tuple[datetime, datetime]:
    start, end = (datetime.fromisoformat(part).astimezone(UTC) for part in text.split(","))
    if end <= start:
        raise ValueError("window end is not after its start")
    return start, end


def _share_idle(allocations: dict[str, Allocation]) -> None:
    """Spread ``__idle__`` over the others per resource, in proportion to what each already costs."""
    idle = allocations.pop(IDLE, None)
    if not idle or not allocations:
        return
    names = sorted(allocations)
    for resource in SHARED_BY_RESOURCE:
        amount = float(idle.get(resource, 0.0))
        weights = [float(allocations[n].get(resource, 0.0)) for n in names]
        if not sum(weights):
            weights = [1.0] * len(names)
        total = sum(weights)
        given = 0.0
        for i, name in enumerate(names):
            share = amount - given if i == len(names) - 1 else round(amount * weights[i] / total, 5)
            given += share
            allocations[name][resource] = float(allocations[name].get(resource, 0.0)) + share
            allocations[name]["totalCost"] = float(allocations[name]["totalCost"]) + share


class FakeOpenCost:
    """OpenCost's allocation API over configurable data.

    ``days`` maps a UTC day to its allocations (name -> allocation); ``every_day`` is served for any day
    not in ``days``. An allocation named ``__idle__`` is idle cost. Days in ``failing_days`` make every
    window that includes them answer 500. Replies queued with :meth:`then` are served first, in order.
    """

    def __init__(
        self,
        days: Mapping[date, Mapping[str, Allocation]] | None = None,
        every_day: Mapping[str, Allocation] | None = None,
        failing_days: Collection[date] = (),
    ) -> None:
        self.days = {day: dict(allocs) for day, allocs in (days or {}).items()}
        self.every_day = dict(every_day or {})
        self.failing_days = set(failing_days)
        self.requests: list[dict[str, str]] = []
        self._queued: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ------------------------------------------------------------------------------
    def then(self, *replies: Reply) -> FakeOpenCost:
        """Answer the next requests with ``replies`` (e.g. a 429 with Retry-After, a 503, a broken body)."""
        with self._lock:
            self._queued.extend(replies)
        return self

    def allocations(self, day: date) -> dict[str, Allocation]:
        """A fresh copy of what is served for ``day`` (before idle handling)."""
        return copy.deepcopy(dict(self.days.get(day, self.every_day)))

    # -- the API --------------------------------------------------------------------------------
    def answer(self, path: str, query: Mapping[str, str]) -> Reply:
        """What OpenCost would answer to ``GET path?query``."""
        with self._lock:
            self.requests.append({"path": path, **query})
            if self._queued:
                return self._queued.popleft()
        if path.rstrip("/") != "/allocation":
            return _json(404, {"code": 404, "message": f"no route {path}"})
        try:
            start, end = _parse_window(query.get("window", ""))
        except ValueError:
            return _json(400, {"code": 400, "message": "Invalid 'window' parameter"})
        if query.get("step") != "1d" or query.get("accumulate", "false") != "false":
            return _json(400, {"code": 400, "message": "this fake serves step=1d, accumulate=false only"})
        steps = list(self._steps(start, end))
        if any(s.date() in self.failing_days for s in steps):
            return _json(500, {"code": 500, "message": "error computing allocation"})
        include_idle = query.get("includeIdle") == "true"
        share_idle = query.get("shareIdle") == "true"
        sets = [self._set(s, include_idle, share_idle) for s in steps]
        return _json(200, {"code": 200, "status": "success", "data": sets})

    @staticmethod
    def _steps(start: datetime, end: datetime) -> Iterator[datetime]:
        step = start
        while step < end:
            yield step
            step += timedelta(days=1)

    def _set(self, start: datetime, include_idle: bool, share_idle: bool) -> dict[str, Allocation]:
        allocations = self.allocations(start.date())
        if share_idle and include_idle:
            _share_idle(allocations)
        elif not include_idle:
            allocations.pop(IDLE, None)
        window = {"start": _rfc3339(start), "end": _rfc3339(start + timedelta(days=1))}
        for name, alloc in allocations.items():
            alloc.update(name=name, window=dict(window), start=window["start"], end=window["end"], minutes=1440.0)
        return allocations

    # -- transports -----------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        """The fake as an httpx transport: no sockets, for unit tests."""

        def handle(request: httpx.Request) -> httpx.Response:
            reply = self.answer(request.url.path, dict(request.url.params))
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
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-opencost", daemon=True)
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

    def __enter__(self) -> FakeOpenCost:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _handler(fake: FakeOpenCost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            reply = fake.answer(parts.path, dict(parse_qsl(parts.query)))
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


if __name__ == "__main__":
    with FakeOpenCost(every_day=example_allocations()) as served:
        print(f"fake OpenCost on {served.url} (set OPENCOST_URL to it); Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
