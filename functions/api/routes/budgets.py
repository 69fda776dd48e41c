"""Budgets: GET|POST /v1/budgets, GET|PUT|DELETE /v1/budgets/{id}; spreadsheet defaults come from the config."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from spendwatch.domain import budgets as budget_rules
from spendwatch.domain.audit import AuditAction, AuditEntry, audit_entry
from spendwatch.domain.budgets import StoredBudget, config_budget_id
from spendwatch.domain.config import Budget
from spendwatch.domain.money import format_money
from spendwatch.platform.clock import utc_now

from api import deps
from api.schemas import BudgetOut, BudgetPage
from api.views import overview
from api.web import openapi, paging
from api.web.actor import actor_of
from api.web.errors import ApiError

router = Router()
BudgetId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,64}$")]


def all_budgets() -> list[StoredBudget]:
    """Budgets from spendwatch.toml and from the API."""
    return budget_rules.all_budgets(deps.config(), deps.store())


def _find(budget_id: str) -> StoredBudget:
    for stored in all_budgets():
        if stored.id == budget_id:
            return stored
    raise ApiError(404, "not_found", f"no budget {budget_id}")


def _out(stored: StoredBudget, with_status: bool = True) -> BudgetOut:
    budget = stored.budget
    return BudgetOut(
        id=stored.id,
        origin=stored.origin,
        name=budget.name,
        amount=format_money(budget.amount),
        currency=budget.currency or deps.config().currency,
        period=budget.period,
        scope=budget.scope,
        thresholds=budget.thresholds,
        created_at=stored.created_at,
        updated_at=stored.updated_at,
        status=overview.budget_status(stored) if with_status else None,
    )


def _shown(stored: StoredBudget | None) -> dict[str, Any] | None:
    """A budget as the API shows it, for the audit log: without its period's spend (not part of the change)."""
    return None if stored is None else _out(stored, with_status=False).model_dump(mode="json", exclude={"status"})


def _entry(
    action: AuditAction, budget_id: str, before: StoredBudget | None, after: StoredBudget | None, at: datetime
) -> AuditEntry:
    """The audit entry of a change made by this request's caller."""
    actor = actor_of(router.current_event.raw_event)
    return audit_entry(action, ("budget", budget_id), actor, at, _shown(before), _shown(after))


def _check_name(name: str, except_id: str | None = None) -> None:
    if any(s.budget.name == name and s.id != except_id for s in all_budgets()):
        raise ApiError(409, "conflict", f"a budget named {name!r} exists already")


@router.get("/v1/budgets", summary="Budgets with their current period's spend", tags=["budgets"])
def list_budgets(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next_token: Annotated[str | None, Query(max_length=64)] = None,
) -> BudgetPage:
    """Every budget: those in spendwatch.toml (read-only here) first, then those created over the API by name."""
    stored = all_budgets()
    ordered = [s for s in stored if s.origin == "config"] + sorted(
        (s for s in stored if s.origin != "config"), key=lambda s: (s.budget.name, s.id)
    )
    chosen, token = paging.page("budgets", ordered, limit, next_token)
    return BudgetPage(items=[_out(s) for s in chosen], next_token=token)


@router.post(
    "/v1/budgets",
    summary="Create a budget",
    tags=["budgets"],
    responses={
        201: {"description": "The budget as stored", "content": {"application/json": {"model": BudgetOut}}},
        409: openapi.error("A budget has this name already (code conflict)"),
    },
)
def create_budget(budget: Budget) -> Response[str]:
    """Create a budget; 409 if the name is taken."""
    _check_name(budget.name)
    now = utc_now()
    stored = StoredBudget(uuid.uuid4().hex, budget, "api", now, now)
    if not deps.store().create_budget(stored, _entry("budget.create", stored.id, None, stored, now)):
        raise ApiError(409, "conflict", "a budget with this id exists already; send the request again")
    return Response(status_code=201, content_type="application/json", body=_out(stored).model_dump_json())


@router.get("/v1/budgets/<budget_id>", summary="One budget", tags=["budgets"])
def get_budget(budget_id: BudgetId) -> BudgetOut:
    """A budget with its current period's spend."""
    return _out(_find(budget_id))


def _editable(budget_id: str) -> StoredBudget:
    """An API budget read consistently (its change is written only while it is still as read)."""
    if budget_id in {config_budget_id(b.name) for b in deps.config().budgets}:
        raise ApiError(409, "conflict", "this budget is defined in spendwatch.toml; change it there")
    stored = deps.store().get_budget(budget_id)
    if stored is None:
        raise ApiError(404, "not_found", f"no budget {budget_id}")
    return stored


def _lost(budget_id: str) -> ApiError:
    """Why a conditional change of a budget wrote nothing: it is gone, or it changed since it was read."""
    if deps.store().get_budget(budget_id) is None:
        return ApiError(404, "not_found", f"no budget {budget_id}")
    return ApiError(409, "conflict", "the budget changed while this request acted on it; read it again")


@router.put(
    "/v1/budgets/<budget_id>",
    summary="Replace a budget",
    tags=["budgets"],
    responses={
        200: {"description": "The budget after the change"},
        409: openapi.error(
            "The budget is defined in spendwatch.toml, its new name is taken, or it changed while the request acted "
            "on it (code conflict)"
        ),
    },
)
def replace_budget(budget_id: BudgetId, budget: Budget) -> BudgetOut:
    """Replace every field of an API budget."""
    stored = _editable(budget_id)
    _check_name(budget.name, except_id=budget_id)
    now = utc_now()
    updated = StoredBudget(budget_id, budget, "api", stored.created_at, now)
    entry = _entry("budget.update", budget_id, stored, updated, now)
    if not deps.store().replace_budget(updated, stored.updated_at, entry):
        raise _lost(budget_id)
    return _out(updated)


@router.delete(
    "/v1/budgets/<budget_id>",
    summary="Delete a budget",
    tags=["budgets"],
    responses={
        204: {"description": "Deleted", "content": {}},
        409: openapi.error(
            "The budget is defined in spendwatch.toml, or it changed while the request acted on it (code conflict)"
        ),
    },
)
def delete_budget(budget_id: BudgetId) -> Response[str]:
    """Delete an API budget; its alerts stay as history."""
    stored = _editable(budget_id)
    entry = _entry("budget.delete", budget_id, stored, None, utc_now())
    if not deps.store().delete_budget(budget_id, stored.updated_at, entry):
        raise _lost(budget_id)
    return Response(status_code=204, content_type="application/json", body="")
