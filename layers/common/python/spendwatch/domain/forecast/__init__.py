"""Cost forecasting: month-end projections, 30/60/90-day forecasts with intervals, budget helpers, own accuracy."""

from spendwatch.domain.forecast.backtest import Accuracy
from spendwatch.domain.forecast.methods import DEFAULT_METHOD, METHODS, EtsParams
from spendwatch.domain.forecast.projection import (
    DEFAULT_LEVEL,
    Crossing,
    Forecast,
    ForecastPoint,
    Interval,
    Projection,
    crossing_date,
    forecast,
    projected_period_spend,
)
from spendwatch.domain.forecast.series import ForecastError

__all__ = [
    "DEFAULT_LEVEL",
    "DEFAULT_METHOD",
    "METHODS",
    "Accuracy",
    "Crossing",
    "EtsParams",
    "Forecast",
    "ForecastError",
    "ForecastPoint",
    "Interval",
    "Projection",
    "crossing_date",
    "forecast",
    "projected_period_spend",
]
