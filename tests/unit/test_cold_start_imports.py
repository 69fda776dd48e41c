"""Cold starts stay light: what importing a handler loads (fresh interpreters), and the API's lazily included routes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.routes import ROUTERS
from collect.runner import COLLECTORS

ROOT = Path(__file__).parents[2]


def _printed(code: str) -> Any:
    """What ``code`` prints last (as JSON) in a fresh interpreter with the functions and the layer on its path."""
    probe = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions')!r}, {str(ROOT / 'layers/common/python')!r}]\n"
        f"{code}\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    return set(_printed(f"{code}\nprint(json.dumps(sorted(sys.modules)))"))


def _under(modules: set[str], package: str) -> set[str]:
    return {name for name in modules if name == package or name.startswith(f"{package}.")}


def test_importing_the_api_handler_loads_no_route_forecast_numpy_or_page_renderer() -> None:
    loaded = _loaded_after("import api.handler")
    assert "api.handler" in loaded
    for heavy in ("numpy", "spendwatch.domain.forecast", "api.views", "prometheus_client", "api.routes.dashboard"):
        assert not _under(loaded, heavy), heavy
    assert not {f"api.routes.{name}" for name in ROUTERS} & loaded  # every route waits for its first request
    assert not {"api.schemas", "spendwatch.store.facade", "spendwatch.domain.config"} & loaded
    assert "aws_lambda_powertools.event_handler.middlewares.openapi_validation" not in loaded


def test_a_request_loads_the_routes_for_its_path_only() -> None:
    loaded = _loaded_after("from api.handler import app\napp.include_for('/v1/usage/forecast')")
    assert _under(loaded, "api.routes") == {"api.routes", "api.routes.capacity"}
    assert not _under(loaded, "numpy") and "api.views.dashboard" not in loaded


def test_importing_the_collect_handler_loads_no_source() -> None:
    loaded = _loaded_after("import collect.handler")
    assert not set(COLLECTORS.values()) & loaded
    assert not {"spendwatch.domain.config", "spendwatch.store.facade"} & loaded
    assert not _under(loaded, "numpy")


# Vercel's charges are FOCUS rows: its collector reads them with the FOCUS parser.
SHARED = {"vercel": {COLLECTORS["focus"]}}


@pytest.mark.parametrize("kind", sorted(COLLECTORS))
def test_a_collection_loads_its_own_source_type_only(kind: str) -> None:
    loaded = _loaded_after(f"from collect.runner import collector_for\ncollector_for({kind!r})")
    assert COLLECTORS[kind] in loaded
    others = set(COLLECTORS.values()) - {COLLECTORS[kind]} - SHARED.get(kind, set())
    assert not {module for module in loaded for other in others if module == other or module.startswith(other + ".")}


def test_the_declared_paths_are_each_router_s_rules() -> None:
    modules = {path.stem for path in (ROOT / "functions/api/routes").glob("*.py")} - {"__init__"}
    assert set(ROUTERS) == modules
    for name, rules in ROUTERS.items():
        router = __import__(f"api.routes.{name}", fromlist=["router"]).router
        assert sorted({key[0] for key in router._routes}) == sorted(rules), name


def test_routes_keep_the_declared_order_whatever_order_requests_come_in() -> None:
    # In a fresh interpreter: including a router in a resolver points the router at it.
    listing = "print(json.dumps([[(r.func.__module__, r.method, r.rule.pattern) for r in rs] for rs in routes]))"
    setup = "from api.routes import LazyResolver\napp = LazyResolver()\n"
    paths = ("/metrics", "/v1/budgets/abc", "/health", "/", "/v1/costs", "/v1/costs/summary", "/nowhere")
    one_by_one = _printed(
        setup
        + "".join(f"app.include_for({path!r})\n" for path in paths)
        + "app.include_all()\nroutes = (app._static_routes, app._dynamic_routes)\n"
        + listing
    )
    all_at_once = _printed(setup + "app.include_all()\nroutes = (app._static_routes, app._dynamic_routes)\n" + listing)
    assert one_by_one == all_at_once
    order = [f"api.routes.{name}" for name in ROUTERS]
    for routes in all_at_once:  # static routes, then dynamic ones: each list in ROUTERS order
        ranks = [order.index(module) for module, _, _ in routes]
        assert ranks == sorted(ranks)
    assert all_at_once[0][0][0] == "api.routes.projections" and all_at_once[0][-1][0] == "api.routes.meta"
