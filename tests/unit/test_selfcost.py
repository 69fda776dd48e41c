"""``spendwatch cost-of-running``: runs a month from schedules, volumes priced from the list-price file, and the
command's JSON and exit codes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from spendwatch.domain.config import parse_config
from spendwatch.domain.money import to_cents
from spendwatch.domain.selfcost import footprint
from spendwatch.domain.selfcost.estimate import estimate
from spendwatch.domain.selfcost.footprint import Assumptions
from spendwatch.domain.selfcost.prices import PRICES_FILE, load_prices
from spendwatch.domain.selfcost.schedules import DAYS_PER_MONTH, ScheduleError, runs_per_month
from spendwatch.platform import resources

from spendwatch_local import cli

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "spendwatch.example.toml"
PRICES_PATH = ROOT / "layers" / "common" / "python" / "spendwatch" / "domain" / "selfcost" / PRICES_FILE

FOCUS = """
[[sources]]
name = "focus-exports"
type = "focus"
path = "s3://bucket/focus/"
schedule = "rate(6 hours)"
"""
AWS = """
[[sources]]
name = "aws"
type = "aws_ce"
schedule = "rate(6 hours)"
"""


# --- runs a month ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 hour)", "730"),
        ("rate(6 hours)", "121.6666666666666666666666667"),
        ("rate(1 day)", "30.41666666666666666666666667"),
        ("rate(30 minutes)", "1460"),
        ("cron(0 */6 * * ? *)", "121.6666666666666666666666667"),  # 4 a day, 365 days, / 12
        ("cron(0 9 * * ? *)", "30.41666666666666666666666667"),
        ("cron(0 9 1 * ? *)", "1"),  # monthly
        ("cron(0 9 ? * MON *)", "4.333333333333333333333333333"),  # 52 Mondays in 2026
        ("cron(0 9 ? * MON-FRI *)", "21.75"),  # 261 weekdays (2026 starts on a Thursday)
        ("cron(0 9 L * ? *)", "1"),
        ("cron(0 9 15W * ? *)", "1"),
        ("cron(0 9 ? * 2#1 *)", "1"),  # first Monday
        ("cron(0 9 ? * 6L *)", "1"),  # last Friday
        ("cron(0,30 8-9 ? JAN,JUL * *)", "20.66666666666666666666666667"),  # 4 a day on 31 + 31 days
        ("cron(*/15 * * * ? *)", "2920"),
    ],
)
def test_runs_per_month(expression: str, runs: str) -> None:
    assert runs_per_month(expression) == Decimal(runs)


@pytest.mark.parametrize("expression", ["cron(0 24 * * ? *)", "cron(0 9 * * ?)", "rate(0 hours)", "every hour"])
def test_schedules_that_cannot_be_counted(expression: str) -> None:
    with pytest.raises(ScheduleError):
        runs_per_month(expression)


def test_fixed_schedules_are_the_deployed_ones() -> None:
    assert footprint.FIXED_SCHEDULES["staleness"] == resources.STALENESS_SCHEDULE
    assert set(footprint.FUNCTION_MEMORY_MB) == set(resources.FUNCTIONS)


# --- the price file ----------------------------------------------------------------------------------------------


def test_every_price_has_a_unit_a_source_and_the_file_a_date() -> None:
    raw = json.loads(PRICES_PATH.read_text(encoding="utf-8"))
    prices = load_prices()
    assert prices.region == "us-east-1"
    assert prices.currency == "USD"
    assert prices.recorded.isoformat() == raw["recorded"]
    for key, price in prices.prices.items():
        assert price.unit and price.source.startswith("https://"), key
        assert price.unit_price == Decimal(raw["prices"][key]["price"]) / Decimal(raw["prices"][key].get("per", "1"))
    # The paid API the collectors call: $0.01 a request.
    assert prices["cost_explorer_api_requests"].unit_price == Decimal("0.01")


# --- the estimate ------------------------------------------------------------------------------------------------


def test_each_item_is_its_volume_times_the_files_unit_price_and_the_total_their_sum() -> None:
    raw = json.loads(PRICES_PATH.read_text(encoding="utf-8"))["prices"]
    result = estimate(parse_config(FOCUS + AWS))
    assert result.items
    for item in result.items:
        entry = raw[item.price_key]
        assert item.service == entry["service"]
        assert item.monthly == item.quantity * Decimal(entry["price"]) / Decimal(entry.get("per", "1"))
    assert result.monthly_total == sum(item.monthly for item in result.items)
    document = result.as_json()
    assert document["monthly_total"] == str(to_cents(result.monthly_total))
    shares = sum(Decimal(share["monthly"]) for share in document["by_service"])
    assert abs(shares - Decimal(document["monthly_total"])) <= Decimal("0.01") * len(document["by_service"])


def test_a_config_with_more_sources_costs_more() -> None:
    one = estimate(parse_config(FOCUS)).monthly_total
    two = estimate(parse_config(FOCUS + AWS)).monthly_total
    assert two > one
    # Cost Explorer: 4 runs a day x 1 request x $0.01.
    (explorer,) = [i for i in estimate(parse_config(AWS)).items if i.price_key == "cost_explorer_api_requests"]
    assert explorer.quantity == Decimal(730) / 6
    assert to_cents(explorer.monthly) == Decimal("1.22")


def test_a_more_frequent_schedule_costs_more() -> None:
    hourly = estimate(parse_config(AWS.replace("rate(6 hours)", "rate(1 hour)"))).monthly_total
    assert hourly > estimate(parse_config(AWS)).monthly_total


def test_disabled_sources_cost_nothing() -> None:
    disabled = estimate(parse_config(FOCUS + AWS + "enabled = false\n"))
    assert disabled.monthly_total == estimate(parse_config(FOCUS)).monthly_total
    assert "cost_explorer_api_requests" not in {item.price_key for item in disabled.items}


def test_cost_explorer_tag_keys_and_regions_add_requests() -> None:
    def requests(extra: str) -> Decimal:
        items = estimate(parse_config(AWS + extra)).items
        return next(i.quantity for i in items if i.price_key == "cost_explorer_api_requests")

    runs = Decimal(730) / 6
    assert requests("") == runs
    assert requests("group_by_region = true\n") == 2 * runs
    # region: +1; the tag key: one per region (4 assumed).
    assert requests('group_by_region = true\ntag_keys = ["team"]\n') == 6 * runs
    # 1 + 1 + 5 + 25 + 125 value paths would be 157 requests: a run stops at 50.
    assert requests('tag_keys = ["a", "b", "c", "d"]\n') == 50 * runs


def test_api_traffic_and_alerts_scale_their_items() -> None:
    config = parse_config(FOCUS)
    quiet = estimate(config, Assumptions(api_requests_per_day=0))
    busy = estimate(config, Assumptions(api_requests_per_day=100_000))
    assert "apigateway_rest_requests" not in {i.price_key for i in quiet.items}
    (gateway,) = [i for i in busy.items if i.price_key == "apigateway_rest_requests"]
    assert gateway.quantity == 100_000 * DAYS_PER_MONTH
    assert busy.monthly_total > quiet.monthly_total


def test_secrets_are_the_ones_read_and_email_channels_pay_deliveries() -> None:
    config = parse_config(
        FOCUS
        + '[[sources]]\nname = "do"\ntype = "digitalocean"\n'
        + '[[channels]]\ntype = "email"\naddress = "a@example.com"\n'
        + '[[channels]]\ntype = "pagerduty"\n'
    )
    items = {item.price_key: item for item in estimate(config).items}
    assert items["secretsmanager_secrets"].quantity == 3  # DigitalOcean token, Slack webhook, PagerDuty key
    # Every alert and every report (daily, weekly, monthly by default) reaches the one e-mail channel.
    reports = Decimal(730) / 24 + Decimal(730) / 24 / 7 + 1
    assert items["sns_email_deliveries"].quantity == Assumptions().alerts_per_month + reports
    assert items["eventbridge_scheduler_invocations"].quantity == reports
    assert items["kms_customer_managed_keys"].quantity == footprint.CUSTOMER_MANAGED_KEYS


def test_free_tiers_only_lower_the_total() -> None:
    result = estimate(parse_config(EXAMPLE.read_text(encoding="utf-8")))
    assert Decimal(0) <= result.after_free_tier() < result.monthly_total


def test_the_readme_states_the_example_configs_total() -> None:
    total = estimate(parse_config(EXAMPLE.read_text(encoding="utf-8"))).as_json()["monthly_total"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"**${total} a month**" in readme


# --- the command -------------------------------------------------------------------------------------------------


def test_command_prints_the_estimate_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["cost-of-running", "--config", str(EXAMPLE), "--api-requests-per-day", "1000"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["currency"] == "USD"
    assert Decimal(document["monthly_total"]) > 0
    assert document["api_requests_per_day"] == 1000
    for item in document["items"]:
        assert set(item) >= {"service", "what", "monthly"}
        assert Decimal(item["monthly"]) == to_cents(Decimal(item["monthly"]))
        assert isinstance(item["what"], str) and "$" in item["what"]
    assert {item["service"] for item in document["items"]} >= {"AWS Lambda", "Amazon DynamoDB", "AmazonCloudWatch"}


def test_command_fails_readably_on_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.toml"
    assert cli.main(["cost-of-running", "--config", str(missing)]) == 2
    assert "no config file" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text(FOCUS.replace("rate(6 hours)", "cron(0 25 * * ? *)"), encoding="utf-8")
    assert cli.main(["cost-of-running", "--config", str(broken)]) == 2
    assert "cron(0 25 * * ? *)" in capsys.readouterr().err
    invalid = tmp_path / "invalid.toml"
    invalid.write_text('[[sources]]\nname = "x"\ntype = "nope"\n', encoding="utf-8")
    assert cli.main(["cost-of-running", "--config", str(invalid)]) == 2
    assert capsys.readouterr().out == ""


def test_command_refuses_a_negative_request_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["cost-of-running", "--api-requests-per-day", "-5"])
    assert exit_info.value.code == 2
    assert "whole number" in capsys.readouterr().err
