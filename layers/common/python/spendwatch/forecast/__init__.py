"""Cost forecasting: month-end projections, 30/60/90-day forecasts with intervals, budget helpers, own accuracy."""

from spendwatch.forecast.backtest import Accuracy
from spendwatch.forecast.methods import DEFAULT_METHOD, METHODS, EtsParams
from spendwatch.forecast.projection import (
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
from spendwatch.forecast.series import ForecastError

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
