"""Recommendations: GET /v1/recommendations, POST /v1/recommendations/{id}/accept, /dismiss and /implement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from spendwatch.domain.audit import AuditAction, audit_entry
from spendwatch.domain.recommendations.lifecycle import Action, TransitionError, transition
from spendwatch.domain.recommendations.model import Kind, Status, by_savings
from spendwatch.platform.clock import utc_now

from api import deps
from api.schemas import RecommendationOut, RecommendationPage
from api.web import openapi, paging
from api.web.actor import actor_of
from api.web.errors import ApiError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

router = Router()
RecommendationId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The recommendation's id")]
ACTED: dict[int, OpenAPIResponse] = {
    200: {"description": "The recommendation after the action (unchanged when it already had that status)"},
    409: openapi.error(
        "Its status does not allow the action, or it changed (e.g. re-evaluated) while the request acted on it "
        "(code conflict)"
    ),
}
ACTIONS: dict[Action, AuditAction] = {
    "accept": "recommendation.accept",
    "dismiss": "recommendation.dismiss",
    "implement": "recommendation.implement",
}


def recommendation_out(item: dict[str, Any]) -> RecommendationOut:
    """A ``Recommendation.item()`` as the response model."""
    return RecommendationOut.model_validate(item)


@router.get(
    "/v1/recommendations",
    summary="Recommendations with money attached, biggest monthly savings first",
    tags=["recommendations"],
    description="Every recommendation (at most one per kind and resource, whatever its status), filtered by status "
    "and kind (without status: every status), ordered by monthly_savings, biggest first (amounts compared as numbers "
    "whatever their currency), then by id. monthly_savings is a decimal string from the provider's own prices.",
)
def list_recommendations(
    status: Annotated[Status | None, Query(description="Only this status; default every status")] = None,
    kind: Annotated[Kind | None, Query(description="Only this kind")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page")] = 50,
    next_token: Annotated[str | None, Query(max_length=64)] = None,
) -> RecommendationPage:
    """Recommendations filtered by status and kind, biggest monthly savings first, then by id."""
    chosen = by_savings(deps.store().recommendations(), status=status, kind=kind)
    items, token = paging.page("recommendations", chosen, limit, next_token)
    return RecommendationPage(items=[recommendation_out(rec.item()) for rec in items], next_token=token)


def _act(rec_id: str, action: Action) -> RecommendationOut:
    """Apply ``action``, with its audit entry, writing only if nobody changed the recommendation since it was read."""
    store = deps.store()
    rec = store.get_recommendation(rec_id)
    if rec is None:
        raise ApiError(404, "not_found", f"no recommendation {rec_id}")
    now = utc_now()
    try:
        changed = transition(rec, action, now)
    except TransitionError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    if changed == rec:  # it had that status already: nothing changes, nothing is recorded
        return recommendation_out(rec.item())
    actor = actor_of(router.current_event.raw_event)
    entry = audit_entry(ACTIONS[action], ("recommendation", rec_id), actor, now, rec.item(), changed.item())
    if not store.act_on_recommendation(changed, rec.updated_at, entry):
        raise ApiError(409, "conflict", "the recommendation changed while this request acted on it; read it again")
    return recommendation_out(changed.item())


@router.post(
    "/v1/recommendations/<rec_id>/accept",
    summary="Accept a recommendation (someone will act on it)",
    tags=["recommendations"],
    responses=ACTED,
)
def accept(rec_id: RecommendationId) -> RecommendationOut:
    """From open or dismissed; accepted ones become implemented when the resource is resized or gone."""
    return _act(rec_id, "accept")


@router.post(
    "/v1/recommendations/<rec_id>/dismiss",
    summary="Dismiss a recommendation (it stays dismissed when the same finding is seen again)",
    tags=["recommendations"],
    responses=ACTED,
)
def dismiss(rec_id: RecommendationId) -> RecommendationOut:
    """From open or accepted."""
    return _act(rec_id, "dismiss")


@router.post(
    "/v1/recommendations/<rec_id>/implement",
    summary="Mark a recommendation implemented",
    tags=["recommendations"],
    responses=ACTED,
)
def implement(rec_id: RecommendationId) -> RecommendationOut:
    """From open or accepted."""
    return _act(rec_id, "implement")
