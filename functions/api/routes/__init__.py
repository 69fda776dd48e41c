"""One module per resource: each declares its paths on a ``Router`` that ``api.handler`` includes.

A module is imported, and its router included, when a request first asks for one of its paths (or when the OpenAPI
document is asked for): a cold start pays for the route it serves, not for every route's models and dependencies
(the page's renderer, the forecasts, the export, /metrics). ``ROUTERS`` names each module's paths, in the order the
document lists them; a unit test checks them against the routers.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from importlib import import_module
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

ROUTERS: dict[str, tuple[str, ...]] = {
    "projections": ("/v1/projections",),
    "summary": ("/v1/costs/summary",),  # before costs: the document lists the paths in this order
    "costs": ("/v1/costs",),
    "unit_costs": ("/v1/unit-costs",),
    "dashboard": ("/",),
    "collections": ("/v1/collections",),
    "usage": ("/v1/usage",),
    "capacity": ("/v1/capacity", "/v1/usage/forecast"),
    "budgets": ("/v1/budgets", "/v1/budgets/<budget_id>"),
    "alerts": (
        "/v1/alerts",
        "/v1/alerts/test",
        "/v1/alerts/<alert_id>/ack",
        "/v1/alerts/<alert_id>/resolve",
        "/v1/alerts/<alert_id>/snooze",
    ),
    "recommendations": (
        "/v1/recommendations",
        "/v1/recommendations/<rec_id>/accept",
        "/v1/recommendations/<rec_id>/dismiss",
        "/v1/recommendations/<rec_id>/implement",
    ),
    "audit": ("/v1/audit",),
    "reports": ("/v1/reports", "/v1/reports/<report_id>"),
    "export": ("/v1/export",),
    "metrics": ("/metrics",),
    "meta": ("/health", "/v1/openapi.json"),
}


class LazyResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, validating requests and responses, that imports a module of ``routers`` and
    includes its router when a request first asks for one of its paths (or the document for all of them), keeping
    the routes in ``routers`` order: the order they would have if all were included at start, which decides the
    route that answers and the document's order. Its validation middlewares (~80 ms of imports) are made when the
    first request is routed, as ``enable_validation=True`` would make them at start."""

    def __init__(self, routers: dict[str, tuple[str, ...]] = ROUTERS) -> None:
        super().__init__()
        self._enable_validation = True
        self._modules = [f"{__name__}.{name}" for name in routers]
        # The rules compiled as powertools compiles them: a path loads exactly the modules that could answer it.
        self._rules = {
            f"{__name__}.{name}": [self._compile_regex(rule) for rule in rules] for name, rules in routers.items()
        }
        self._included: set[str] = set()
        self._lock = threading.RLock()

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """Route ``event`` once the routers that may answer its path are included."""
        if not hasattr(self, "_request_validation_middleware"):
            from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
                OpenAPIRequestValidationMiddleware,
                OpenAPIResponseValidationMiddleware,
            )

            self._request_validation_middleware = OpenAPIRequestValidationMiddleware()
            self._response_validation_middleware = OpenAPIResponseValidationMiddleware(
                validation_serializer=None, has_response_validation_error=self._has_response_validation_error
            )
        self.include_for(str(event.get("path") or "/"))
        return super().resolve(event, context)

    def include_for(self, path: str) -> None:
        """Include every router with a rule matching ``path`` (any method: a 405 names them all)."""
        self._include([module for module in self._modules if any(rule.match(path) for rule in self._rules[module])])

    def include_all(self) -> None:
        """Include every router (the OpenAPI document describes them all)."""
        self._include(self._modules)

    def _include(self, modules: list[str]) -> None:
        if all(module in self._included for module in modules):
            return
        with self._lock:
            for module in modules:
                if module not in self._included:
                    self.include_router(import_module(module).router)
                    self._included.add(module)
            rank = {module: position for position, module in enumerate(self._modules)}
            for routes in (self._static_routes, self._dynamic_routes):
                routes.sort(key=lambda route: rank.get(route.func.__module__, len(rank)))
