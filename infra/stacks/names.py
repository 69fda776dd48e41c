"""Names and fixed settings of the deployed stack, kept in one place."""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_logs as logs
from spendwatch.platform import resources

STACK_ID: Final = "Spendwatch"
SERVICE_NAME: Final = "spendwatch"
TAGS: Final = {"project": "spendwatch"}
# Every resource carries the component it belongs to (the stack's top-level construct: storage, collection, api...),
# so the deployment's own cost shows up per component in Cost Explorer and in spendwatch itself.
COMPONENT_TAG: Final = "spendwatch:component"
# The component of resources made at the stack's root (CDK's own helpers), and of construct ids renamed here.
ROOT_COMPONENT: Final = "shared"
COMPONENT_NAMES: Final = {"CommonLayer": "shared"}

# Lambda unpacks the function asset into /var/task, so the config shipped beside the handler lands here.
CONFIG_FILE_NAME: Final = "spendwatch.toml"
DEPLOYED_CONFIG_PATH: Final = f"/var/task/{CONFIG_FILE_NAME}"

# The API Gateway authenticates deployed callers, so the function must not ask for a bearer token too.
API_AUTH_GATEWAY: Final = "gateway"
API_STAGE_NAME: Final = "prod"

LOG_LEVEL: Final = "INFO"
LOG_RETENTION: Final = logs.RetentionDays.ONE_MONTH

# Collection calls paid or rate-limited provider APIs; a small ceiling stops a schedule storm from fanning out.
# Accounts whose concurrency quota is still the initial 10 cannot reserve any: use -c collect_concurrency=none.
COLLECT_RESERVED_CONCURRENCY: Final = 2
ASYNC_RETRY_ATTEMPTS: Final = 2

# Alerting. Delivery waits out Slack's Retry-After (up to a minute per message group) within one invocation.
ALERT_EVALUATE_MEMORY_MB: Final = 512
ALERT_EVALUATE_TIMEOUT_SECONDS: Final = 120
ALERT_DELIVER_MEMORY_MB: Final = 256
ALERT_DELIVER_TIMEOUT_SECONDS: Final = 300
STALENESS_SCHEDULE: Final = resources.STALENESS_SCHEDULE
# Pricing reads a month of usage per touched month and writes that month's priced days.
PRICE_MEMORY_MB: Final = 512
PRICE_TIMEOUT_SECONDS: Final = 120
# Recommending reads each inventory, the utilisation window, a week of OpenCost charges and (with required tags) a
# month of charges; 200 droplets' evaluation takes well under a second.
RECOMMEND_MEMORY_MB: Final = 512
RECOMMEND_TIMEOUT_SECONDS: Final = 120
# Reporting reads a year of daily totals (the projection) and the period's breakdowns, and writes two small files.
REPORT_MEMORY_MB: Final = 512
REPORT_TIMEOUT_SECONDS: Final = 120
# A failure record still in the queue after a day notifies again.
FAILURE_AGE_ALARM_SECONDS: Final = 24 * 60 * 60
