"""API: the api function behind an API Gateway REST API that authenticates every machine route (IAM or API keys);
with ``dashboard = "cognito"`` the page's routes are for people signed in through a Cognito user pool (``signin``)."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from spendwatch.domain.config import Config
from spendwatch.platform import resources

from infra.stacks import names
from infra.stacks.channels import grant_sending
from infra.stacks.nag import acknowledge
from infra.stacks.shared import SpendwatchFunction
from infra.stacks.signin import Signin
from infra.stacks.storage import Storage

# One JSON line per request: who called (IAM user or API key id), what, the outcome and how long it took.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "caller": "$context.identity.caller",
    "user": "$context.identity.user",
    "userArn": "$context.identity.userArn",
    "apiKeyId": "$context.identity.apiKeyId",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "errorMessage": "$context.error.message",
}


# API Gateway's own refusals, mapped to the codes the function uses for the same situations.
GATEWAY_ERRORS = {
    apigw.ResponseType.THROTTLED: "throttled",
    apigw.ResponseType.QUOTA_EXCEEDED: "throttled",
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: "not_found",  # what API Gateway answers for unknown paths
    apigw.ResponseType.ACCESS_DENIED: "forbidden",
    apigw.ResponseType.INVALID_API_KEY: "forbidden",
    apigw.ResponseType.INVALID_SIGNATURE: "forbidden",
    apigw.ResponseType.EXPIRED_TOKEN: "unauthorized",
    apigw.ResponseType.UNAUTHORIZED: "unauthorized",
    apigw.ResponseType.REQUEST_TOO_LARGE: "invalid_body",
    apigw.ResponseType.DEFAULT_4_XX: "bad_request",
    apigw.ResponseType.INTEGRATION_TIMEOUT: "unavailable",
    apigw.ResponseType.DEFAULT_5_XX: "unavailable",
}


def _error_template(code: str) -> str:
    """A mapping template writing ``{"error": {"code", "message"}}``; messageString is already JSON-quoted."""
    return '{"error": {"code": "' + code + '", "message": $context.error.messageString}}'


class Api(Construct):
    """REST API with IAM or API-key auth (from the config), people's sign-in to the page, stage throttling and JSON
    access logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Config,
        storage: Storage,
        layer: lambda_.ILayerVersion,
        code: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = config.api
        self.handler = SpendwatchFunction(
            self,
            "Handler",
            name="api",
            code=code,
            layer=layer,
            memory_size=256,
            # API Gateway gives up on an integration after 29 s; running longer would only waste money.
            timeout=cdk.Duration.seconds(29),
            description="Serve cost history, projections, budgets and alerts over HTTP",
            environment={
                resources.ENV_TABLE: storage.table.table_name,
                resources.ENV_BUCKET: storage.bucket.bucket_name,
                resources.ENV_CONFIG: names.DEPLOYED_CONFIG_PATH,
                resources.ENV_API_AUTH: names.API_AUTH_GATEWAY,
                resources.ENV_TOPIC: storage.topic.topic_arn,
            },
        )
        # Read for history; write for pushed usage (POST /v1/usage) and its idempotency records.
        storage.table.grant_read_write_data(self.handler.function)
        # POST /v1/alerts/test sends a test alert through every channel, as delivery does.
        grant_sending(self.handler, config, storage, check_email=True)
        self.rest_api = self._rest_api()
        self.signin: Signin | None = None
        if self.settings.dashboard == "cognito":
            self.signin = Signin(self, "Signin", settings=self.settings, rest_api=self.rest_api)
            for name, value in self.signin.environment.items():
                self.handler.function.add_environment(name, value)
        self.api_keys = self._usage_plan() if self.settings.auth == "api_key" else {}
        self._routes()

    @property
    def url(self) -> str:
        """The stage's base URL."""
        return self.rest_api.url

    def _rest_api(self) -> apigw.RestApi:
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=names.LOG_RETENTION, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="spendwatch HTTP API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account-wide API Gateway logging role is a per-region singleton this stack must not take over.
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=names.API_STAGE_NAME,
                throttling_rate_limit=self.settings.throttle_rate,
                throttling_burst_limit=self.settings.throttle_burst,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                # No X-Ray: the functions are not traced, so a trace would hold only the gateway's own segment,
                # whose latencies the access log already carries; tracing cost $5 per million requests on top of
                # API Gateway's $3.50.
                tracing_enabled=False,
            ),
        )
        self._gateway_errors(rest_api)
        # RestApi adds an unnamed "Endpoint" output; the stack exports the URL under a stable name instead.
        rest_api.node.try_remove_child("Endpoint")
        acknowledge(
            rest_api,
            "AwsSolutions-APIG2",
            "Requests are validated in the function against the pydantic models its OpenAPI document is built from.",
        )
        acknowledge(
            rest_api,
            "AwsSolutions-APIG3",
            "No WAF: every route but /health needs IAM or an API key, and stage throttling caps request rates.",
        )
        acknowledge(
            rest_api,
            "AwsSolutions-APIG6",
            "Execution logging needs the region-wide API Gateway CloudWatch role; JSON access logs cover each request.",
        )
        return rest_api

    @staticmethod
    def _gateway_errors(rest_api: apigw.RestApi) -> None:
        """Answers API Gateway gives itself (throttled, no credentials...) in the API's one error shape."""
        for response_type, code in GATEWAY_ERRORS.items():
            rest_api.add_gateway_response(
                f"GatewayError{response_type.response_type}",
                type=response_type,
                response_headers={"Content-Type": "'application/json'"},
                templates={"application/json": _error_template(code)},
            )

    def _usage_plan(self) -> dict[str, apigw.ApiKey]:
        """One key per configured caller; a usage plan's throttle applies to each of its keys on its own."""
        plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            description="spendwatch API callers",
            throttle=apigw.ThrottleSettings(
                rate_limit=self.settings.throttle_rate, burst_limit=self.settings.throttle_burst
            ),
        )
        plan.add_api_stage(stage=self.rest_api.deployment_stage)
        keys = {}
        for name in self.settings.keys:
            key = apigw.ApiKey(self, f"ApiKey{name}", description=f"spendwatch API key for {name}")
            plan.add_api_key(key)
            keys[name] = key
        return keys

    def _routes(self) -> None:
        # Invoke permissions scoped to each method; console test-invoke (which skips method auth) is not needed.
        integration = apigw.LambdaIntegration(self.handler.function, allow_test_invoke=False)
        root = self.rest_api.root
        health = root.add_resource("health").add_method(
            "GET", integration, authorization_type=apigw.AuthorizationType.NONE
        )
        acknowledge(health, "AwsSolutions-APIG4", "/health is the liveness probe: no credentials, and no data.")
        acknowledge(health, "AwsSolutions-COG4", "/health is the liveness probe: no credentials, and no data.")
        if self.signin is not None:
            # The dashboard page and the steps of signing in to it, for people.
            self._signed_in(root, "GET", integration)
            sign_in = root.add_resource("auth")
            self._signed_in(sign_in.add_resource("callback"), "GET", integration)
            self._signed_in(sign_in.add_resource("signout"), "POST", integration)
        else:
            self._protected(root, "GET", integration)  # the dashboard page
        self._protected(root.add_resource("metrics"), "GET", integration)
        self._protected(root.add_resource("v1").add_resource("{proxy+}"), "ANY", integration)

    @staticmethod
    def _signed_in(resource: apigw.IResource, http_method: str, integration: apigw.Integration) -> apigw.Method:
        method = resource.add_method(http_method, integration, authorization_type=apigw.AuthorizationType.NONE)
        reason = (
            "People's routes: the function checks the Cognito-signed session cookie before anything else and sends "
            "a browser without one to the managed login; a gateway authorizer could only answer 401."
        )
        acknowledge(method, "AwsSolutions-APIG4", reason)
        acknowledge(
            method,
            "AwsSolutions-COG4",
            "The session is a cookie, which a Cognito user pool authorizer does not read (it takes the token from a "
            "header); the function verifies the pool's ID token in it against the pool's keys.",
        )
        return method

    def _protected(self, resource: apigw.IResource, http_method: str, integration: apigw.Integration) -> apigw.Method:
        api_key = self.settings.auth == "api_key"
        method = resource.add_method(
            http_method,
            integration,
            authorization_type=apigw.AuthorizationType.NONE if api_key else apigw.AuthorizationType.IAM,
            api_key_required=api_key,
        )
        if api_key:
            acknowledge(method, "AwsSolutions-APIG4", "Callers present the usage plan's API key (api.auth = api_key).")
        acknowledge(
            method,
            "AwsSolutions-COG4",
            f"Machines authenticate with {'an API key' if api_key else 'SigV4 (IAM)'}, as configured; the Cognito "
            "pool, when there is one, is for people on the dashboard page.",
        )
        return method
