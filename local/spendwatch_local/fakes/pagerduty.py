"""A local PagerDuty Events API v2: validates each event as PagerDuty documents it, records it, keeps incidents.

``POST /v2/enqueue`` with a JSON event: ``routing_key`` (32 characters), ``event_action`` (trigger, acknowledge,
resolve), ``dedup_key`` (at most 255 characters; required unless triggering) and, to trigger, a ``payload`` with
``summary`` (at most 1024), ``source`` and ``severity`` (critical, error, warning, info). A valid event answers
202 ``{"status": "success", "message": "Event processed", "dedup_key": ...}``; an invalid one 400
``{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}``. As PagerDuty does, a
trigger with the dedup key of an open incident adds to that incident instead of opening another. Script
failures with :meth:`fail` (5xx) and :meth:`throttle` (429): scripted answers come first, whatever the event.

Point ``PAGERDUTY_EVENTS_URL`` at ``fake.events_url``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Self

from spendwatch_local.fakes._http import FakeServer, Reply, Request, json_reply

ENQUEUE_PATH = "/v2/enqueue"
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_SUMMARY = 1024
MAX_KEY = 255


@dataclass
class Incident:
    """What one dedup key opened: its status and how many triggers it absorbed."""

    dedup_key: str
    summary: str
    severity: str
    status: str = "triggered"
    triggers: int = 1
    events: list[str] = field(default_factory=list)


def event_problems(event: Any) -> list[str]:
    """Why PagerDuty would refuse ``event`` (empty when it is valid)."""
    if not isinstance(event, dict):
        return ["Event object must be a JSON object"]
    problems = []
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        problems.append("'routing_key' must be a 32 character string")
    action = event.get("event_action")
    if action not in ACTIONS:
        problems.append(f"'event_action' must be one of {', '.join(ACTIONS)}")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not dedup or len(dedup) > MAX_KEY):
        problems.append("'dedup_key' must be a string of 1 to 255 characters")
    if action in ("acknowledge", "resolve") and dedup is None:
        problems.append("'dedup_key' is required to acknowledge or resolve")
    if action == "trigger":
        problems.extend(_payload_problems(event.get("payload")))
    return problems


def _payload_problems(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is required to trigger"]
    problems = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary or len(summary) > MAX_SUMMARY:
        problems.append("'payload.summary' must be a string of 1 to 1024 characters")
    if not isinstance(payload.get("source"), str) or not payload["source"]:
        problems.append("'payload.source' is required")
    if payload.get("severity") not in SEVERITIES:
        problems.append(f"'payload.severity' must be one of {', '.join(SEVERITIES)}")
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, dict | list | str):
        problems.append("'payload.custom_details' must be an object")
    return problems


class FakePagerDuty(FakeServer):
    """The Events API v2 enqueue endpoint, with the incidents its events opened and resolved."""

    thread_name = "fake-pagerduty"
    methods = frozenset({"POST"})

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []  # every valid event, in order
        self.refused: list[Any] = []
        self.incidents: dict[str, Incident] = {}
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()

    @property
    def events_url(self) -> str:
        """The full enqueue URL (what ``PAGERDUTY_EVENTS_URL`` takes)."""
        return f"{self.url}{ENQUEUE_PATH}"

    # -- scripting ------------------------------------------------------------------------------
    def fail(self, times: int = 1, status: int = 500) -> Self:
        """Answer the next ``times`` events with a server error."""
        with self._lock:
            self._script.extend([json_reply(status, {"status": "error", "message": "Internal error"})] * times)
        return self

    def throttle(self, times: int = 1) -> Self:
        """Answer the next ``times`` events with 429 (PagerDuty sends no Retry-After)."""
        with self._lock:
            self._script.extend([json_reply(429, {"status": "throttle event", "message": "Too many requests"})] * times)
        return self

    # -- what arrived ---------------------------------------------------------------------------
    def actions(self, dedup_key: str) -> list[str]:
        """The actions received for one dedup key, in order."""
        with self._lock:
            return [e["event_action"] for e in self.events if e.get("dedup_key") == dedup_key]

    # -- the API --------------------------------------------------------------------------------
    def reply(self, request: Request) -> Reply:
        """Validate and record one event."""
        if request.path != ENQUEUE_PATH:
            return json_reply(404, {"status": "not found", "message": "Not found"})
        try:
            event: Any = json.loads(request.body)
        except ValueError:
            event = None
        with self._lock:
            if self._script:
                return self._script.popleft()
            problems = event_problems(event)
            if problems:
                self.refused.append(event)
                refusal = {"status": "invalid event", "message": "Event object is invalid", "errors": problems}
                return json_reply(400, refusal)
            self.events.append(event)
            dedup_key = event.get("dedup_key") or uuid.uuid4().hex
            self._apply(event, dedup_key)
        return json_reply(202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key})

    def _apply(self, event: dict[str, Any], dedup_key: str) -> None:
        action = event["event_action"]
        incident = self.incidents.get(dedup_key)
        if action == "trigger":
            if incident is None or incident.status == "resolved":
                summary, severity = event["payload"]["summary"], event["payload"]["severity"]
                self.incidents[dedup_key] = Incident(dedup_key, summary, severity, events=[action])
            else:
                incident.triggers += 1
                incident.events.append(action)
        elif incident is not None and incident.status != "resolved":
            incident.status = "acknowledged" if action == "acknowledge" else "resolved"
            incident.events.append(action)
