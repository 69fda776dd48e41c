"""What the stack deploys (checked against the synthesised template by the infra tests) and what each part is
assumed to do in a month. Every assumption is named here and said again in the estimate's ``what`` sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

# --- deployed: the infra tests compare these with the synthesised stack -----------------------------------------

# Each function's memory (MB), by its name in spendwatch.platform.resources.FUNCTIONS.
FUNCTION_MEMORY_MB: Final = {
    "collect": 512,
    "api": 256,
    "alert-evaluate": 512,
    "alert-deliver": 256,
    "price": 512,
    "recommend": 512,
    "report": 512,
}
# Schedules besides one per enabled source: the hourly staleness check (resources.STALENESS_SCHEDULE).
FIXED_SCHEDULES: Final = {"staleness": "rate(1 hour)"}
ALARMS: Final = 2  # alerting's failure queue: records waiting, and one waiting for over a day
CUSTOMER_MANAGED_KEYS: Final = 1  # the alerts topic's key (CloudWatch alarms can publish only to a topic whose key
# policy names them; the AWS managed aws/sns key's policy cannot)
# collection's dead letters, alerting's failures and the report schedules' dead letters: written only on failure
QUEUES: Final = 3

# --- assumed: what a month of running does ----------------------------------------------------------------------

# Seconds a collection run takes, by source type (digitalocean adds per droplet: its paced metric requests).
COLLECT_SECONDS: Final = {
    "aws_ce": Decimal(4),
    "digitalocean": Decimal(8),
    "opencost": Decimal(4),
    "vercel": Decimal(4),
    "focus": Decimal(10),
}
DIGITALOCEAN_SECONDS_PER_DROPLET: Final = Decimal("0.8")
# Charges a source reports per day (before the lookback multiplies them): a small account's shape.
CHARGES_PER_DAY: Final = {"aws_ce": 40, "digitalocean": 15, "opencost": 60, "vercel": 10, "focus": 200}
AGGREGATE_WRITE_UNITS: Final = 4  # a day's or month's aggregate item (every dimension) is ~4 KB
RUN_RECORD_WRITES: Final = 2  # started and finished
INVENTORY_WRITE_UNITS: Final = 10
UTILISATION_METRICS: Final = 3  # CPU average, CPU peak, memory: one usage item each per resource and day

# Seconds per invocation of the other functions.
API_SECONDS: Final = Decimal("0.3")
EVALUATE_SECONDS: Final = Decimal(2)  # a stream batch after a collection
STALENESS_SECONDS: Final = Decimal(1)
DELIVER_SECONDS: Final = Decimal(1)
PRICE_SECONDS: Final = Decimal(1)
RECOMMEND_SECONDS: Final = Decimal(2)
REPORT_SECONDS: Final = Decimal(5)  # a report: its figures, a page and a CSV to S3, then its delivery

# DynamoDB read request units per invocation.
API_READ_UNITS: Final = 25  # 13-14 queries for the heaviest routes (README benchmarks), most pages light
EVALUATE_READ_UNITS: Final = 20
STALENESS_READ_UNITS: Final = 5
DELIVER_READ_UNITS: Final = 2
PRICE_READ_UNITS: Final = 10
RECOMMEND_READ_UNITS: Final = 100
ALERT_WRITE_UNITS: Final = 3  # the alert, then its delivery state

LOG_KB_PER_INVOCATION: Final = Decimal(2)  # JSON application logs at INFO; platform logs at WARN
ACCESS_LOG_KB_PER_REQUEST: Final = Decimal(1)
ITEM_KB: Final = Decimal(1)
S3_STORED_GB: Final = Decimal("0.1")  # reports, exports and the access logs of the data bucket
S3_ACCESS_LOG_PUTS: Final = 730  # server access logs arrive in about one object an hour


@dataclass(frozen=True)
class Assumptions:
    """The volumes a config does not say; each can be changed (the command sets ``api_requests_per_day``)."""

    api_requests_per_day: int = 200
    alerts_per_month: int = 30
    dashboard_users: int = 5
    droplets: int = 10  # a digitalocean source with inventory
    ec2_instances: int = 20  # an aws_ce source with inventory: running instances
    ec2_types: int = 5  # instance and volume types priced with the Price List API, plus the IP price
    regions: int = 4  # an aws_ce source with group_by_region
    tag_values: int = 5  # values of each tag key (untagged counted), an aws_ce source with tag_keys
    focus_days: int = 45  # days of charges under a focus source's prefix (this month's and last month's export)
    focus_files: int = 2
    retention_days: int = 365  # stored history the table's size is counted for
