"""What Lambda hands a function: the EventBridge scheduled event and the context object."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from spendwatch.platform.clock import utc_now

# moto's default account, so ARNs built here match the resources moto creates.
LOCAL_ACCOUNT = "123456789012"


def collect_rule_name(source: str) -> str:
    """The EventBridge rule that fires a source's collection (as the CDK app names it)."""
    return f"spendwatch-collect-{source}"


def scheduled_event(
    source: str,
    fired_at: datetime,
    region: str,
    window: tuple[date, date] | None = None,
    account: str = LOCAL_ACCOUNT,
) -> dict[str, Any]:
    """An EventBridge "Scheduled Event" for a source's collect rule; ``window`` makes it a backfill."""
    detail: dict[str, str] = {"source": source}
    if window is not None:
        detail["start"], detail["end"] = window[0].isoformat(), window[1].isoformat()
    fired = fired_at.astimezone(UTC) if fired_at.tzinfo else fired_at.replace(tzinfo=UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": fired.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{collect_rule_name(source)}"],
        "detail": detail,
    }


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that powertools and handlers read."""

    function_name: str
    region: str
    timeout_seconds: float = 900.0
    memory_limit_in_mb: int = 512
    account: str = LOCAL_ACCOUNT
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    _deadline: float = field(init=False, default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        """The function's ARN, as Lambda reports it."""
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        """The log group Lambda would write to."""
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        """A log stream name in Lambda's format."""
        return f"{utc_now():%Y/%m/%d}/[{self.function_version}]local"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
