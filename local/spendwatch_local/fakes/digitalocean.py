"""A local DigitalOcean API: account, balance, billing insights, invoices, droplets, with scripted failures.

``with FakeDigitalOcean(insights=[...]) as fake: fake.url`` serves from a thread on 127.0.0.1 and a free port.
The data is plain attributes a test or the demo may change at any time:

- ``insights``: billing data points; a request gets those whose ``start_date`` lies in its path's dates,
  paged with ``total_items/total_pages/current_page``.
- ``invoices`` (+ ``invoice_preview``), ``invoice_items`` (per invoice uuid) and ``droplets``: paged with
  absolute ``links.pages`` URLs (``first/prev/next/last``, only those that apply) and ``meta.total``.
- ``balance``: the ``/v2/customers/my/balance`` body.
- ``sizes``, ``volumes``, ``reserved_ips``, ``snapshots``: paged like droplets.
- droplet metrics (``/v2/monitoring/metrics/droplet/{cpu,memory_total,memory_available}``):
  ``metric_bodies[name]`` when set (whatever the host; its samples moved so the first lands on the request's
  ``start``), else a series generated over the request's ``start..end`` from ``loads[host_id]`` (a :class:`Load`),
  else an empty result, as for a droplet without the metrics agent.
- ``max_per_page`` caps ``per_page`` (the real API caps it at 200) so a test can force many pages.

Every answer carries ``ratelimit-limit``, ``ratelimit-remaining`` (counting down from ``ratelimit_remaining``)
and ``rateLimit-reset`` (mixed case, as in DigitalOcean's documentation). :meth:`fail` queues error answers
(429 with ``retry-after``, a 5xx, a malformed body, a 404 error body) for requests whose path starts with a
prefix; they are served before the normal answer. Requests are recorded in ``requests``.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Self
from urllib.parse import unquote

from spendwatch_local.fakes._http import FakeServer, Reply, Request

TEAM_UUID = "12345678-1234-1234-1234-123456789012"  # the team of DigitalOcean's published insights example
TOKEN = "fake-do-token-0123456789"  # noqa: S105 - the fake's own test token, not a credential
Answer = tuple[int, Any, Mapping[str, str]]


def spread_insights(rows: Iterable[Mapping[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    """``rows`` repeated for every day in [start, end] (their ``start_date`` replaced): a month of data points."""
    out = []
    day = start
    while day <= end:
        out += [{**row, "start_date": day.isoformat()} for row in rows]
        day += timedelta(days=1)
    return out


CPU_MODES = ("idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user")
MAX_POINTS = 400  # the real API picks a coarser resolution for longer windows; so does the fake


@dataclass(frozen=True)
class Load:
    """What a droplet's metrics show: CPU and memory utilisation (0..1) around which the series swing daily."""

    cpu: float
    memory: float
    vcpus: int = 2
    memory_bytes: int = 4 * 2**30
    swing: float = 0.3  # the daily swing, as a share of ``cpu``


def _step(start: int, end: int) -> int:
    return max(60, -(-(end - start) // MAX_POINTS))


def _cpu_at(load: Load, stamp: int) -> float:
    """The CPU utilisation around ``stamp``: busiest at midday UTC."""
    phase = math.cos(2 * math.pi * ((stamp % 86400) / 86400 - 0.5))
    return min(0.99, max(0.0, load.cpu * (1 + load.swing * phase)))


def cpu_series(host_id: str, load: Load, start: int, end: int) -> dict[str, Any]:
    """Per-mode cumulative CPU seconds over [start, end], shaped like the cpu metrics answer."""
    step = _step(start, end)
    stamps = list(range(start - start % step, end + 1, step))  # aligned, as the real API's: may start before
    shares = {"user": 0.75, "system": 0.2, "iowait": 0.03, "softirq": 0.02}
    totals = dict.fromkeys(CPU_MODES, 1000.0 * load.vcpus)
    values: dict[str, list[list[Any]]] = {mode: [] for mode in CPU_MODES}
    for index, stamp in enumerate(stamps):
        if index:
            seconds = (stamp - stamps[index - 1]) * load.vcpus
            busy = _cpu_at(load, stamps[index - 1]) * seconds
            totals["idle"] += seconds - busy
            for mode, share in shares.items():
                totals[mode] += busy * share
        for mode in CPU_MODES:
            values[mode].append([stamp, f"{totals[mode]:.2f}"])
    result = [{"metric": {"host_id": host_id, "mode": mode}, "values": values[mode]} for mode in CPU_MODES]
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


def memory_series(host_id: str, load: Load, start: int, end: int, metric: str) -> dict[str, Any]:
    """The ``memory_total`` or ``memory_available`` gauge over [start, end]."""
    step = _step(start, end)
    total = load.memory_bytes
    value = total if metric == "memory_total" else round(total * (1 - load.memory))
    values = [[stamp, str(value)] for stamp in range(start - start % step, end + 1, step)]
    result = [{"metric": {"host_id": host_id}, "values": values}]
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


def shifted(body: Any, start: int) -> Any:
    """A metrics answer with every sample moved by the same offset, so the earliest lands on ``start``."""
    results = body.get("data", {}).get("result", []) if isinstance(body, dict) else []
    stamps = [int(point[0]) for result in results for point in result.get("values", [])]
    if not stamps:
        return body
    offset = start - min(stamps)
    moved = [
        {**result, "values": [[int(point[0]) + offset, point[1]] for point in result.get("values", [])]}
        for result in results
    ]
    return {**body, "data": {**body["data"], "result": moved}}


@dataclass
class Fault:
    """Error answers for the next ``times`` requests whose path starts with ``prefix``."""

    prefix: str
    status: int
    body: Any
    headers: Mapping[str, str]
    times: int


@dataclass
class Seen:
    """One request as the fake received it."""

    path: str
    query: dict[str, str]
    authorization: str | None


def _error(status: int, error_id: str, message: str) -> Answer:
    return status, {"id": error_id, "message": message, "request_id": "fake-request"}, {}


NOT_FOUND = (404, "not_found", "The resource you were accessing could not be found.")


@dataclass
class FakeDigitalOcean(FakeServer):
    """DigitalOcean's v2 API over configurable data (see the module docstring)."""

    thread_name = "fake-digitalocean"
    token: str = TOKEN
    team_uuid: str = TEAM_UUID
    insights: list[Any] = field(default_factory=list)
    invoices: list[Any] = field(default_factory=list)
    invoice_preview: dict[str, Any] | None = None
    invoice_items: dict[str, list[Any]] = field(default_factory=dict)
    balance: dict[str, Any] = field(default_factory=dict)
    droplets: list[Any] = field(default_factory=list)
    sizes: list[Any] = field(default_factory=list)
    volumes: list[Any] = field(default_factory=list)
    reserved_ips: list[Any] = field(default_factory=list)
    snapshots: list[Any] = field(default_factory=list)
    metric_bodies: dict[str, Any] = field(default_factory=dict)
    loads: dict[str, Load] = field(default_factory=dict)
    max_per_page: int = 200
    ratelimit_remaining: int = 4999
    ratelimit_reset: int | None = None
    requests: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- scripting ------------------------------------------------------------------------------------
    def fail(
        self, prefix: str, status: int, body: Any = None, headers: Mapping[str, str] | None = None, times: int = 1
    ) -> Self:
        """Answer the next ``times`` requests under ``prefix`` with ``status`` and ``body`` (bytes go out verbatim)."""
        with self._lock:
            self.faults.append(Fault(prefix, status, body, dict(headers or {}), times))
        return self

    def seen(self, prefix: str = "/") -> list[Seen]:
        """The requests received so far under ``prefix``."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    @property
    def team_urn(self) -> str:
        """The billing account URN insights are served for."""
        return f"do:team:{self.team_uuid}"

    # -- answering ------------------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, str], authorization: str | None) -> Answer:
        """The status, body and headers for one GET."""
        with self._lock:
            self.requests.append(Seen(path, query, authorization))
            fault = next((f for f in self.faults if f.times > 0 and path.startswith(f.prefix)), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            return fault.status, fault.body, fault.headers
        if authorization != f"Bearer {self.token}":
            return _error(401, "unauthorized", "Unable to authenticate you")
        for pattern, route in self._routes():
            match = re.fullmatch(pattern, path)
            if match:
                return route(query, **match.groupdict())
        return _error(*NOT_FOUND)

    def _routes(self) -> list[tuple[str, Callable[..., Answer]]]:
        return [
            (r"/v2/account", self._account),
            (r"/v2/customers/my/balance", lambda _q: (200, self.balance, {})),
            (r"/v2/customers/my/invoices", self._invoices),
            (r"/v2/customers/my/invoices/(?P<uuid>[^/]+)", self._invoice),
            (r"/v2/billing/(?P<urn>[^/]+)/insights/(?P<start>[^/]+)/(?P<end>[^/]+)", self._insights),
            (r"/v2/droplets", self._droplets),
            (r"/v2/sizes", lambda q: self._listing("sizes", self.sizes, q)),
            (r"/v2/volumes", lambda q: self._listing("volumes", self.volumes, q)),
            (r"/v2/reserved_ips", lambda q: self._listing("reserved_ips", self.reserved_ips, q)),
            (r"/v2/snapshots", lambda q: self._listing("snapshots", self.snapshots, q)),
            (r"/v2/monitoring/metrics/droplet/(?P<metric>cpu|memory_total|memory_available)", self._metric),
        ]

    def _account(self, _query: dict[str, str]) -> Answer:
        account = {
            "droplet_limit": 25,
            "floating_ip_limit": 5,
            "email": "sammy@digitalocean.com",
            "name": "Sammy the Shark",
            "uuid": "b6fr89dbf6d9156cace5f3c78dc9851d957381ef",
            "email_verified": True,
            "status": "active",
            "status_message": " ",
            "team": {"uuid": self.team_uuid, "name": "My Team"},
        }
        return 200, {"account": account}, {}

    def _page(self, query: dict[str, str]) -> tuple[int, int]:
        page = max(1, int(query.get("page", "1")))
        per_page = max(1, min(int(query.get("per_page", "20")), self.max_per_page, 200))
        return page, per_page

    def _linked(self, path: str, key: str, rows: list[Any], query: dict[str, str]) -> dict[str, Any]:
        page, per_page = self._page(query)
        last = max(1, math.ceil(len(rows) / per_page))
        link = f"{self.url}{path}?page={{}}&per_page={per_page}"
        pages: dict[str, str] = {}
        if page > 1:
            pages.update(first=link.format(1), prev=link.format(page - 1))
        if page < last:
            pages.update(next=link.format(page + 1), last=link.format(last))
        chunk = rows[(page - 1) * per_page : page * per_page]
        return {key: chunk, "links": {"pages": pages}, "meta": {"total": len(rows)}}

    def _invoices(self, query: dict[str, str]) -> Answer:
        body = self._linked("/v2/customers/my/invoices", "invoices", self.invoices, query)
        if self.invoice_preview is not None:
            body["invoice_preview"] = self.invoice_preview
        return 200, body, {}

    def _invoice(self, query: dict[str, str], uuid: str) -> Answer:
        if uuid not in self.invoice_items:
            return _error(*NOT_FOUND)
        path = f"/v2/customers/my/invoices/{uuid}"
        return 200, self._linked(path, "invoice_items", self.invoice_items[uuid], query), {}

    def _droplets(self, query: dict[str, str]) -> Answer:
        return 200, self._linked("/v2/droplets", "droplets", self.droplets, query), {}

    def _listing(self, key: str, rows: list[Any], query: dict[str, str]) -> Answer:
        return 200, self._linked(f"/v2/{key}", key, rows, query), {}

    def _metric(self, query: dict[str, str], metric: str) -> Answer:
        host = query.get("host_id", "")
        try:
            start, end = int(query["start"]), int(query["end"])
        except (KeyError, ValueError):
            return _error(400, "bad_request", "start and end must be Unix timestamps")
        if metric in self.metric_bodies:
            return 200, shifted(self.metric_bodies[metric], start), {}
        load = self.loads.get(host)
        if load is None:
            empty = {"status": "success", "data": {"resultType": "matrix", "result": []}}
            return 200, empty, {}
        if metric == "cpu":
            return 200, cpu_series(host, load, start, end), {}
        return 200, memory_series(host, load, start, end, metric), {}

    def _insights(self, query: dict[str, str], urn: str, start: str, end: str) -> Answer:
        if unquote(urn) != self.team_urn:
            return _error(*NOT_FOUND)
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            return _error(400, "bad_request", "dates must be YYYY-MM-DD")
        if last < first or (last - first).days > 31:
            return _error(400, "bad_request", "end_date must be within 31 days of start_date")
        rows = [r for r in self.insights if first.isoformat() <= str(r.get("start_date", "")) <= last.isoformat()]
        page, per_page = self._page(query)
        body = {
            "data_points": rows[(page - 1) * per_page : page * per_page],
            "total_items": len(rows),
            "total_pages": math.ceil(len(rows) / per_page),
            "current_page": page,
        }
        return 200, body, {}

    def rate_headers(self) -> dict[str, str]:
        """The rate-limit headers of the next answer (the allowance drops by one per request)."""
        with self._lock:
            remaining = self.ratelimit_remaining
            self.ratelimit_remaining = max(0, remaining - 1)
        reset = self.ratelimit_reset if self.ratelimit_reset is not None else int(time.time()) + 3600
        return {"ratelimit-limit": "5000", "ratelimit-remaining": str(remaining), "rateLimit-reset": str(reset)}

    def reply(self, request: Request) -> Reply:
        """The HTTP answer: JSON (or the scripted bytes verbatim) with the rate-limit headers."""
        status, body, headers = self.answer(request.path, request.query, request.headers.get("authorization"))
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        content = {"Content-Type": "application/json; charset=utf-8"}
        return Reply(status, raw, {**content, **self.rate_headers(), **headers})
