"""Slack: Block Kit within Slack's limits, grouping into few messages, and a poster that retries only what it should."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from spendwatch.channels import slack
from spendwatch.channels.slack import (
    MAX_ATTEMPTS,
    MAX_BLOCKS,
    MAX_HEADER,
    MAX_SECTION,
    MESSAGE_TEXT_BUDGET,
    ConsoleChannel,
    SlackChannel,
    block_text_size,
    build_messages,
    clip_escaped,
    post,
    webhook_url,
)
from spendwatch.domain.alerts import Alert, Driver, alert_id
from spendwatch.platform.secrets import SecretError

from spendwatch_local.fakes.slack import FakeSlack, Reply, block_problem

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
REPO = Path(__file__).parents[2]


def make_alert(
    n: int = 0,
    *,
    severity: str = "warning",
    kind: str = "budget",
    title: str | None = None,
    message: str | None = None,
    scope: dict[str, Any] | None = None,
    rule: str = "budget:config-aws",
    drivers: int = 1,
) -> Alert:
    """A realistic alert; ``n`` makes it distinct."""
    scope = {"provider": "AWS"} if scope is None else scope
    return Alert(
        id=alert_id(rule, scope, "2026-11", f"level-{n}"),
        kind=kind,
        severity=severity,
        rule=rule,
        scope=scope,
        period="2026-11",
        level="80%",
        title=title or f"AWS budget at 80% ({n})",
        message=message or "AWS spend 400.10 of 500.00 USD this month",
        currency="USD",
        actual=Decimal("400.1000000001"),
        threshold=Decimal("400.00"),
        drivers=[
            Driver(
                dimension="service",
                key=f"Amazon EC2 {d}",
                expected=Decimal("1.5"),
                actual=Decimal("9.25"),
                share=Decimal("0.8"),
            )
            for d in range(drivers)
        ],
        data_through=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def _texts(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


# -- Block Kit --------------------------------------------------------------------------------------------
def test_one_alert_reads_well_header_section_context_and_fallback_text() -> None:
    (message,) = build_messages([make_alert(severity="critical")])
    header, section, context = message.payload["blocks"]

    assert header == {"type": "header", "text": {"type": "plain_text", "text": ":red_circle: AWS budget at 80% (0)"}}
    text = section["text"]["text"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "*AWS budget at 80% (0)*" in text and "AWS spend 400.10 of 500.00 USD this month" in text
    assert "actual 400.10 USD · threshold 400.00 USD" in text
    assert "• service `Amazon EC2 0`: 1.50 USD → 9.25 USD (80% of the change)" in text
    elements = [e["text"] for e in context["elements"]]
    assert elements == [
        "*CRITICAL* · budget · 2026-11 · level 80%",
        "scope: provider=AWS",
        "data through 2026-11-24 09:00 UTC",
        f"alert `{message.alert_ids[0]}`",
    ]
    assert message.payload["text"] == "spendwatch: CRITICAL: AWS budget at 80% (0)"
    assert block_problem(message.payload) is None


def test_a_batch_becomes_one_message_with_a_divider_between_alerts() -> None:
    alerts = [make_alert(n, severity=s) for n, s in enumerate(["info", "critical", "warning"])]
    (message,) = build_messages(alerts)
    types = [b["type"] for b in message.payload["blocks"]]
    assert types == ["header", "section", "context", "divider", "section", "context", "divider", "section", "context"]
    # The header leads with the worst severity of the group.
    assert message.payload["blocks"][0]["text"]["text"] == ":red_circle: spendwatch: 3 new alerts"
    assert message.alert_ids == tuple(a.id for a in alerts)


def test_many_alerts_split_into_messages_of_at_most_50_blocks_each_alert_once_in_order() -> None:
    alerts = [make_alert(n) for n in range(40)]
    messages = build_messages(alerts)

    assert len(messages) == 3
    assert all(len(m.payload["blocks"]) <= MAX_BLOCKS for m in messages)
    assert [i for m in messages for i in m.alert_ids] == [a.id for a in alerts]
    headers = [m.payload["blocks"][0]["text"]["text"] for m in messages]
    assert [h[-5:] for h in headers] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(block_problem(m.payload) is None for m in messages)


def test_long_text_is_truncated_to_slack_limits() -> None:
    alert = make_alert(title="T" * 500, message="m" * 10_000, drivers=12)
    (message,) = build_messages([alert])
    header, section, _ = message.payload["blocks"]

    assert len(header["text"]["text"]) == MAX_HEADER and header["text"]["text"].endswith("…")
    assert len(section["text"]["text"]) <= MAX_SECTION and section["text"]["text"].endswith("…")
    assert len(message.payload["text"]) <= 3000
    assert block_problem(message.payload) is None


def test_big_alerts_split_by_text_budget_before_the_block_limit() -> None:
    alerts = [make_alert(n, message="x" * 2900) for n in range(10)]
    messages = build_messages(alerts)

    assert len(messages) > 1
    for m in messages:
        assert block_text_size(m.payload["blocks"]) <= MESSAGE_TEXT_BUDGET
    assert sum(len(m.alert_ids) for m in messages) == 10


def test_many_drivers_show_the_first_five_and_a_count() -> None:
    (message,) = build_messages([make_alert(drivers=8)])
    text = message.payload["blocks"][1]["text"]["text"]
    assert text.count("• service") == 5 and "• and 3 more" in text


def test_user_text_is_escaped_so_it_cannot_mention_or_link() -> None:
    (message,) = build_messages([make_alert(title="<!channel> R&D <http://x|y>", scope={"tag": {"team": "a<b"}})])
    header, *mrkdwn = message.payload["blocks"]
    body = _texts({"text": message.payload["text"], "blocks": mrkdwn})
    assert "<!channel>" not in body and "&lt;!channel&gt; R&amp;D &lt;http://x|y&gt;" in body
    assert "scope: tag:team=a&lt;b" in body
    # Plain text is never parsed for mentions or links, so the header shows the title as written.
    assert header["text"] == {"type": "plain_text", "text": ":large_orange_circle: <!channel> R&D <http://x|y>"}


def test_clipping_escaped_text_never_leaves_half_an_entity() -> None:
    assert clip_escaped("abc&amp;def", 6) == "abc…"
    assert clip_escaped("abc&amp;def", 9) == "abc&amp;…"
    assert clip_escaped("short", 10) == "short"


def test_the_whole_account_and_unknown_freshness_are_said_plainly() -> None:
    alert = make_alert(scope={}).model_copy(update={"data_through": None})
    (message,) = build_messages([alert])
    elements = [e["text"] for e in message.payload["blocks"][2]["elements"]]
    assert "scope: whole account" in elements and "data freshness unknown" in elements


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["info", "warning", "critical"]),
            st.text(min_size=1, max_size=400),
            st.text(min_size=1, max_size=4000),
            st.integers(min_value=0, max_value=7),
        ),
        max_size=60,
    )
)
def test_any_batch_packs_into_valid_messages_each_alert_exactly_once(specs: list[tuple[str, str, str, int]]) -> None:
    alerts = [
        make_alert(n, severity=sev, title=title, message=msg, drivers=d) for n, (sev, title, msg, d) in enumerate(specs)
    ]
    messages = build_messages(alerts)

    assert [i for m in messages for i in m.alert_ids] == [a.id for a in alerts]
    for m in messages:
        assert block_problem(m.payload) is None
        assert block_text_size(m.payload["blocks"]) <= MESSAGE_TEXT_BUDGET or len(m.alert_ids) == 1
        assert m.payload["text"]


# -- posting ----------------------------------------------------------------------------------------------
def _client(fake: FakeSlack) -> httpx.Client:
    return httpx.Client(transport=fake.transport())


def test_5xx_is_retried_until_slack_answers_ok() -> None:
    fake = FakeSlack().fail(times=2)
    waits: list[float] = []
    outcome = post(_client(fake), fake.url, build_messages([make_alert()])[0].payload, waits.append)

    assert outcome.status == "delivered" and outcome.attempts == 3 and outcome.error is None
    assert len(waits) == 2 and len(fake.accepted) == 1


def test_429_waits_what_retry_after_says() -> None:
    fake = FakeSlack().rate_limit(retry_after=30)
    waits: list[float] = []
    outcome = post(_client(fake), fake.url, build_messages([make_alert()])[0].payload, waits.append)

    assert outcome.status == "delivered" and outcome.attempts == 2
    assert waits == [30.0]


def test_a_retry_after_beyond_the_bound_fails_now_for_lambda_to_retry_later() -> None:
    fake = FakeSlack().rate_limit(retry_after=3600)
    outcome = post(_client(fake), fake.url, build_messages([make_alert()])[0].payload, lambda _s: None)

    assert outcome.status == "failed" and outcome.attempts == 1
    assert "retry after 3600s" in (outcome.error or "")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, "invalid_payload"),
        (400, "no_text"),
        (403, "action_prohibited"),
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
        (404, "no_service"),
        (403, "invalid_token"),
    ],
)
def test_4xx_is_permanent_no_retry(status: int, error: str) -> None:
    fake = FakeSlack().reject(error, status)
    waits: list[float] = []
    outcome = post(_client(fake), fake.url, build_messages([make_alert()])[0].payload, waits.append)

    assert outcome.status == "failed" and outcome.attempts == 1 and waits == []
    assert outcome.error == f"slack webhook answered HTTP {status}: {error}"


def test_only_200_with_body_ok_is_success() -> None:
    fake = FakeSlack().then(Reply(200, "not quite"))
    outcome = post(_client(fake), fake.url, build_messages([make_alert()])[0].payload, lambda _s: None)
    assert outcome.status == "failed"


def test_persistent_5xx_gives_up_after_bounded_attempts() -> None:
    fake = FakeSlack().fail(times=10, status=503)
    outcome = post(_client(fake), fake.url, build_messages([make_alert()])[0].payload, lambda _s: None)

    assert outcome.status == "failed" and outcome.attempts == MAX_ATTEMPTS
    assert outcome.error == f"slack webhook: HTTP 503 after {MAX_ATTEMPTS} attempts"
    assert len(fake.posts) == MAX_ATTEMPTS


def test_the_webhook_url_never_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeSlack().fail(times=10)
    secret_path = fake.url.rsplit("/", 1)[1]
    caplog.set_level(logging.DEBUG)
    channel = SlackChannel(fake.url, pause=lambda _s: None, client=_client(fake))
    outcomes = channel.send([make_alert()])

    assert secret_path not in str(outcomes)
    assert secret_path not in caplog.text
    assert secret_path not in repr(channel)


def test_split_messages_are_posted_a_second_apart_and_each_alert_gets_its_message_outcome() -> None:
    fake = FakeSlack()
    pauses: list[float] = []
    alerts = [make_alert(n) for n in range(20)]
    fake.then(Reply(200, "ok"), Reply(400, "invalid_payload"))
    outcomes = SlackChannel(fake.url, pause=pauses.append, client=_client(fake)).send(alerts)

    assert pauses == [1.0]
    first, second = build_messages(alerts)
    assert {outcomes[i].status for i in first.alert_ids} == {"delivered"}
    assert {outcomes[i].status for i in second.alert_ids} == {"failed"}


# -- configuration ----------------------------------------------------------------------------------------
def _missing(env: str, name: str) -> str | None:
    try:
        raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "GetSecretValue")
    except ClientError as exc:
        # The shape read_secret produces: the provider's error raised inside its except block, then wrapped.
        try:
            raise RuntimeError("provider failed") from None
        except RuntimeError as inner:
            inner.__context__ = exc
            raise SecretError(f"cannot read secret {name!r}") from inner


def _denied(env: str, name: str) -> str | None:
    cause = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetSecretValue")
    raise SecretError(f"cannot read secret {name!r}") from cause


def test_webhook_comes_from_env_or_secret_and_absence_means_print() -> None:
    assert webhook_url("s", lambda env, name: " https://hooks.slack.test/x \n") == "https://hooks.slack.test/x"
    assert webhook_url("s", lambda env, name: "") is None
    assert webhook_url("s", _missing) is None
    with pytest.raises(SecretError):
        webhook_url("s", _denied)


def test_the_console_prints_each_alert_readably_and_counts_it_delivered() -> None:
    out = io.StringIO()
    alerts = [make_alert(0), make_alert(1, severity="critical")]
    outcomes = ConsoleChannel(out).send(alerts)

    text = out.getvalue()
    assert "WARNING budget alert: AWS budget at 80% (0)" in text
    assert "CRITICAL budget alert: AWS budget at 80% (1)" in text
    assert "service Amazon EC2 0: expected 1.50 USD, actual 9.25 USD (80% of the change)" in text
    assert "Data through 2026-11-24 09:00 UTC" in text
    assert {o.status for o in outcomes.values()} == {"delivered"} and set(outcomes) == {a.id for a in alerts}


def test_the_delivery_function_does_not_import_httpx_until_it_posts() -> None:
    code = "import sys, alert.deliver.handler; print('httpx' in sys.modules)"
    paths = [str(REPO / p) for p in ("functions", "layers/common/python")]
    env = {"PYTHONPATH": ":".join(paths), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "False"
    assert slack.CHANNEL == "slack"
