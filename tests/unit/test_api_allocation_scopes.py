"""The scope arithmetic allocations rely on, and the level series a usage forecast is fitted on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from api.views.allocation import disjoint, narrow
from api.views.capacity import carried_forward


@pytest.mark.parametrize(
    ("scope", "where", "expected"),
    [
        ({}, {}, {}),
        ({"provider": "AWS"}, {"service": "S3"}, {"provider": "AWS", "service": "S3"}),
        ({"provider": "AWS"}, {"provider": "AWS"}, {"provider": "AWS"}),
        ({"provider": "AWS"}, {"provider": "GCP"}, None),
        ({"tag": {"team": "a"}}, {"tag": {"env": "prod"}}, {"tag": {"team": "a", "env": "prod"}}),
        ({"tag": {"team": "a"}}, {"tag": {"team": "b"}}, None),
    ],
)
def test_narrow_is_the_intersection_of_two_scopes(
    scope: dict[str, Any], where: dict[str, Any], expected: dict[str, Any] | None
) -> None:
    assert narrow(scope, where) == expected
    assert disjoint(scope, where) is (expected is None)
    assert disjoint(where, scope) is (expected is None)


def test_a_level_series_keeps_its_last_reading_over_gaps() -> None:
    days = [(date(2026, 6, 1), Decimal(3)), (date(2026, 6, 4), Decimal(5))]
    assert carried_forward(days, date(2026, 6, 6)) == [
        (date(2026, 6, 1), Decimal(3)),
        (date(2026, 6, 2), Decimal(3)),
        (date(2026, 6, 3), Decimal(3)),
        (date(2026, 6, 4), Decimal(5)),
        (date(2026, 6, 5), Decimal(5)),
        (date(2026, 6, 6), Decimal(5)),
    ]
