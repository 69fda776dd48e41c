"""``spendwatch test-alert``: a clearly marked test alert sent to every channel, and what each one did.

Uses the channels the functions use (``spendwatch.channels``): SNS when a topic is known, Slack or the console,
and each ``[[channels]]`` entry. Against ``AWS_ENDPOINT_URL`` (``spendwatch local``'s moto) when set, else real
AWS; the topic is ``SPENDWATCH_TOPIC_ARN``, or locally the local runtime's topic. Nothing is stored.
"""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping
from dataclasses import asdict

import boto3
from spendwatch.channels.configured import trial_channels
from spendwatch.channels.trial import run_trial, trial_alert
from spendwatch.domain.config import ConfigError
from spendwatch.platform import resources
from spendwatch.platform.clock import utc_now
from spendwatch.platform.settings import ChannelSettings, SettingsError

from spendwatch_local import localconfig
from spendwatch_local.aws import DEFAULT_REGION, ENDPOINT_ENV
from spendwatch_local.console import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Console


def run_test_alert(config: str | None, console: Console) -> int:
    """Send the test alert; print ``{"channels": [{channel, delivered, error}]}``; 0 when every channel delivered."""
    environ = os.environ
    try:
        path = localconfig.config_path(config, environ)
        loaded = localconfig.read_config(path)
        settings = ChannelSettings.from_env({**environ, **_local_targets(environ)})
    except (ConfigError, SettingsError) as exc:
        console.error(str(exc))
        return EXIT_USAGE
    outcomes = run_trial(trial_channels(loaded, settings), trial_alert(utc_now()))
    console.line(json.dumps({"channels": [asdict(outcome) for outcome in outcomes]}, indent=2))
    for outcome in outcomes:
        if not outcome.delivered:
            console.error(f"{outcome.channel}: not delivered: {outcome.error}")
    return EXIT_OK if outcomes and all(o.delivered for o in outcomes) else EXIT_FAILED


def _local_targets(environ: MutableMapping[str, str]) -> dict[str, str]:
    """Against a local endpoint: dummy credentials, and the local runtime's topic unless one is named."""
    targets = {resources.ENV_TABLE: environ.get(resources.ENV_TABLE) or resources.LOCAL_TABLE_NAME}
    if not environ.get(ENDPOINT_ENV):
        return targets
    environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    if not (environ.get("AWS_ACCESS_KEY_ID") or environ.get("AWS_PROFILE")):
        environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    if not environ.get(resources.ENV_TOPIC):
        # CreateTopic returns the existing topic's ARN: what `spendwatch local` provisioned.
        sns = boto3.client("sns", region_name=environ["AWS_DEFAULT_REGION"])
        targets[resources.ENV_TOPIC] = str(sns.create_topic(Name=resources.LOCAL_TOPIC_NAME)["TopicArn"])
    return targets
