"""The running API against its own OpenAPI document: generated requests, valid and not, never get a 5xx or an
answer the document does not describe (status, content type, body)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.schemas import APIOperation, BaseSchema
from spendwatch import clock

from tests.e2e.local_process import TOKEN, Runtime, local_demo

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Per operation and mode: every operation reaches its main statuses, and the whole run stays near 90 s.
EXAMPLES = 10
# Seconds per request on moto: pages that forecast every scope, and exports that read a table query per day.
FEWER_EXAMPLES = {
    "GET /": 1,
    "GET /metrics": 1,
    "GET /v1/costs/summary": 1,
    "GET /v1/projections": 4,
    "GET /v1/export": 3,
}
# An export reads the table day by day: its runs ask for the last week, not for up to three years.
NARROWED = {"GET /v1/export": 7}
# Random ids find nothing; these runs change real budgets and alerts of the demo.
KNOWN_ID_EXAMPLES = 5
REQUEST_TIMEOUT = 60
ALERT_WAIT = 60
# Reproducible in CI, and no shrinking: the first failing request of each operation is reported as generated.
RUN_SETTINGS: dict[str, Any] = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "phases": [Phase.explicit, Phase.generate],
    "suppress_health_check": list(HealthCheck),
}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """`spendwatch local --demo`, private to this module: the generated requests change its budgets and alerts."""
    with local_demo(tmp_path_factory.mktemp("api-schema")) as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(runtime: Runtime) -> BaseSchema:
    """The document the running API serves about itself."""
    return schemathesis.openapi.from_url(f"{runtime.base_url}/v1/openapi.json", headers=AUTH, timeout=REQUEST_TIMEOUT)


def _new_budget(runtime: Runtime) -> str:
    status, body = runtime.post("/v1/budgets", {"name": f"schema-{uuid.uuid4().hex[:8]}", "amount": "100.00"})
    assert status == 201, body
    return str(body["id"])


def _an_alert(runtime: Runtime) -> str:
    """An alert of the demo (its spike), once the evaluation that follows start-up has written one."""
    deadline = time.monotonic() + ALERT_WAIT
    while time.monotonic() < deadline:
        status, body = runtime.get("/v1/alerts?limit=1")
        assert status == 200, body
        if body["items"]:
            return str(body["items"][0]["id"])
        time.sleep(1)
    pytest.fail(f"the demo raised no alert within {ALERT_WAIT} s")


def _runs(operation: APIOperation, runtime: Runtime) -> list[tuple[str, SearchStrategy[Case], int]]:
    """What to generate for an operation: valid and invalid requests, then valid ones on a real id if it takes one."""
    examples = FEWER_EXAMPLES.get(operation.label, EXAMPLES)
    query = None
    if operation.label in NARROWED:
        today = clock.utc_now().date()
        query = {"start": str(today - timedelta(days=NARROWED[operation.label] - 1)), "end": str(today)}
    runs = [
        (mode.value, operation.as_strategy(generation_mode=mode, query=query), examples)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    names = {parameter.name for parameter in operation.path_parameters}
    known = {}
    if "budget_id" in names:
        known["budget_id"] = _new_budget(runtime)
    if "alert_id" in names:
        known["alert_id"] = _an_alert(runtime)
    if known:
        label = "positive, " + ", ".join(f"{name}={value}" for name, value in known.items())
        runs.append((label, operation.as_strategy(path_parameters=known), KNOWN_ID_EXAMPLES))
    return runs


def _order(operation: APIOperation) -> tuple[int, str]:
    """Light reads while start-up's alert evaluation still runs, the heavy pages once it is done, and then the
    writes: every budget they create adds to the heavy pages' work."""
    if operation.method.upper() != "GET":
        return 2, operation.label
    return int(operation.label in FEWER_EXAMPLES), operation.label


def _first_failure(strategy: SearchStrategy[Case], examples: int, statuses: Counter[int]) -> str | None:
    """Send the generated requests; the first failure's report, or None when every response conformed."""

    @settings(max_examples=examples, **RUN_SETTINGS)
    @given(case=strategy)
    def exercise(case: Case) -> None:
        response = case.call_and_validate(headers=AUTH, checks=CHECKS, timeout=REQUEST_TIMEOUT)
        statuses[response.status_code] += 1

    try:
        exercise()
    except (Failure, FailureGroup) as exc:
        return str(exc)
    except Unsatisfiable:
        # An operation without parameters or body has no invalid request to make.
        assert not statuses
    return None


def test_every_operation_conforms_to_the_document(api_schema: BaseSchema, runtime: Runtime) -> None:
    operations = sorted((result.ok() for result in api_schema.get_all_operations()), key=_order)
    assert len(operations) >= 16, [op.label for op in operations]
    failures, seen = [], []
    for operation in operations:
        for name, strategy, examples in _runs(operation, runtime):
            started, statuses = time.monotonic(), Counter[int]()
            failure = _first_failure(strategy, examples, statuses)
            answered = ", ".join(f"{count}x {status}" for status, count in sorted(statuses.items()))
            seen.append(f"{time.monotonic() - started:5.1f} s {operation.label} ({name}): {answered}")
            if failure:
                failures.append(f"{operation.label} ({name}): {failure}")
    print("\n".join(seen))
    assert not failures, "\n\n".join(failures)
