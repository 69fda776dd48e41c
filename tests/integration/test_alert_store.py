"""Alert items: written once per id, read back exactly, updated in place (status, delivery per channel)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from spendwatch.domain.alerts import Alert, Delivery, Driver, alert_id

from tests.integration.conftest import store

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _alert(level: str = "80%") -> Alert:
    scope = {"provider": "AWS"}
    return Alert(
        id=alert_id("budget:aws", scope, "2026-11", level),
        kind="budget",
        severity="warning",
        rule="budget:aws",
        scope=scope,
        period="2026-11",
        level=level,
        title="AWS budget at 80%",
        message="AWS spend 400.10 of 500.00 USD",
        currency="USD",
        actual=Decimal("400.1000000001"),
        threshold=Decimal("400.00"),
        drivers=[
            Driver(
                dimension="service", key="EC2", expected=Decimal("1.5"), actual=Decimal("9.25"), share=Decimal("0.8")
            )
        ],
        data_through=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def test_an_alert_is_written_once_and_read_back_exactly(aws_env: dict[str, Any]) -> None:
    table = store()
    alert = _alert()

    assert table.put_alert_once(alert) is True
    assert table.put_alert_once(alert.model_copy(update={"title": "changed"})) is False

    assert table.get_alert(alert.id) == alert
    assert [a.id for a in table.alerts()] == [alert.id]
    assert table.get_alert("nope") is None


def test_status_and_delivery_update_in_place(aws_env: dict[str, Any]) -> None:
    table = store()
    alert = _alert()
    table.put_alert_once(alert)

    delivered = Delivery(status="delivered", attempts=2, delivered_at=NOW)
    table.update_alert(alert.id, {"status": "acknowledged", "delivery.slack": delivered.model_dump(mode="json")})

    stored = table.get_alert(alert.id)
    assert stored is not None
    assert stored.status == "acknowledged"
    assert stored.delivery == {"slack": delivered}
    assert stored.actual == Decimal("400.1000000001")
