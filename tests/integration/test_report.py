"""The report function on moto: which period it covers in each time zone, its total against GET /v1/costs to the
cent, its CSV and HTML in the bucket, and that a second run for the same period changes nothing."""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

import pytest
from spendwatch.domain.alerts import Alert, alert_id
from spendwatch.domain.channels import ChannelConfig
from spendwatch.domain.models import CostItem
from spendwatch.platform import clock, resources
from spendwatch.store.table import ALERT_DELIVER
from spendwatch.store.writer import CostWriter

from report.handler import handler
from tests.integration.conftest import BUCKET, TABLE, LambdaContext, call_api, store, write_config

FIRST, LAST = date(2024, 7, 1), date(2024, 11, 30)
COLLECTED = datetime(2024, 12, 1, tzinfo=UTC)
# (provider, service, tenant, base amount): amounts with sub-cent digits, so rounding has to be done once, exactly.
SERIES = (
    ("AWS", "Amazon EC2", "acme", Decimal("41.3371")),
    ("AWS", "Amazon S3", "", Decimal("3.005")),
    ("AWS", "AWS Lambda", "globex", Decimal("0.4449")),
    ("DigitalOcean", "Droplets", "acme", Decimal("12.125")),
    ("Kubernetes", "Kubernetes", "", Decimal("7.7777")),
)


def amount_on(day: date, base: Decimal, index: int) -> Decimal:
    """A weekly rhythm and a slow rise, different per series, exact to four places."""
    return base * (1 + Decimal(day.weekday() % 3) / 7) + Decimal(day.toordinal() % (11 + index)) / 1000


def seed_costs() -> None:
    """Every series on every day from FIRST to LAST, written as a collection writes them."""
    writer = CostWriter(store(), "s")
    day = FIRST
    while day <= LAST:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for index, (provider, service, tenant, base) in enumerate(SERIES):
            writer.add(
                CostItem(
                    ProviderName=provider,
                    ServiceName=service,
                    BilledCost=amount_on(day, base, index),
                    BillingCurrency="USD",
                    ChargePeriodStart=start,
                    ChargePeriodEnd=start + timedelta(days=1),
                    x_source="s",
                    x_collected_at=COLLECTED,
                    x_tenant=tenant,
                )
            )
        day += timedelta(days=1)
    writer.commit_totals()


CONFIG = """currency = "USD"
timezone = "{timezone}"

[[budgets]]
name = "total"
amount = "2000.00"
period = "month"

[[budgets]]
name = "aws-weekly"
amount = "100"
period = "week"
scope = {{provider = "AWS"}}
"""


@pytest.fixture
def seeded(aws_env: dict[str, Any]) -> Iterator[dict[str, Any]]:
    seed_costs()
    yield aws_env
    aws_env["monkeypatch"].delenv(clock.NOW_ENV, raising=False)
    clock.reset()


def at(env: dict[str, Any], instant: str, timezone: str) -> None:
    """Pin the clock and the config's time zone."""
    write_config(env, CONFIG.format(timezone=timezone))
    env["monkeypatch"].setenv(clock.NOW_ENV, instant)
    clock.reset()


def run(kind: str, **extra: str) -> dict[str, Any]:
    result: dict[str, Any] = handler({"kind": kind, **extra}, LambdaContext())
    return result


def costs_total(start: str, end: str) -> str:
    status, body = call_api("/v1/costs", {"start": start, "end": end})
    assert status == 200, body
    return str(body["total"])


# When it is made, in which zone, and which days each kind then covers. The first three instants fall on another
# calendar day in the zone than in UTC; the last week holds the end of US daylight saving time (3 November 2024).
CASES = [
    ("2024-11-04T03:30:00Z", "UTC", "daily", "2024-11-03", "2024-11-03"),
    ("2024-11-04T03:30:00Z", "UTC", "weekly", "2024-10-28", "2024-11-03"),
    ("2024-11-04T03:30:00Z", "UTC", "monthly", "2024-10-01", "2024-10-31"),
    ("2024-10-31T20:00:00Z", "Asia/Tokyo", "daily", "2024-10-31", "2024-10-31"),
    ("2024-10-31T20:00:00Z", "Asia/Tokyo", "weekly", "2024-10-21", "2024-10-27"),
    ("2024-10-31T20:00:00Z", "Asia/Tokyo", "monthly", "2024-10-01", "2024-10-31"),
    ("2024-11-01T02:00:00Z", "America/New_York", "daily", "2024-10-30", "2024-10-30"),
    ("2024-11-01T02:00:00Z", "America/New_York", "weekly", "2024-10-21", "2024-10-27"),
    ("2024-11-01T02:00:00Z", "America/New_York", "monthly", "2024-09-01", "2024-09-30"),
    ("2024-11-05T03:30:00Z", "America/New_York", "daily", "2024-11-03", "2024-11-03"),
    ("2024-11-05T03:30:00Z", "America/New_York", "weekly", "2024-10-28", "2024-11-03"),
]


@pytest.mark.parametrize(("instant", "timezone", "kind", "start", "end"), CASES)
def test_the_period_is_the_last_complete_one_in_the_zone_and_its_total_is_the_apis(
    seeded: dict[str, Any], instant: str, timezone: str, kind: str, start: str, end: str
) -> None:
    at(seeded, instant, timezone)

    result = run(kind)

    report = result["report"]
    assert result["created"] is True
    assert (report["id"], report["start"], report["end"]) == (f"{start}-{kind}", start, end)
    assert report["timezone"] == timezone
    assert report["total"] == costs_total(start, end)
    before = date.fromisoformat(start) - timedelta(days=1)
    first_before = {"daily": before, "weekly": before - timedelta(days=6), "monthly": before.replace(day=1)}[kind]
    assert report["previous_total"] == costs_total(first_before.isoformat(), before.isoformat())
    status, served = call_api(f"/v1/reports/{report['id']}")
    assert status == 200 and served == report


def _object(env: dict[str, Any], uri: str) -> str:
    parsed = urlparse(uri)
    assert parsed.scheme == "s3" and parsed.netloc == BUCKET
    body: bytes = env["s3"].get_object(Bucket=BUCKET, Key=parsed.path.lstrip("/"))["Body"].read()
    return body.decode("utf-8")


def test_the_csv_adds_up_to_the_total_and_the_page_has_the_chart(seeded: dict[str, Any]) -> None:
    at(seeded, "2024-11-04T08:00:00Z", "Europe/Berlin")

    report = run("monthly")["report"]

    assert report["artifacts"]["csv"] == f"s3://{BUCKET}/reports/monthly/2024-10-01.csv"
    rows = list(csv.DictReader(io.StringIO(_object(seeded, report["artifacts"]["csv"]))))
    assert list(rows[0]) == ["day", "provider", "service", "amount", "currency"]
    assert len(rows) == 31 * len(SERIES)
    assert len({(r["day"], r["provider"], r["service"]) for r in rows}) == len(rows)
    exact = sum(amount_on(date(2024, 10, d), base, i) for d in range(1, 32) for i, (*_, base) in enumerate(SERIES))
    assert sum(Decimal(r["amount"]) for r in rows) == exact
    assert report["total"] == str(exact.quantize(Decimal("0.01")))
    page = _object(seeded, report["artifacts"]["html"])
    assert "<svg" in page and 'class="actual"' in page and "<script" not in page
    assert "spendwatch monthly report: 2024-10-01 to 2024-10-31" in page


def test_movers_budgets_alerts_and_projection(seeded: dict[str, Any]) -> None:
    at(seeded, "2024-11-04T08:00:00Z", "UTC")
    inside = datetime(2024, 11, 2, 12, tzinfo=UTC)
    for n, created in enumerate((inside, datetime(2024, 10, 27, 23, tzinfo=UTC))):
        store().put_alert_once(
            Alert(
                id=alert_id("spike", {}, str(n), ""),
                kind="spike",
                severity="warning",
                rule="spike",
                period=str(n),
                title=f"spike {n}",
                message="m",
                created_at=created,
                updated_at=created,
            )
        )

    report = run("weekly")["report"]

    assert [a["title"] for a in report["alerts"]] == ["spike 0"]
    assert report["alerts_opened"] == 1
    assert {line["key"] for line in report["breakdown"]["provider"]} == {"AWS", "DigitalOcean", "Kubernetes"}
    assert {line["key"] for line in report["breakdown"]["tenant"]} == {"acme", "globex", "(none)"}
    assert report["movers"]["service"], report["movers"]
    budgets = {b["name"]: b for b in report["budgets"]}
    assert budgets["aws-weekly"]["period"] == "2024-W44"
    assert (
        budgets["aws-weekly"]["spent"]
        == call_api("/v1/costs", {"start": "2024-10-28", "end": "2024-11-03", "provider": "AWS"})[1]["total"]
    )
    assert budgets["aws-weekly"]["status"] == "over"
    assert budgets["total"]["period"] == "2024-11" and budgets["total"]["start"] == "2024-11-01"
    projection = report["projection"]
    assert projection["month"] == "2024-11"
    assert Decimal(projection["lower"]) <= Decimal(projection["amount"]) <= Decimal(projection["upper"])


def test_a_second_run_for_the_same_period_returns_the_stored_report(seeded: dict[str, Any]) -> None:
    at(seeded, "2024-11-04T08:00:00Z", "UTC")
    first = run("daily")
    key = "reports/daily/2024-11-03.html"
    written = seeded["s3"].head_object(Bucket=BUCKET, Key=key)["LastModified"]

    again = run("daily", date="2024-11-04")

    assert again["created"] is False
    assert again["report"] == first["report"]
    assert seeded["s3"].head_object(Bucket=BUCKET, Key=key)["LastModified"] == written
    status, page = call_api("/v1/reports")
    assert status == 200 and [r["id"] for r in page["items"]] == ["2024-11-03-daily"]


def test_a_scheduled_time_is_read_in_the_zone(seeded: dict[str, Any]) -> None:
    at(seeded, "2024-11-10T00:00:00Z", "Asia/Tokyo")

    report = run("daily", scheduled_time="2024-11-04T00:00:00Z")["report"]

    assert report["id"] == "2024-11-03-daily"


# -- delivery through the outbox -------------------------------------------------------------------------------
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:spendwatch-alerts"


@pytest.fixture
def outbox(seeded: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The report's stream tapped as the deliver function's mapping filters it, a fake Slack, SNS with subscribers."""
    import boto3
    from aws_lambda_powertools.utilities import parameters
    from spendwatch.channels import slack

    from spendwatch_local.fakes.slack import FakeSlack
    from tests.integration.stream_tap import tapped

    monkeypatch: pytest.MonkeyPatch = seeded["monkeypatch"]
    write_config(seeded, CONFIG.format(timezone="Europe/Berlin"))
    parameters.clear_caches()
    with tapped(seeded, TABLE, "2024-11-04T08:00:00Z") as env, FakeSlack() as fake:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", fake.url)
        monkeypatch.setenv(resources.ENV_TOPIC, TOPIC_ARN)
        monkeypatch.setattr(slack, "sleep", lambda _seconds: None)
        boto3.client("sns").create_topic(Name="spendwatch-alerts")
        env["queues"] = {name: subscriber(policy) for name, policy in (("all", None), ("reports", ["report"]))}
        # The filter policy an e-mail channel for warnings and above gets: reports still reach it.
        warnings = ChannelConfig(type="email", name="e", address="finops@example.com", min_severity="warning")
        env["queues"]["email"] = subscriber(None, warnings.filter_policy())
        env["slack"] = fake
        yield env
    parameters.clear_caches()


def subscriber(kinds: list[str] | None, policy: dict[str, Any] | None = None) -> str:
    """An SQS subscriber of the topic (raw delivery), filtered on ``kind`` when ``kinds`` is given (or by
    ``policy``)."""
    import json

    import boto3

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=f"sub-{'-'.join(kinds or ['all'])}{'-policy' if policy else ''}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {"RawMessageDelivery": "true"}
    if kinds or policy:
        attributes["FilterPolicy"] = json.dumps(policy or {"kind": kinds})
    boto3.client("sns").subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return str(url)


def received(url: str) -> list[dict[str, Any]]:
    import boto3

    found = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    return list(found.get("Messages", []))


def deliver(event: dict[str, Any]) -> dict[str, Any]:
    from alert.deliver.handler import handler as deliver_handler

    response: dict[str, Any] = deliver_handler(copy.deepcopy(event), LambdaContext())
    return response


def test_a_report_is_delivered_once_whatever_runs_again(outbox: dict[str, Any]) -> None:
    report = run("weekly")["report"]
    event = {"Records": outbox["tap"].take(ALERT_DELIVER)}
    assert len(event["Records"]) == 1

    assert deliver(event) == {"batchItemFailures": []}

    (post,) = outbox["slack"].accepted
    assert post["blocks"][0]["text"]["text"].startswith("spendwatch weekly report 2024-10-28 to 2024-11-03")
    assert any(e.get("type") == "button" for b in post["blocks"] for e in b.get("elements", []))
    (message,) = received(outbox["queues"]["reports"])
    assert len(received(outbox["queues"]["email"])) == 1, "an e-mail channel for warnings gets reports too"
    attrs = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attrs == {"kind": "report", "severity": "info", "report_kind": "weekly", "report_id": report["id"]}
    assert f"spendwatch weekly report 2024-10-28 to 2024-11-03: {report['total']} USD" in message["Body"]
    assert len(received(outbox["queues"]["all"])) == 1
    stored = store().get_report(report["id"])
    assert stored is not None and {n: d.status for n, d in stored.delivery.items()} == {
        "slack": "delivered",
        "sns": "delivered",
    }

    # A second run of the report stores nothing new; a retried batch and a direct delivery post nothing.
    again = run("weekly", date="2024-11-06")
    assert again == {"created": False, "report": report}
    assert outbox["tap"].take(ALERT_DELIVER) == []  # only MODIFYs (delivery state) were written since
    assert deliver(event) == {"batchItemFailures": []}
    assert deliver({"report_id": report["id"]})["delivered"] is True
    assert len(outbox["slack"].posts) == 1
    assert received(outbox["queues"]["all"]) == [] and received(outbox["queues"]["reports"]) == []


def test_a_failed_slack_post_is_retried_without_posting_sns_again(outbox: dict[str, Any]) -> None:
    run("daily")
    event = {"Records": outbox["tap"].take(ALERT_DELIVER)}
    outbox["slack"].reject(times=1)

    first = deliver(event)
    second = deliver(event)

    assert [f["itemIdentifier"] for f in first["batchItemFailures"]] == [
        r["dynamodb"]["SequenceNumber"] for r in event["Records"]
    ]
    assert second == {"batchItemFailures": []}
    assert len(outbox["slack"].accepted) == 1
    assert len(received(outbox["queues"]["all"])) == 1
