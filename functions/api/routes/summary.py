"""GET /v1/costs/summary: month to date against last month, the projected month end and each budget's standing."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router
from spendwatch.domain.money import format_money

from api.schemas import BudgetSummary, RecommendationsSummary, SummaryResponse, money_interval
from api.views import overview

router = Router()


@router.get(
    "/v1/costs/summary",
    summary="Month to date, last month, projected month end, budgets, open recommendations",
    tags=["costs"],
)
def get_summary() -> SummaryResponse:
    """The numbers a dashboard opens with."""
    summary = overview.month_summary()
    totals = overview.recommendation_totals(overview.open_recommendations(), summary.currency)
    return SummaryResponse(
        currency=summary.currency,
        month=summary.month,
        month_to_date=format_money(summary.month_to_date),
        same_period_last_month=format_money(summary.same_period_last_month),
        change_pct=None if summary.change_pct is None else str(summary.change_pct),
        projected_month_end=money_interval(summary.projected),
        accuracy=summary.accuracy,
        budgets=[
            BudgetSummary(
                id=stored.id, name=stored.budget.name, amount=format_money(stored.budget.amount), status=status
            )
            for stored, status in overview.budgets()
        ],
        recommendations=RecommendationsSummary(
            open=totals.open,
            monthly_savings=format_money(totals.monthly_savings),
            currency=totals.currency,
            other_currencies=totals.other_currencies,
        ),
    )
