"""Per-function settings: every environment variable a function reads, validated, named in errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from spendwatch.platform.settings import (
    ApiSettings,
    CollectSettings,
    DeliverSettings,
    EvaluateSettings,
    SettingsError,
)

ROOT = Path(__file__).parents[2]


def test_common_settings_need_a_table_and_default_the_config() -> None:
    settings = EvaluateSettings.from_env({"SPENDWATCH_TABLE": "costs", "UNRELATED": "x"})
    assert (settings.table, settings.config_path) == ("costs", "spendwatch.toml")
    with pytest.raises(SettingsError, match="SPENDWATCH_TABLE"):
        EvaluateSettings.from_env({})
    with pytest.raises(SettingsError, match="SPENDWATCH_TABLE"):
        EvaluateSettings.from_env({"SPENDWATCH_TABLE": ""})  # empty counts as unset


def test_api_settings_check_the_auth_mode_and_keep_the_token_secret() -> None:
    settings = ApiSettings.from_env({"SPENDWATCH_TABLE": "t12", "SPENDWATCH_API_TOKEN": "s3cret-token"})
    assert settings.auth == "bearer"
    assert settings.token is not None and settings.token.get_secret_value() == "s3cret-token"
    assert "s3cret-token" not in repr(settings)
    with pytest.raises(SettingsError, match="SPENDWATCH_API_AUTH") as raised:
        ApiSettings.from_env({"SPENDWATCH_TABLE": "t12", "SPENDWATCH_API_AUTH": "none"})
    assert "'none'" not in str(raised.value)  # values (tokens, say) are never echoed


def test_collect_settings_hand_the_collectors_only_the_overrides_that_are_set() -> None:
    settings = CollectSettings.from_env(
        {
            "SPENDWATCH_TABLE": "t12",
            "SPENDWATCH_BUCKET": "exports",
            "DIGITALOCEAN_TOKEN": "do-token",
            "OPENCOST_URL": "http://127.0.0.1:9003",
            "VERCEL_TOKEN": "",
        }
    )
    assert settings.bucket == "exports"
    assert settings.provider_environment() == {
        "DIGITALOCEAN_TOKEN": "do-token",
        "OPENCOST_URL": "http://127.0.0.1:9003",
    }
    assert "do-token" not in repr(settings)


def test_deliver_settings_read_the_topic_and_the_local_webhook() -> None:
    settings = DeliverSettings.from_env(
        {
            "SPENDWATCH_TABLE": "t12",
            "SPENDWATCH_TOPIC_ARN": "arn:aws:sns:us-east-1:1:a",
            "SLACK_WEBHOOK_URL": "http://h",
        }
    )
    assert settings.topic_arn == "arn:aws:sns:us-east-1:1:a"
    assert settings.slack_webhook_url is not None and settings.slack_webhook_url.get_secret_value() == "http://h"
    assert "SLACK_WEBHOOK_URL" in DeliverSettings.variables()


def test_functions_read_the_environment_only_through_settings() -> None:
    # The settings model is the one list of what a function reads: no os.environ or getenv elsewhere.
    readers = []
    for path in sorted([*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    allowed = {"settings.py", "clock.py"}  # the settings themselves, and SPENDWATCH_NOW for the clock
    assert [r for r in readers if Path(r.split(":")[0]).name not in allowed] == []


SIGNIN = {
    "SPENDWATCH_TABLE": "t12",
    "SPENDWATCH_API_AUTH": "gateway",
    "SPENDWATCH_PUBLIC_URL": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/",
    "SPENDWATCH_COGNITO_POOL_ID": "eu-west-1_AbC123",
    "SPENDWATCH_COGNITO_CLIENT_ID": "1example23456789",
    "SPENDWATCH_COGNITO_LOGIN_URL": "https://spendwatch-123.auth.eu-west-1.amazoncognito.com",
}


def test_api_settings_sign_people_in_only_behind_the_gateway_with_every_cognito_setting() -> None:
    assert ApiSettings.from_env(SIGNIN).signs_in_people
    assert not ApiSettings.from_env({**SIGNIN, "SPENDWATCH_API_AUTH": "bearer"}).signs_in_people
    assert not ApiSettings.from_env({"SPENDWATCH_TABLE": "t12", "SPENDWATCH_API_AUTH": "gateway"}).signs_in_people
    with pytest.raises(SettingsError, match="SPENDWATCH_COGNITO_CLIENT_ID missing"):
        ApiSettings.from_env({**SIGNIN, "SPENDWATCH_COGNITO_CLIENT_ID": ""})
    with pytest.raises(SettingsError, match="SPENDWATCH_PUBLIC_URL"):
        ApiSettings.from_env({**SIGNIN, "SPENDWATCH_PUBLIC_URL": "https://abc123.example/prod"})  # no final "/"
