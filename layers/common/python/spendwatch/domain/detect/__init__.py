"""Detection on daily cost series: spikes per scope, the values that drove them, and values seen for the first time."""

from spendwatch.domain.detect.drivers import ValueChange, expected_breakdown, explain_spike, rank_drivers, value_changes
from spendwatch.domain.detect.first_seen import FIRST_SEEN_DIMENSIONS, FirstSeen, first_seen, seen_values
from spendwatch.domain.detect.spike import DEFAULT_CONFIG, SpikeConfig, SpikeResult, detect_spike

__all__ = [
    "DEFAULT_CONFIG",
    "FIRST_SEEN_DIMENSIONS",
    "FirstSeen",
    "SpikeConfig",
    "SpikeResult",
    "ValueChange",
    "detect_spike",
    "expected_breakdown",
    "explain_spike",
    "first_seen",
    "rank_drivers",
    "seen_values",
    "value_changes",
]
