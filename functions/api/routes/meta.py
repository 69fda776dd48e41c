"""GET /health and GET /v1/openapi.json: liveness, and this API's OpenAPI document."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from api.routes import LazyResolver
from api.schemas import Health
from api.web import openapi

TITLE = "spendwatch"
VERSION = "1"

router = Router()


@router.get("/health", summary="Liveness (no authentication)", tags=["meta"])
def health() -> Health:
    """Always ok while the function runs."""
    return Health(status="ok")


@router.get(openapi.PATH, summary="This API's OpenAPI 3.1 document", tags=["meta"], responses=openapi.SELF_RESPONSES)
def openapi_document() -> Response[str]:
    """The OpenAPI document generated from the routes and their models, with the errors and security they share."""
    app = router.api_resolver
    if not isinstance(app, LazyResolver):
        raise TypeError("the meta routes are included by api.routes.LazyResolver")
    app.include_all()
    return Response(status_code=200, content_type="application/json", body=openapi.document(app, TITLE, VERSION))
