"""spendwatch.toml: the contract's shape validates; mistakes are named clearly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from spendwatch.domain.config import ConfigError, load_config, parse_config, validate_schedule

ROOT = Path(__file__).resolve().parents[2]

CONTRACT = """
currency = "USD"
timezone = "Europe/Berlin"

[[sources]]
name = "focus-exports"
type = "focus"
path = "s3://my-bucket/focus/"
schedule = "rate(6 hours)"

[[sources]]
name = "do"
type = "digitalocean"
schedule = "cron(0 */6 * * ? *)"

[[budgets]]
name = "total"
amount = "500.00"
period = "month"
scope = {}
thresholds = ["50%", "80%", "100%", "forecast:100%", "$150"]
"""


def test_contract_minimum_shape_is_valid() -> None:
    config = parse_config(CONTRACT)
    assert [s.name for s in config.enabled_sources] == ["focus-exports", "do"]
    assert config.budgets[0].amount == Decimal("500.00")
    assert config.source("do").schedule == "cron(0 */6 * * ? *)"


def test_example_file_in_the_repo_is_valid() -> None:
    config = load_config(ROOT / "spendwatch.example.toml")
    assert config.sources


@pytest.mark.parametrize(
    ("snippet", "fragment"),
    [
        ('currency = "usd"', "currency"),
        ('timezone = "Mars/Olympus"', "time zone"),
        ('[[sources]]\nname = "x"\ntype = "focus"', "needs a path"),
        ('[[sources]]\nname = "x"\ntype = "gcp"', "sources.0.type"),
        ('[[sources]]\nname = "Bad Name"\ntype = "digitalocean"', "sources.0.name"),
        ('[[sources]]\nname = "x"\ntype = "digitalocean"\nschedule = "every hour"', "not an EventBridge schedule"),
        ('[[sources]]\nname = "x"\ntype = "digitalocean"\n[[sources]]\nname = "x"\ntype = "opencost"', "duplicate"),
        ('[[budgets]]\nname = "b"\namount = "-5"', "amount"),
        ('[[budgets]]\nname = "b"\namount = "5"\nperiod = "fortnight"', "period"),
        ('[[budgets]]\nname = "b"\namount = "5"\nthresholds = ["eighty"]', "threshold"),
        ('[[budgets]]\nname = "b"\namount = "5"\nscope = {colour = "red"}', "unknown scope keys"),
        ("unknown_key = 1", "unknown_key"),
        ('[api]\nkeys = ["grafana", "Grafana"]', "unique"),
        ('[api]\nkeys = ["has-dash"]', "api.keys.0"),
        ("[api]\nkeys = []", "api.keys"),
        ('[api]\ndashboard = "iam"\nauth = "api_key"', 'dashboard must be "cognito" or the same as auth'),
        ('[api]\ndashboard = "oidc"', "api.dashboard"),
        ("[api]\nsession_hours = 25", "api.session_hours"),
        ("[api]\nsession_hours = 0", "api.session_hours"),
        ('[api]\nlogin_domain = "Costs"', "api.login_domain"),
        ('[api]\nlogin_domain = "-costs"', "api.login_domain"),
        ('[api]\nlogin_domain = "my-cognito-costs"', "refuses a login domain containing 'cognito'"),
        ("currency = ", "not valid TOML"),
    ],
)
def test_mistakes_are_reported_with_their_location(snippet: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(snippet)
    assert fragment in str(err.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minute)", "rate(5 minutes)", "rate(1 day)", "cron(0 9 * * ? *)", "cron(0 18 ? * MON-FRI *)"],
)
def test_valid_schedules(expression: str) -> None:
    assert validate_schedule(expression) == expression


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minutes)", "rate(5 minute)", "rate(0 hours)", "cron(0 9 * * *)", "cron(0 9 * * * *)", "cron(0 9 ? * ? *)"],
)
def test_invalid_schedules(expression: str) -> None:
    with pytest.raises(ValueError):
        validate_schedule(expression)


def test_keys_of_another_source_type_are_refused() -> None:
    with pytest.raises(ConfigError, match="tag_keys do\\(es\\) not apply to type 'digitalocean'"):
        parse_config('[[sources]]\nname = "x"\ntype = "digitalocean"\ntag_keys = ["team"]')
    source = parse_config(
        '[[sources]]\nname = "x"\ntype = "aws_ce"\ntag_keys = ["team"]\ngroup_by_region = true'
    ).sources[0]
    assert source.tag_keys == ["team"] and source.group_by_region


def test_api_keys_default_to_one_and_follow_the_config() -> None:
    assert parse_config("").api.keys == ["default"]
    assert parse_config('[api]\nauth = "api_key"\nkeys = ["grafana", "finance"]').api.keys == ["grafana", "finance"]


def test_people_sign_in_with_cognito_unless_the_page_uses_the_machines_auth() -> None:
    api = parse_config("").api
    assert (api.dashboard, api.session_hours, api.login_domain) == ("cognito", 8, None)
    assert parse_config('[api]\nauth = "api_key"').api.dashboard == "cognito"
    assert parse_config('[api]\nauth = "api_key"\ndashboard = "api_key"').api.dashboard == "api_key"
    assert parse_config('[api]\ndashboard = "iam"').api.dashboard == "iam"
    configured = parse_config('[api]\nsession_hours = 12\nlogin_domain = "acme-costs"').api
    assert (configured.session_hours, configured.login_domain) == (12, "acme-costs")
