"""``[[channels]]``: validation naming the table's index and key, default names, filters and filter policies."""

from __future__ import annotations

import pytest
from spendwatch.domain.channels import ChannelConfig
from spendwatch.domain.config import ConfigError, parse_config

CONTRACT = """
[[channels]]
type = "email"
address = "finops@example.com"
min_severity = "warning"
kinds = []

[[channels]]
type = "pagerduty"
min_severity = "critical"
"""


def test_the_contracts_example_is_valid() -> None:
    config = parse_config(CONTRACT)
    email, pagerduty = config.channels
    assert (email.name, email.address, email.min_severity, email.kinds) == (
        "email",
        "finops@example.com",
        "warning",
        [],
    )
    assert (pagerduty.name, pagerduty.min_severity) == ("pagerduty", "critical")
    assert config.channel_secret(pagerduty) == "spendwatch/pagerduty-routing-key"
    assert config.channel_secret(email) is None
    assert config.channel_secrets() == ["spendwatch/slack-webhook-url", "spendwatch/pagerduty-routing-key"]


def test_more_channels_of_a_type_are_numbered_unless_named() -> None:
    text = CONTRACT + '\n[[channels]]\ntype = "email"\naddress = "b@example.com"\n'
    text += '\n[[channels]]\ntype = "webhook"\nname = "ops"\nurl = "https://x.example/h"\nsecret = "hooks/ops"\n'
    config = parse_config(text)
    assert [c.name for c in config.channels] == ["email", "pagerduty", "email-2", "ops"]
    assert config.channel_secret(config.channels[3]) == "hooks/ops"


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('type = "email"\naddress = "not-an-address"', "channels.1.address"),
        ('type = "email"\naddress = "a@localhost"', "channels.1.address"),
        ('type = "email"', "channels.1: Value error, type 'email' needs address"),
        ('type = "webhook"', "channels.1: Value error, type 'webhook' needs url"),
        ('type = "webhook"\nurl = "ftp://x.example"', "channels.1.url"),
        ('type = "pagerduty"\naddress = "a@example.com"', "address do(es) not apply to type 'pagerduty'"),
        ('type = "pagerduty"\nmin_severity = "high"', "channels.1.min_severity"),
        ('type = "pagerduty"\nkinds = ["budget", "nope"]', "channels.1.kinds: Value error, unknown kind(s) ['nope']"),
        ('type = "pagerduty"\nkinds = ["test"]', "channels.1.kinds"),
        ('type = "sms"', "channels.1.type"),
        ('type = "pagerduty"\nrouting_key = "abc"', "channels.1.routing_key: Extra inputs are not permitted"),
        ('type = "pagerduty"\nname = "slack"', "the built-in channels' names"),
        ('type = "email"\nname = "email"\naddress = "b@example.com"', "duplicate channel names: ['email']"),
        ('type = "pagerduty"\nname = "Pager Duty"', "channels.1.name"),
    ],
)
def test_a_bad_channel_is_refused_naming_its_index_and_key(table: str, expected: str) -> None:
    text = '[[channels]]\ntype = "email"\naddress = "finops@example.com"\n\n[[channels]]\n' + table
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert expected in str(caught.value)


def test_a_secret_value_never_appears_in_the_error() -> None:
    # A routing key pasted into the file is refused without being repeated.
    with pytest.raises(ConfigError) as caught:
        parse_config('[[channels]]\ntype = "pagerduty"\nrouting_key = "R0UT1NGKEY0123456789abcdefABCDEF"\n')
    assert "R0UT1NGKEY" not in str(caught.value)


@pytest.mark.parametrize(
    ("min_severity", "kinds", "kind", "severity", "expected"),
    [
        ("warning", [], "spike", "warning", True),
        ("warning", [], "spike", "info", False),
        ("critical", [], "budget", "critical", True),
        ("info", ["budget", "forecast"], "forecast", "info", True),
        ("info", ["budget", "forecast"], "spike", "critical", False),
        ("info", [], "report", "info", True),
    ],
)
def test_a_channel_takes_alerts_at_or_above_its_severity_of_its_kinds(
    min_severity: str, kinds: list[str], kind: str, severity: str, expected: bool
) -> None:
    channel = ChannelConfig.model_validate(
        {"type": "pagerduty", "name": "p", "min_severity": min_severity, "kinds": kinds}
    )
    assert channel.accepts(kind, severity) is expected  # type: ignore[arg-type]


def test_email_filter_policy_lists_severities_at_or_above_and_no_kind_filter_for_every_kind() -> None:
    config = parse_config(CONTRACT)
    # Reports are published as info: an address for every kind gets them whatever its min_severity.
    reports = {"kind": ["report"]}
    assert config.channels[0].filter_policy() == {"$or": [{"severity": ["warning", "critical"]}, reports]}
    chosen = ChannelConfig(type="email", name="e", address="a@example.com", min_severity="critical", kinds=["budget"])
    # The test kind rides along, so `spendwatch test-alert` reaches an address that filters on kind.
    assert chosen.filter_policy() == {"severity": ["critical"], "kind": ["budget", "test"]}
    with_reports = chosen.model_copy(update={"kinds": ["budget", "report"]})
    assert with_reports.filter_policy() == {"$or": [{"severity": ["critical"], "kind": ["budget", "test"]}, reports]}
    everything = ChannelConfig(type="email", name="e", address="a@example.com")
    assert everything.filter_policy() == {"$or": [{"severity": ["info", "warning", "critical"]}, reports]}
