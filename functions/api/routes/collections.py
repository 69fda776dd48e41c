"""GET /v1/collections: collection runs, newest first."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from spendwatch.store import InvalidTokenError

from api import deps
from api.schemas import CollectionRunOut, CollectionsResponse
from api.web.errors import ApiError

router = Router()


@router.get("/v1/collections", summary="Collection runs, newest first", tags=["collections"])
def list_collections(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> CollectionsResponse:
    """Every recorded collection run with its status, counts and data freshness."""
    try:
        runs, token = deps.store().list_runs(limit, next_token)
    except InvalidTokenError as exc:
        raise ApiError(400, "invalid_parameter", str(exc)) from exc
    items = [CollectionRunOut.model_validate(run.model_dump()) for run in runs]
    return CollectionsResponse(items=items, next_token=token)
