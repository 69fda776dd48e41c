"""Secrets: an override from the function's settings locally, Secrets Manager when deployed; never logged."""

from __future__ import annotations

from collections.abc import Mapping

SECRET_MAX_AGE_SECONDS = 300


class SecretError(RuntimeError):
    """A secret that is neither in the environment nor readable from Secrets Manager."""


def read_secret(env_name: str, secret_name: str, overrides: Mapping[str, str] | None = None) -> str | None:
    """``overrides[env_name]`` if set (local runs), else the Secrets Manager secret ``secret_name`` (cached 5 min).

    ``overrides`` are the function's settings by variable name (``CollectSettings.provider_environment()``).
    """
    value = (overrides or {}).get(env_name)
    if value:
        return value
    from aws_lambda_powertools.utilities.parameters import get_secret
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        secret = get_secret(secret_name, max_age=SECRET_MAX_AGE_SECONDS)
    except GetParameterError as exc:
        # The provider's message names the secret, never its value.
        raise SecretError(f"cannot read secret {secret_name!r} (or set {env_name} locally)") from exc
    return secret if isinstance(secret, str) else secret.decode()
