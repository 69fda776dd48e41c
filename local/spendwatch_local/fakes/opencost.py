"""A local OpenCost ``/allocation`` endpoint: configurable daily allocations, idle modes, scripted failures.

Serve it over HTTP (``with FakeOpenCost(...) as fake: fake.url``, a thread on 127.0.0.1 and a free port) or
without sockets (``fake.transport()`` for ``httpx.MockTransport``). It steps through the requested window
like OpenCost does (forward from the window start, one set per ``step``), answers ``includeIdle`` and
``shareIdle`` the way OpenCost does for ``__idle__``, and can be told to answer 429s, 5xx or broken bodies.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Self

from spendwatch_local.fakes._http import FakeServer, Reply, Request, json_reply

Allocation = dict[str, Any]
IDLE = "__idle__"
SHARED_BY_RESOURCE = ("cpuCost", "gpuCost", "ramCost")

__all__ = ["IDLE", "Allocation", "FakeOpenCost", "Reply", "idle_allocation"]


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


class FakeOpenCost(FakeServer):
    """OpenCost's allocation API over configurable data.

    ``days`` maps a UTC day to its allocations (name -> allocation); ``every_day`` is served for any day
    not in ``days``. An allocation named ``__idle__`` is idle cost. Days in ``failing_days`` make every
    window that includes them answer 500. Replies queued with :meth:`then` are served first, in order.
    """

    thread_name = "fake-opencost"

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

    # -- scripting ------------------------------------------------------------------------------
    def then(self, *replies: Reply) -> Self:
        """Answer the next requests with ``replies`` (e.g. a 429 with Retry-After, a 503, a broken body)."""
        with self._lock:
            self._queued.extend(replies)
        return self

    def allocations(self, day: date) -> dict[str, Allocation]:
        """A fresh copy of what is served for ``day`` (before idle handling)."""
        return copy.deepcopy(dict(self.days.get(day, self.every_day)))

    # -- the API --------------------------------------------------------------------------------
    def reply(self, request: Request) -> Reply:
        """The HTTP answer to one GET."""
        return self.answer(request.path, request.query)

    def answer(self, path: str, query: Mapping[str, str]) -> Reply:
        """What OpenCost would answer to ``GET path?query``."""
        with self._lock:
            self.requests.append({"path": path, **query})
            if self._queued:
                return self._queued.popleft()
        if path.rstrip("/") != "/allocation":
            return json_reply(404, {"code": 404, "message": f"no route {path}"})
        try:
            start, end = _parse_window(query.get("window", ""))
        except ValueError:
            return json_reply(400, {"code": 400, "message": "Invalid 'window' parameter"})
        if query.get("step") != "1d" or query.get("accumulate", "false") != "false":
            return json_reply(400, {"code": 400, "message": "this fake serves step=1d, accumulate=false only"})
        steps = list(self._steps(start, end))
        if any(s.date() in self.failing_days for s in steps):
            return json_reply(500, {"code": 500, "message": "error computing allocation"})
        include_idle = query.get("includeIdle") == "true"
        share_idle = query.get("shareIdle") == "true"
        sets = [self._set(s, include_idle, share_idle) for s in steps]
        return json_reply(200, {"code": 200, "status": "success", "data": sets})

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
