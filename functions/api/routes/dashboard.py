"""GET /: the dashboard page, server-rendered HTML."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from api import deps
from api.views import dashboard
from api.web import signin

router = Router()


@router.get(
    "/",
    summary="Dashboard page: cost trend with forecast band, breakdowns, budgets, open alerts, recommendations, "
    "data freshness",
    tags=["dashboard"],
    responses={
        200: {
            "description": "The page: HTML with inline CSS and SVG; no script, nothing else to fetch",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    },
)
def get_dashboard(
    token: Annotated[
        str | None,
        Query(description="Locally, the bearer token, so a browser can open the page from a link", max_length=512),
    ] = None,
) -> Response[str]:
    """The dashboard as one HTML document (``token`` is checked with every request's authentication)."""
    person = _signed_in()
    page = dashboard.render(dashboard.build(), person)
    return Response(status_code=200, content_type=dashboard.CONTENT_TYPE, body=page, headers=dashboard.headers(person))


def _signed_in() -> dashboard.SignedIn | None:
    """The person the session check let in (deployed with ``dashboard = "cognito"``), else None."""
    people = signin.from_settings(deps.settings())
    if people is None:
        return None
    context = router.current_event.raw_event.get("requestContext") or {}
    email = str((context.get("authorizer") or {}).get("email") or "")
    return dashboard.SignedIn(email=email, signout_url=people.signout_url, login_url=people.login_url)
