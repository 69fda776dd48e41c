"""The audit log through the real API handler on moto, at a pinned instant: one entry per change route with its
actor, target, before and after; no entry (and no change) when a change fails; GET /v1/audit newest first, paged;
400 days of retention; the actor of a deployed request (IAM caller ARN, API key id); the page's recent changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from spendwatch.domain.alerts import Alert, alert_id
from spendwatch.domain.audit import ID_PATTERN, AuditEntry, audit_entry
from spendwatch.domain.budgets import StoredBudget
from spendwatch.domain.config import Budget
from spendwatch.domain.recommendations.model import Recommendation, ResourceRef, recommendation_id
from spendwatch.platform import clock, resources
from spendwatch.store.alerts import AlertStore
from spendwatch.store.audit import AUDIT_RETENTION
from spendwatch.store.budgets import BudgetStore
from spendwatch.store.keys import AUDIT_PK, TTL
from spendwatch.store.recommendations import RecommendationStore

from tests.integration.conftest import LambdaContext, api_event, call_api, store, write_config

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
CONFIG = """
currency = "USD"
timezone = "UTC"
[[budgets]]
name = "from-config"
amount = "100.00"
period = "month"
thresholds = ["80%"]
"""
BUDGET = {"name": "aws", "amount": "200.5", "period": "month", "scope": {"provider": "AWS"}, "thresholds": ["80%"]}
UNKNOWN = "0" * 32


def _alert(level: str, status: str = "open") -> Alert:
    scope = {"provider": "AWS"}
    return Alert(
        id=alert_id("budget:aws", scope, "2026-06", level),
        kind="budget",
        severity="warning",
        status=status,  # type: ignore[arg-type]
        rule="budget:aws",
        scope=scope,
        period="2026-06",
        level=level,
        title=f"AWS budget at {level}",
        message="AWS spend 160.40 of 200.00 USD",
        currency="USD",
        actual=Decimal("160.4000000001"),
        threshold=Decimal("160.00"),
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
    )


def _rec(rid: str, status: str = "open") -> Recommendation:
    resource = ResourceRef(provider="DigitalOcean", type="droplet", id=rid, name=f"web-{rid}", region="fra1")
    return Recommendation(
        id=recommendation_id("idle", resource.provider, rid),
        kind="idle",
        resource=resource,
        title=f"Idle droplet web-{rid}",
        detail="CPU under 2 % for 14 days",
        monthly_savings=Decimal("48"),
        currency="USD",
        confidence="high",
        evidence={"price_monthly": "48.00"},
        status=status,  # type: ignore[arg-type]
        created_at=NOW - timedelta(days=3),
        updated_at=NOW - timedelta(hours=6),
    )


OPEN, RESOLVED = _alert("80%"), _alert("100%", status="resolved")
IDLE, DISMISSED = _rec("101"), _rec("102", status="dismissed")


@pytest.fixture
def api(aws_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The clock at NOW (advancing from it), a config budget, two alerts and two recommendations in the table."""
    aws_env["monkeypatch"].setenv(clock.NOW_ENV, NOW.isoformat())
    clock.reset()
    write_config(aws_env, CONFIG)
    table = store()
    assert table.put_alert_once(OPEN) and table.put_alert_once(RESOLVED)
    table.put_recommendations([IDLE, DISMISSED])
    yield aws_env
    aws_env["monkeypatch"].delenv(clock.NOW_ENV)
    clock.reset()


def _audit(**query: str) -> dict[str, Any]:
    status, body = call_api("/v1/audit", query or None)
    assert status == 200, body
    return body  # type: ignore[no-any-return]


def _entries() -> list[dict[str, Any]]:
    """Every entry, newest first (one page holds them all here)."""
    body = _audit(limit="200")
    assert body["next_token"] is None
    return body["items"]  # type: ignore[no-any-return]


def _only_entry() -> dict[str, Any]:
    entries = _entries()
    assert len(entries) == 1, entries
    entry = entries[0]
    assert set(entry) == {"id", "at", "actor", "action", "target", "before", "after"}
    assert re.match(ID_PATTERN, entry["id"]), entry["id"]
    assert NOW <= datetime.fromisoformat(entry["at"]) < NOW + timedelta(minutes=5)
    return entry


def _shown(budget: dict[str, Any]) -> dict[str, Any]:
    """A budget response without its period's spend: what the audit log keeps of it."""
    return {key: value for key, value in budget.items() if key != "status"}


# -- budgets -------------------------------------------------------------------------------------------------------
def _create() -> dict[str, Any]:
    status, created = call_api("/v1/budgets", method="POST", body=BUDGET)
    assert status == 201, created
    return created  # type: ignore[no-any-return]


def test_budget_create_is_recorded_with_the_budget_after(api: dict[str, Any]) -> None:
    created = _create()
    entry = _only_entry()
    assert entry["action"] == "budget.create" and entry["actor"] == "local"
    assert entry["target"] == {"type": "budget", "id": created["id"]}
    assert entry["before"] is None
    assert entry["after"] == _shown(created)
    assert entry["after"]["amount"] == "200.50" and entry["after"]["origin"] == "api"


def test_budget_update_is_recorded_with_before_and_after(api: dict[str, Any]) -> None:
    created = _create()
    changed = {**BUDGET, "name": "aws-prod", "amount": "300", "thresholds": ["50%", "$150"]}
    status, updated = call_api(f"/v1/budgets/{created['id']}", method="PUT", body=changed)
    assert status == 200, updated
    newest, first = _entries()
    assert first["action"] == "budget.create"
    assert newest["action"] == "budget.update" and newest["actor"] == "local"
    assert newest["target"] == {"type": "budget", "id": created["id"]}
    assert newest["before"] == _shown(created)
    assert newest["after"] == _shown(updated)
    assert (newest["before"]["amount"], newest["after"]["amount"]) == ("200.50", "300.00")
    assert newest["at"] >= first["at"] and newest["id"] > first["id"]


def test_budget_delete_is_recorded_with_the_budget_before(api: dict[str, Any]) -> None:
    created = _create()
    status, _ = call_api(f"/v1/budgets/{created['id']}", method="DELETE")
    assert status == 204
    newest, _first = _entries()
    assert newest["action"] == "budget.delete" and newest["actor"] == "local"
    assert newest["target"] == {"type": "budget", "id": created["id"]}
    assert newest["before"] == _shown(created) and newest["after"] is None


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PUT", f"/v1/budgets/{UNKNOWN}", BUDGET, 404),
        ("DELETE", f"/v1/budgets/{UNKNOWN}", None, 404),
        ("PUT", "/v1/budgets/config-from-config", BUDGET, 409),
        ("DELETE", "/v1/budgets/config-from-config", None, 409),
        ("POST", "/v1/budgets", {**BUDGET, "name": "from-config"}, 409),
        ("POST", "/v1/budgets", {**BUDGET, "amount": "-1"}, 422),
        ("POST", "/v1/budgets", {**BUDGET, "period": "fortnight"}, 422),
    ],
)
def test_a_failed_budget_change_leaves_no_entry(
    api: dict[str, Any], method: str, path: str, body: dict[str, Any] | None, status: int
) -> None:
    answered, error = call_api(path, method=method, body=body)
    assert answered == status, error
    assert _entries() == []
    assert store().budgets() == []


def test_an_invalid_update_of_a_stored_budget_leaves_no_entry(api: dict[str, Any]) -> None:
    created = _create()
    status, _ = call_api(f"/v1/budgets/{created['id']}", method="PUT", body={**BUDGET, "thresholds": ["lots"]})
    assert status == 422
    assert [e["action"] for e in _entries()] == ["budget.create"]
    status, again = call_api(f"/v1/budgets/{created['id']}")
    assert status == 200 and _shown(again) == _shown(created)


def _changed_meanwhile(monkeypatch: pytest.MonkeyPatch, write: Any) -> None:
    """The next consistent read of a budget returns what was stored, and then ``write`` changes the table."""
    original = BudgetStore.get_budget

    def read_then_write(self: BudgetStore, budget_id: str) -> StoredBudget | None:
        read = original(self, budget_id)
        monkeypatch.setattr(BudgetStore, "get_budget", original)
        write(read)
        return read

    monkeypatch.setattr(BudgetStore, "get_budget", read_then_write)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_a_budget_changed_between_read_and_write_is_a_409_without_entry(
    api: dict[str, Any], method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = _create()
    other = StoredBudget(created["id"], Budget.model_validate({**BUDGET, "amount": "999"}), "api", NOW, NOW)

    def someone_else_updates(read: StoredBudget | None) -> None:
        assert read is not None
        concurrent = audit_entry("budget.update", ("budget", read.id), "someone-else", clock.utc_now(), None, None)
        assert store().replace_budget(replace(other, updated_at=clock.utc_now()), read.updated_at, concurrent)

    _changed_meanwhile(monkeypatch, someone_else_updates)
    status, body = call_api(f"/v1/budgets/{created['id']}", method=method, body=BUDGET if method == "PUT" else None)
    assert status == 409, body
    assert body["error"]["code"] == "conflict" and "changed" in body["error"]["message"]
    assert [e["actor"] for e in _entries()] == ["someone-else", "local"]
    kept = store().get_budget(created["id"])
    assert kept is not None and kept.budget.amount == Decimal("999")


def test_a_budget_deleted_between_read_and_write_is_a_404_without_entry(
    api: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    created = _create()

    def someone_else_deletes(read: StoredBudget | None) -> None:
        assert read is not None
        gone = audit_entry("budget.delete", ("budget", read.id), "someone-else", clock.utc_now(), None, None)
        assert store().delete_budget(read.id, read.updated_at, gone)

    _changed_meanwhile(monkeypatch, someone_else_deletes)
    status, body = call_api(f"/v1/budgets/{created['id']}", method="PUT", body=BUDGET)
    assert status == 404, body
    assert [e["actor"] for e in _entries()] == ["someone-else", "local"]
    assert store().budgets() == []


def test_the_change_is_not_written_when_its_entry_cannot_be(api: dict[str, Any]) -> None:
    """One transaction: an entry that cannot be written (its id is taken) takes the change down with it."""
    created = _create()
    table = store()
    taken = AuditEntry.model_validate(_entries()[0])
    read = table.get_budget(created["id"])
    assert read is not None
    changed = StoredBudget(read.id, Budget.model_validate({**BUDGET, "amount": "1"}), "api", read.created_at, NOW)
    clash = taken.model_copy(update={"action": "budget.update", "actor": "clash"})
    assert not table.replace_budget(changed, read.updated_at, clash)
    assert not table.delete_budget(read.id, read.updated_at, clash)
    assert table.get_budget(read.id) == read
    fresh = StoredBudget("f" * 32, Budget.model_validate({**BUDGET, "name": "fresh"}), "api", NOW, NOW)
    assert not table.create_budget(fresh, clash)
    assert table.get_budget(fresh.id) is None
    assert not table.change_alert(OPEN.id, {"status": "acknowledged"}, "open", clash)
    assert table.get_alert(OPEN.id) == OPEN
    assert not table.act_on_recommendation(replace(IDLE, status="accepted"), IDLE.updated_at, clash)
    assert table.get_recommendation(IDLE.id) == IDLE
    assert [AuditEntry.model_validate(e) for e in _entries()] == [taken]


# -- alerts --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "action", "status"),
    [
        ("ack", None, "alert.ack", "acknowledged"),
        ("snooze", {"hours": 4}, "alert.snooze", "snoozed"),
        ("resolve", None, "alert.resolve", "resolved"),
    ],
)
def test_alert_changes_are_recorded_with_before_and_after(
    api: dict[str, Any], path: str, body: dict[str, Any] | None, action: str, status: str
) -> None:
    answered, after = call_api(f"/v1/alerts/{OPEN.id}/{path}", method="POST", body=body)
    assert answered == 200, after
    entry = _only_entry()
    assert entry["action"] == action and entry["actor"] == "local"
    assert entry["target"] == {"type": "alert", "id": OPEN.id}
    assert entry["before"] == OPEN.model_dump(mode="json")
    assert entry["before"]["status"] == "open" and entry["before"]["actual"] == "160.4000000001"
    assert entry["after"] == after and after["status"] == status
    assert (entry["after"]["snoozed_until"] is not None) == (status == "snoozed")


def test_a_resolved_alert_can_be_resolved_again_and_that_is_recorded(api: dict[str, Any]) -> None:
    answered, after = call_api(f"/v1/alerts/{RESOLVED.id}/resolve", method="POST")
    assert answered == 200, after
    entry = _only_entry()
    assert entry["action"] == "alert.resolve"
    assert entry["before"]["status"] == "resolved" and entry["after"] == after


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (f"{UNKNOWN}/ack", None, 404),
        (f"{UNKNOWN}/resolve", None, 404),
        (f"{RESOLVED.id}/ack", None, 409),
        (f"{RESOLVED.id}/snooze", {"hours": 4}, 409),
        (f"{OPEN.id}/snooze", {"hours": 24 * 91}, 422),
        (f"{OPEN.id}/snooze", {"until": "2020-01-01T00:00:00Z"}, 422),
    ],
)
def test_a_failed_alert_change_leaves_no_entry(
    api: dict[str, Any], path: str, body: dict[str, Any] | None, status: int
) -> None:
    answered, error = call_api(f"/v1/alerts/{path}", method="POST", body=body)
    assert answered == status, error
    assert _entries() == []
    assert store().get_alert(OPEN.id) == OPEN and store().get_alert(RESOLVED.id) == RESOLVED


def test_an_alert_resolved_between_read_and_ack_stays_resolved_and_the_ack_is_a_409(
    api: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = AlertStore.get_alert

    def read_then_evaluation_resolves(self: AlertStore, wanted: str) -> Alert | None:
        read = original(self, wanted)
        monkeypatch.setattr(AlertStore, "get_alert", original)
        store().update_alert(wanted, {"status": "resolved", "updated_at": NOW.isoformat()})  # what evaluation does
        return read

    monkeypatch.setattr(AlertStore, "get_alert", read_then_evaluation_resolves)
    answered, body = call_api(f"/v1/alerts/{OPEN.id}/ack", method="POST")
    assert answered == 409, body
    assert body["error"]["code"] == "conflict" and "changed" in body["error"]["message"]
    assert _entries() == []
    kept = store().get_alert(OPEN.id)
    assert kept is not None and kept.status == "resolved"


# -- recommendations -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rec", "action", "status"),
    [(IDLE, "accept", "accepted"), (IDLE, "dismiss", "dismissed"), (IDLE, "implement", "implemented")],
)
def test_recommendation_actions_are_recorded_with_before_and_after(
    api: dict[str, Any], rec: Recommendation, action: str, status: str
) -> None:
    answered, after = call_api(f"/v1/recommendations/{rec.id}/{action}", method="POST")
    assert answered == 200, after
    entry = _only_entry()
    assert entry["action"] == f"recommendation.{action}" and entry["actor"] == "local"
    assert entry["target"] == {"type": "recommendation", "id": rec.id}
    assert entry["before"] == rec.item() and entry["before"]["monthly_savings"] == "48.00"
    assert entry["after"] == after and after["status"] == status


def test_an_action_that_changes_nothing_records_nothing(api: dict[str, Any]) -> None:
    answered, body = call_api(f"/v1/recommendations/{DISMISSED.id}/dismiss", method="POST")
    assert answered == 200 and body == DISMISSED.item()
    assert _entries() == []


@pytest.mark.parametrize(
    ("rec_id", "action", "status"),
    [
        (UNKNOWN, "accept", 404),
        (UNKNOWN, "implement", 404),
        (DISMISSED.id, "implement", 409),  # a dismissed one may only be accepted
    ],
)
def test_a_failed_recommendation_action_leaves_no_entry(
    api: dict[str, Any], rec_id: str, action: str, status: int
) -> None:
    answered, error = call_api(f"/v1/recommendations/{rec_id}/{action}", method="POST")
    assert answered == status, error
    assert _entries() == []
    assert store().get_recommendation(DISMISSED.id) == DISMISSED


def test_a_recommendation_re_evaluated_between_read_and_write_is_a_409_without_entry(
    api: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    reevaluated = replace(IDLE, monthly_savings=Decimal("50"), updated_at=NOW - timedelta(minutes=1))
    original = RecommendationStore.get_recommendation

    def read_then_evaluation_writes(self: RecommendationStore, rec_id: str) -> Recommendation | None:
        read = original(self, rec_id)
        store().put_recommendations([reevaluated])
        return read

    monkeypatch.setattr(RecommendationStore, "get_recommendation", read_then_evaluation_writes)
    answered, body = call_api(f"/v1/recommendations/{IDLE.id}/accept", method="POST")
    assert answered == 409, body
    assert _entries() == []
    assert store().get_recommendation(IDLE.id) == reevaluated


# -- the log -------------------------------------------------------------------------------------------------------
def _make_changes() -> list[str]:
    """Five changes, oldest first; their actions."""
    created = _create()
    call_api(f"/v1/alerts/{OPEN.id}/ack", method="POST")
    call_api(f"/v1/recommendations/{IDLE.id}/accept", method="POST")
    call_api(f"/v1/budgets/{created['id']}", method="PUT", body={**BUDGET, "amount": "1"})
    call_api(f"/v1/alerts/{OPEN.id}/resolve", method="POST")
    return ["budget.create", "alert.ack", "recommendation.accept", "budget.update", "alert.resolve"]


def test_pages_walk_the_log_newest_first(api: dict[str, Any]) -> None:
    actions = _make_changes()
    whole = _entries()
    assert [e["action"] for e in whole] == actions[::-1]
    assert [e["id"] for e in whole] == sorted((e["id"] for e in whole), reverse=True)
    assert [e["at"] for e in whole] == sorted((e["at"] for e in whole), reverse=True)
    seen: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(4):
        page = _audit(limit="2", **({"next_token": token} if token else {}))
        assert 1 <= len(page["items"]) <= 2
        seen += page["items"]
        token = page["next_token"]
        if token is None:
            break
    assert seen == whole and token is None
    assert _audit()["items"] == whole  # default page size


def test_an_empty_log(api: dict[str, Any]) -> None:
    assert _audit() == {"items": [], "next_token": None}


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "ten"},
        {"next_token": "bm90LWEtdG9rZW4="},
        {"next_token": "eyJwayI6eyJTIjoiUlVOIn0sInNrIjp7IlMiOiJ4In19"},  # a key into the collection runs
    ],
)
def test_bad_parameters_are_400(api: dict[str, Any], query: dict[str, str]) -> None:
    status, body = call_api("/v1/audit", query)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_parameter"
    assert next(iter(query)) in body["error"]["message"]


def test_entries_expire_400_days_after_they_were_made(api: dict[str, Any]) -> None:
    _make_changes()
    records = list(store().query(AUDIT_PK))
    assert len(records) == 5
    for record in records:
        at = datetime.fromisoformat(record["at"])
        assert int(record[TTL]) == int((at + timedelta(days=400)).timestamp())
    assert timedelta(days=400) == AUDIT_RETENTION


def test_the_log_needs_authentication(api: dict[str, Any]) -> None:
    status, body = call_api("/v1/audit", token=None)
    assert status == 401, body


# -- who ---------------------------------------------------------------------------------------------------------
IAM = {"userArn": "arn:aws:iam::123456789012:user/ops", "caller": "AIDAEXAMPLE", "apiKeyId": None}
ASSUMED = {"userArn": None, "caller": "AROAEXAMPLE:session", "apiKeyId": None}
API_KEY = {"userArn": None, "caller": None, "apiKey": "the-secret-key-itself", "apiKeyId": "k3y1d"}


@pytest.mark.parametrize(
    ("identity", "actor"),
    [
        (IAM, "arn:aws:iam::123456789012:user/ops"),
        (ASSUMED, "AROAEXAMPLE:session"),
        (API_KEY, "k3y1d"),
        ({"sourceIp": "203.0.113.9"}, "unknown"),
    ],
)
def test_deployed_the_actor_is_the_iam_caller_or_the_api_key_id(
    api: dict[str, Any], identity: dict[str, Any], actor: str
) -> None:
    from api import deps
    from api.handler import handler

    api["monkeypatch"].setenv(resources.ENV_API_AUTH, "gateway")
    deps.settings.cache_clear()
    event = api_event(f"/v1/alerts/{OPEN.id}/ack", token=None, method="POST")
    event["requestContext"]["identity"] = {"sourceIp": "203.0.113.9", "userAgent": "aws-cli", **identity}
    response = handler(event, LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    entry = _only_entry()
    assert entry["actor"] == actor and entry["action"] == "alert.ack"
    assert "the-secret-key-itself" not in str(_entries())


# -- the page ----------------------------------------------------------------------------------------------------
def test_the_page_shows_the_latest_ten_changes_escaped(api: dict[str, Any]) -> None:
    from api.handler import handler

    nasty = {**BUDGET, "name": "<script>alert(1)</script>"}
    status, created = call_api("/v1/budgets", method="POST", body=nasty)
    assert status == 201, created
    for amount in range(1, 11):
        status, _ = call_api(f"/v1/budgets/{created['id']}", method="PUT", body={**nasty, "amount": str(amount)})
        assert status == 200
    response = handler(api_event("/"), LambdaContext())
    assert response["statusCode"] == 200
    page = response["body"]
    section = page[page.index('<section class="card" id="changes">') :]
    section = section[: section.index("</section>")]
    assert section.count("<tr>") == 11  # the header and ten changes
    assert section.count("budget.update") == 10 and "budget.create" not in section
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in section
    assert f"budget {created['id']}" in section and "<td>local</td>" in section


def test_the_page_without_changes(api: dict[str, Any]) -> None:
    from api.handler import handler

    page = handler(api_event("/"), LambdaContext())["body"]
    assert "No changes made through the API yet." in page
