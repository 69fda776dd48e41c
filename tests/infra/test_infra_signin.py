"""People sign in to the page through Cognito while machines keep API keys: the user pool, its managed login
domain, the app client, the page's routes, the function's settings, tags, outputs, cdk-nag and cfn-lint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match
from cfnlint.api import ManualArgs, lint_file
from spendwatch.platform import resources

from tests.infra.conftest import BASE_CONFIG, Synthesise, Synthesised

CONFIG = (
    BASE_CONFIG
    + """
[api]
auth = "api_key"
keys = ["grafana"]
session_hours = 12
login_domain = "acme-costs"
"""
)
# How CloudFormation spells the stage URL the app client sends people back to (built from the API's id).
STAGE_URL = [
    "https://",
    {"Ref": Match.string_like_regexp("^ApiRestApi")},
    ".execute-api.",
    {"Ref": "AWS::Region"},
    ".",
    {"Ref": "AWS::URLSuffix"},
    "/prod/",
]


@pytest.fixture(scope="module")
def synth(synthesiser: Synthesise, tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    return synthesiser(tmp_path_factory.mktemp("signin"), CONFIG)


def _one(synth: Synthesised, resource_type: str) -> tuple[str, dict[str, Any]]:
    (found,) = synth.resources(resource_type).items()
    return found[0], found[1]["Properties"]


def _url(suffix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [*STAGE_URL[:-1], f"/prod/{suffix}"]]}


def test_user_pool_is_invitation_only_with_email_names_strong_passwords_and_totp(synth: Synthesised) -> None:
    _, pool = _one(synth, "AWS::Cognito::UserPool")
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}
    assert pool["Policies"]["PasswordPolicy"] == {
        "MinimumLength": 14,
        "RequireLowercase": True,
        "RequireUppercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
        "TemporaryPasswordValidityDays": 3,
    }
    assert pool["MfaConfiguration"] == "ON"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["UserPoolTier"] == "ESSENTIALS"
    invitation = pool["AdminCreateUserConfig"]["InviteMessageTemplate"]["EmailMessage"]["Fn::Join"][1]
    assert "{username}" in invitation[-1] and "{####}" in invitation[-1]
    (logical_id,) = synth.resources("AWS::Cognito::UserPool")
    assert synth.template_json["Resources"][logical_id]["DeletionPolicy"] == "Retain"


def test_managed_login_on_a_cognito_prefix_domain_with_cognitos_style(synth: Synthesised) -> None:
    pool_id, _ = _one(synth, "AWS::Cognito::UserPool")
    client_id, _ = _one(synth, "AWS::Cognito::UserPoolClient")
    _, domain = _one(synth, "AWS::Cognito::UserPoolDomain")
    assert domain == {"Domain": "acme-costs", "ManagedLoginVersion": 2, "UserPoolId": {"Ref": pool_id}}
    assert "CustomDomainConfig" not in domain  # no certificate, no CloudFront distribution of ours
    _, branding = _one(synth, "AWS::Cognito::ManagedLoginBranding")
    assert branding == {
        "ClientId": {"Ref": client_id},
        "UseCognitoProvidedValues": True,
        "UserPoolId": {"Ref": pool_id},
    }


def test_app_client_uses_the_code_flow_back_to_the_api_with_tokens_lasting_the_session(synth: Synthesised) -> None:
    _, client = _one(synth, "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is False  # a public client: PKCE protects the code (functions/api/web/signin.py)
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == ["openid", "email"]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    synth.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {"CallbackURLs": [_url("auth/callback")], "LogoutURLs": [{"Fn::Join": ["", STAGE_URL]}]},
    )
    assert (client["IdTokenValidity"], client["TokenValidityUnits"]["IdToken"]) == (720, "minutes")


def test_page_routes_are_the_functions_to_check_and_machines_keep_the_api_key(synth: Synthesised) -> None:
    methods = {
        (m["Properties"]["HttpMethod"], str(m["Properties"]["ResourceId"])): m["Properties"]
        for m in synth.resources("AWS::ApiGateway::Method").values()
    }
    people = {
        (verb, resource): m
        for (verb, resource), m in methods.items()
        if "auth" in resource or "RootResourceId" in resource
    }
    assert sorted(verb for verb, _ in people) == ["GET", "GET", "POST"]
    assert all(m["AuthorizationType"] == "NONE" and not m.get("ApiKeyRequired") for m in people.values())
    machines = [m for key, m in methods.items() if key not in people and "health" not in key[1]]
    assert len(machines) == 2  # /metrics and /v1/{proxy+}
    assert all(m["ApiKeyRequired"] is True for m in machines)


def test_the_function_knows_the_pool_the_client_the_login_and_its_own_url(synth: Synthesised) -> None:
    pool_id, _ = _one(synth, "AWS::Cognito::UserPool")
    client_id, _ = _one(synth, "AWS::Cognito::UserPoolClient")
    domain_id, _ = _one(synth, "AWS::Cognito::UserPoolDomain")
    synth.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "api.handler.handler",
            "Environment": {
                "Variables": Match.object_like(
                    {
                        resources.ENV_API_AUTH: "gateway",
                        resources.ENV_PUBLIC_URL: {"Fn::Join": ["", STAGE_URL]},
                        resources.ENV_COGNITO_POOL_ID: {"Ref": pool_id},
                        resources.ENV_COGNITO_CLIENT_ID: {"Ref": client_id},
                        resources.ENV_COGNITO_LOGIN_URL: {
                            "Fn::Join": [
                                "",
                                [
                                    "https://",
                                    {"Ref": domain_id},
                                    ".auth.",
                                    {"Ref": "AWS::Region"},
                                    ".amazoncognito.com",
                                ],
                            ]
                        },
                    }
                )
            },
        },
    )


def test_outputs_name_the_pool_the_client_and_the_login(synth: Synthesised) -> None:
    outputs = synth.template_json["Outputs"]
    assert {"UserPoolId", "UserPoolClientId", "LoginUrl", "ApiUrl", "ApiKeyIdgrafana"} <= set(outputs)


def test_every_taggable_resource_carries_the_project_tag(synth: Synthesised) -> None:
    tagged: dict[str, Any] = {}
    for logical_id, resource in synth.template_json["Resources"].items():
        properties = resource.get("Properties", {})
        tags = properties.get("Tags", properties.get("UserPoolTags"))
        if tags is not None:
            pairs = tags if isinstance(tags, dict) else {tag["Key"]: tag["Value"] for tag in tags}
            tagged[logical_id] = pairs.get("project")
    assert "UserPool" in "".join(tagged)  # the pool's tags are UserPoolTags; its client, domain and style take none
    assert set(tagged.values()) == {"spendwatch"}


def test_cdk_nag_is_clean_with_every_acknowledgment_used(synth: Synthesised) -> None:
    for plugin in synth.validation_report()["pluginReports"]:
        assert plugin["conclusion"] == "success", plugin
        assert plugin.get("violations", []) == []
    assert synth.unused_acknowledgments() == set()
    suppressed = {
        violation["acknowledgedId"]
        for plugin in synth.validation_report()["pluginReports"]
        for violation in plugin.get("suppressedViolations", [])
    }
    assert "AwsSolutions::AwsSolutions-COG8" in suppressed  # Essentials, not Plus: said why in infra/stacks/signin.py
    assert "AwsSolutions::AwsSolutions-COG2" not in suppressed  # MFA is required, not excused


def test_cfn_lint_is_clean(synth: Synthesised) -> None:
    matches = lint_file(Path(synth.template_file), ManualArgs(ignore_checks=["W3005"]))
    assert [f"{m.rule.id} {m.message}" for m in matches] == []
