"""Alerts: GET /v1/alerts, POST /v1/alerts/{id}/ack, /snooze and /resolve, POST /v1/alerts/test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator
from spendwatch.domain.alerts import Alert, AlertKind, AlertStatus, effective_alert
from spendwatch.domain.audit import AuditAction, audit_entry
from spendwatch.platform.clock import utc_now

from api import deps
from api.schemas import AlertPage, AlertTestResult, ChannelTest
from api.web import openapi, paging
from api.web.actor import actor_of
from api.web.errors import ApiError

router = Router()
AlertId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
MAX_SNOOZE = timedelta(days=90)
RESOLVED = openapi.error(
    "The alert is resolved already, or its status changed while the request acted on it (code conflict)"
)


class SnoozeRequest(BaseModel):
    """How long to snooze: ``hours`` from now, or ``until`` a moment."""

    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,
        json_schema_extra={"oneOf": [{"required": ["hours"]}, {"required": ["until"]}]},
    )

    hours: Annotated[float | None, Field(gt=0, le=MAX_SNOOZE.total_seconds() / 3600)] = None
    until: datetime | None = None

    @model_validator(mode="after")
    def _one(self) -> SnoozeRequest:
        if (self.hours is None) == (self.until is None):
            raise ValueError("give exactly one of hours or until")
        return self


@router.get("/v1/alerts", summary="Alerts, newest first", tags=["alerts"])
def list_alerts(
    status: Annotated[AlertStatus | None, Query()] = None,
    kind: Annotated[AlertKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next_token: Annotated[str | None, Query(max_length=64)] = None,
) -> AlertPage:
    """Alerts filtered by status and kind."""
    now = utc_now()
    alerts = [effective_alert(a, now) for a in deps.store().alerts()]
    chosen = [a for a in alerts if (status is None or a.status == status) and (kind is None or a.kind == kind)]
    chosen.sort(key=lambda a: (a.created_at, a.id), reverse=True)
    items, token = paging.page("alerts", chosen, limit, next_token)
    return AlertPage(items=items, next_token=token)


ACTIONS: dict[str, AuditAction] = {"acknowledged": "alert.ack", "snoozed": "alert.snooze", "resolved": "alert.resolve"}


def _change(
    alert_id: str, status: Literal["acknowledged", "snoozed", "resolved"], until: datetime | None = None
) -> Alert:
    """Change an alert's status with its audit entry, while the alert still has the status it was read with."""
    store = deps.store()
    alert = store.get_alert(alert_id)
    if alert is None:
        raise ApiError(404, "not_found", f"no alert {alert_id}")
    if alert.status == "resolved" and status != "resolved":
        raise ApiError(409, "conflict", "the alert is resolved")
    now = utc_now()
    changes = {"status": status, "updated_at": now.isoformat(), "snoozed_until": until.isoformat() if until else None}
    after = alert.model_copy(update={"status": status, "updated_at": now, "snoozed_until": until})
    before = effective_alert(alert, now).model_dump(mode="json")
    actor = actor_of(router.current_event.raw_event)
    entry = audit_entry(ACTIONS[status], ("alert", alert_id), actor, now, before, after.model_dump(mode="json"))
    if not store.change_alert(alert_id, changes, alert.status, entry):
        if store.get_alert(alert_id) is None:
            raise ApiError(404, "not_found", f"no alert {alert_id}")
        raise ApiError(409, "conflict", "the alert changed while this request acted on it; read it again")
    return after


@router.post(
    "/v1/alerts/<alert_id>/ack",
    summary="Acknowledge an alert",
    tags=["alerts"],
    responses={200: {"description": "The alert after the change"}, 409: RESOLVED},
)
def acknowledge(alert_id: AlertId) -> Alert:
    """Someone is on it."""
    return _change(alert_id, "acknowledged")


@router.post(
    "/v1/alerts/<alert_id>/resolve",
    summary="Resolve an alert",
    tags=["alerts"],
    responses={
        200: {"description": "The alert after the change"},
        409: openapi.error("Its status changed while the request acted on it (code conflict)"),
    },
)
def resolve(alert_id: AlertId) -> Alert:
    """It is dealt with."""
    return _change(alert_id, "resolved")


@router.post(
    "/v1/alerts/<alert_id>/snooze",
    summary="Snooze an alert",
    tags=["alerts"],
    responses={200: {"description": "The alert after the change"}, 409: RESOLVED},
)
def snooze(alert_id: AlertId, request: SnoozeRequest) -> Alert:
    """Quiet until a moment (at most 90 days ahead)."""
    now = utc_now()
    until = request.until or now + timedelta(hours=request.hours or 0)
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    if not now < until <= now + MAX_SNOOZE:
        raise ApiError(422, "invalid_body", "until must be in the future and at most 90 days ahead")
    return _change(alert_id, "snoozed", until)


@router.post("/v1/alerts/test", summary="Send a test alert to every channel", tags=["alerts"])
def send_test_alert() -> AlertTestResult:
    """A clearly marked test alert ("[TEST]" title, kind test) sent straight to every channel, never stored.

    Answers per channel whether it was delivered: SNS, Slack (or the console), and each ``[[channels]]`` entry (an
    e-mail channel is delivered when the topic took the alert and the address confirmed its subscription).
    """
    from spendwatch.channels.configured import trial_channels
    from spendwatch.channels.trial import run_trial, trial_alert

    outcomes = run_trial(trial_channels(deps.config(), deps.settings()), trial_alert(utc_now()))
    return AlertTestResult(
        channels=[ChannelTest(channel=o.channel, delivered=o.delivered, error=o.error) for o in outcomes]
    )
