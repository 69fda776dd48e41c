"""Sign-in for people: a Cognito user pool with managed login and one app client for the dashboard page.

The API function checks the session itself (``functions/api/web/signin.py``): the page's routes need neither IAM
nor an API key at the gateway, while ``/v1`` and ``/metrics`` keep them for machines. Nothing here has a monthly
fee: the pool is on the Essentials plan (billed per monthly active user beyond the free tier), the domain is a
Cognito prefix domain (no certificate, no CloudFront of ours), and no secret is stored: Cognito signs the ID
token that serves as the session.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from constructs import Construct
from spendwatch.domain.config import ApiSettings
from spendwatch.platform import resources

from infra.stacks import names
from infra.stacks.nag import acknowledge

# Cognito's own e-mail (no SES set-up) sends the invitation of a user created with admin-create-user.
INVITATION_SUBJECT = "Your spendwatch sign-in"
INVITATION_BODY = (
    "You can now see spendwatch's cost dashboard at {url} . Sign in as {{username}} with the temporary password "
    "{{####}} ; you will choose your own password and set up an authenticator app (TOTP)."
)


def stage_url(rest_api: apigw.RestApi) -> str:
    """The stage's base URL, ending in "/", built from the API's id so the app client need not wait for the stage
    (whose deployment depends on the function, which depends on the client)."""
    stack = cdk.Stack.of(rest_api)
    return f"https://{rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/{names.API_STAGE_NAME}/"


class Signin(Construct):
    """The user pool (no self sign-up, e-mail as user name, strong passwords, TOTP MFA), its managed login domain
    and the page's app client (authorization code with PKCE, no client secret)."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: ApiSettings, rest_api: apigw.RestApi) -> None:
        super().__init__(scope, construct_id)
        self.public_url = stage_url(rest_api)
        self.user_pool = self._user_pool()
        prefix = settings.login_domain or f"spendwatch-{cdk.Stack.of(self).account}"
        self.domain = self.user_pool.add_domain(
            "Domain",
            cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix),
            managed_login_version=cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
        )
        self.client = self._client(settings.session_hours)
        # Managed login shows an app client's pages only once it has a style: Cognito's own look.
        cognito.CfnManagedLoginBranding(
            self,
            "Branding",
            user_pool_id=self.user_pool.user_pool_id,
            client_id=self.client.user_pool_client_id,
            use_cognito_provided_values=True,
        )

    @property
    def login_url(self) -> str:
        """The managed login's base URL: ``https://<prefix>.auth.<region>.amazoncognito.com``."""
        return self.domain.base_url()

    @property
    def environment(self) -> dict[str, str]:
        """What the API function needs to send people to the login and check their sessions."""
        return {
            resources.ENV_PUBLIC_URL: self.public_url,
            resources.ENV_COGNITO_POOL_ID: self.user_pool.user_pool_id,
            resources.ENV_COGNITO_CLIENT_ID: self.client.user_pool_client_id,
            resources.ENV_COGNITO_LOGIN_URL: self.login_url,
        }

    def _user_pool(self) -> cognito.UserPool:
        pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # people are added with the AWS CLI or console (README)
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),  # an authenticator app; no SMS fees
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            user_invitation=cognito.UserInvitationConfig(
                email_subject=INVITATION_SUBJECT, email_body=INVITATION_BODY.format(url=self.public_url)
            ),
            # Who may sign in outlives the stack, like the cost data.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            pool,
            "AwsSolutions-COG8",
            "Essentials, not Plus: Plus bills every monthly active user from the first; MFA (TOTP) is required and "
            "passwords are long and mixed, for the few people who read the dashboard.",
        )
        return pool

    def _client(self, session_hours: int) -> cognito.UserPoolClient:
        session = cdk.Duration.hours(session_hours)
        return self.user_pool.add_client(
            "Dashboard",
            user_pool_client_name="spendwatch-dashboard",
            generate_secret=False,  # a PKCE-protected code flow; nothing secret to keep in the function
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=[f"{self.public_url}auth/callback"],
                logout_urls=[self.public_url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            # The ID token is the session: it lasts session_hours. No refresh: signing in again renews it.
            id_token_validity=session,
            access_token_validity=session,
            refresh_token_validity=session,
            enable_token_revocation=True,
        )
