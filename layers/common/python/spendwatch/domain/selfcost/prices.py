"""AWS list prices, read from ``aws_list_prices.json`` beside this module: every price, its unit, date and page."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

PRICES_FILE = "aws_list_prices.json"


class ListPrice(BaseModel):
    """One price: ``price`` dollars per ``per`` units of ``unit``, and the monthly free tier in the same unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str = Field(min_length=1)
    price: Decimal = Field(ge=0)
    per: Decimal = Field(default=Decimal(1), gt=0)
    unit: str = Field(min_length=1)
    free_per_month: Decimal | None = Field(default=None, ge=0)
    source: str = Field(pattern=r"^https://")

    @property
    def unit_price(self) -> Decimal:
        """Dollars per single unit."""
        return self.price / self.per

    def describe(self) -> str:
        """``$0.20 per 1,000,000 requests`` (per unit when ``per`` is 1: ``$0.25 per GB-months ...``)."""
        per = "" if self.per == 1 else f"{self.per:,f} "
        return f"${self.price:f} per {per}{self.unit}"


class PriceList(BaseModel):
    """Every price the estimate uses, recorded on one date for one region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    region: str
    recorded: date
    note: str = ""
    prices: dict[str, ListPrice]

    def __getitem__(self, key: str) -> ListPrice:
        try:
            return self.prices[key]
        except KeyError:
            raise KeyError(f"no list price {key!r} in {PRICES_FILE}") from None


@lru_cache(maxsize=1)
def load_prices() -> PriceList:
    """The list prices shipped with the package."""
    text = resources.files(__package__ or "spendwatch.domain.selfcost").joinpath(PRICES_FILE).read_text("utf-8")
    return PriceList.model_validate(json.loads(text))
