"""EC2 utilisation per instance and UTC day from CloudWatch ``GetMetricData``, many instances per request.

Each instance takes three queries at ``Period = 86400``: ``Average`` and ``Maximum`` of ``AWS/EC2 CPUUtilization``,
and ``Average`` of ``CWAgent mem_used_percent`` by ``InstanceId`` (EC2 does not measure memory itself: only
instances whose CloudWatch agent publishes it by InstanceId alone, e.g. with ``aggregation_dimensions =
[["InstanceId"]]``, have it, and rightsizing needs it). A request holds at most 500 queries, so 166 instances share
a request; each request is paged with ``NextToken`` (a result may continue on the next page). Days are complete
UTC days: [midnight ``days`` days ago, midnight today). CloudWatch gives percent; the usage items hold ratios
(0..1) to four places, as DigitalOcean's do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from spendwatch.domain.models import UsageItem

MAX_QUERIES = 500  # GetMetricData's limit of MetricDataQueries per request
CPU_AVG, CPU_PEAK, MEMORY_AVG = "cpu_utilisation_avg", "cpu_utilisation_peak", "memory_utilisation_avg"
# Query id prefix -> (namespace, metric, statistic, the usage metric it becomes).
STATS = {
    "a": ("AWS/EC2", "CPUUtilization", "Average", CPU_AVG),
    "m": ("AWS/EC2", "CPUUtilization", "Maximum", CPU_PEAK),
    "r": ("CWAgent", "mem_used_percent", "Average", MEMORY_AVG),
}
PER_REQUEST = MAX_QUERIES // len(STATS)
DAY_SECONDS = 86400
MAX_PAGES = 50
PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)
RATIO = "ratio"
EC2_SERVICE = "Amazon Elastic Compute Cloud - Compute"  # Cost Explorer's name for what instances cost


def window(today: date, days: int) -> tuple[datetime, datetime]:
    """[midnight ``days`` days before today, midnight today) in UTC: complete days only."""
    end = datetime.combine(today, time(), tzinfo=UTC)
    return end - timedelta(days=days), end


def batches(instance_ids: list[str]) -> Iterator[list[str]]:
    """The instances in groups that fill one request's 500 queries."""
    for start in range(0, len(instance_ids), PER_REQUEST):
        yield instance_ids[start : start + PER_REQUEST]


def queries(batch: list[str]) -> list[dict[str, Any]]:
    """Each instance's daily CPU average and peak and memory average; ids say the query and the position."""
    return [
        {
            "Id": f"{prefix}{position}",
            "MetricStat": {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": metric,
                    "Dimensions": [{"Name": "InstanceId", "Value": instance_id}],
                },
                "Period": DAY_SECONDS,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for position, instance_id in enumerate(batch)
        for prefix, (namespace, metric, stat, _) in STATS.items()
    ]


def _ratio(percent: Any) -> Decimal:
    try:
        value = Decimal(str(percent))
    except InvalidOperation as exc:
        raise ValueError(f"{percent!r} is not a number") from exc
    if not value.is_finite():
        raise ValueError(f"{percent!r} is not a number")
    return min(max(value / HUNDRED, Decimal(0)), Decimal(1)).quantize(PLACES)


Days = dict[str, dict[date, dict[str, Decimal]]]  # instance -> day -> usage metric -> ratio


def read_results(batch: list[str], results: list[dict[str, Any]], into: Days, first: date, last: date) -> None:
    """One page's MetricDataResults into ``into`` (days outside [first, last] are dropped)."""
    for result in results:
        query_id = str(result.get("Id", ""))
        prefix, position = query_id[:1], query_id[1:]
        asked = STATS.get(prefix)
        if asked is None or not position.isdigit() or int(position) >= len(batch):
            raise ValueError(f"result id {query_id!r} was not asked for")
        days = into[batch[int(position)]]
        for stamp, value in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=True):
            day = stamp.astimezone(UTC).date()
            if first <= day <= last:
                days.setdefault(day, {})[asked[3]] = _ratio(value)


@dataclass
class CpuReader:
    """Asks CloudWatch for the instances' daily CPU; counts requests through the client it is given."""

    cloudwatch: Any
    requests: int = 0

    def read(self, instance_ids: list[str], today: date, days: int) -> Days:
        """Every instance's days with data (an instance without data has no entry)."""
        start, end = window(today, days)
        found: Days = defaultdict(dict)
        for batch in batches(instance_ids):
            token: str | None = None
            for _ in range(MAX_PAGES):
                params: dict[str, Any] = {
                    "MetricDataQueries": queries(batch),
                    "StartTime": start,
                    "EndTime": end,
                    "ScanBy": "TimestampAscending",
                }
                if token:
                    params["NextToken"] = token
                response = self.cloudwatch.get_metric_data(**params)
                self.requests += 1
                read_results(batch, response.get("MetricDataResults") or [], found, start.date(), today - timedelta(1))
                token = response.get("NextToken")
                if not token:
                    break
            else:
                raise ValueError(f"GetMetricData still had pages after {MAX_PAGES}")
        return {instance: dict(by_day) for instance, by_day in found.items() if by_day}


def usage_items(instance_id: str, by_day: dict[date, dict[str, Decimal]], source: str, at: datetime) -> list[UsageItem]:
    """The days' ``cpu_utilisation_avg``, ``cpu_utilisation_peak`` and ``memory_utilisation_avg`` of one instance."""
    common: dict[str, Any] = {
        "unit": RATIO,
        "ProviderName": "AWS",
        "ServiceName": EC2_SERVICE,
        "ResourceId": instance_id,
        "x_source": source,
        "x_collected_at": at,
    }
    return [
        UsageItem(metric=metric, quantity=value, day=day, **common)
        for day, found in sorted(by_day.items())
        for metric, value in sorted(found.items())
    ]
