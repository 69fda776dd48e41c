"""The console channel: prints alerts in readable form, the local stand-in for Slack when no webhook is set."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from spendwatch.channels.render import render_text
from spendwatch.domain.alerts import Alert, Delivery

if TYPE_CHECKING:
    from spendwatch.domain.reports import Report

CONSOLE_CHANNEL = "console"


@dataclass
class ConsoleChannel:
    """Prints alerts in readable form: the local stand-in for Slack when no webhook is configured."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    name: str = CONSOLE_CHANNEL

    def send(self, alerts: Sequence[Alert]) -> dict[str, Delivery]:
        """Print every alert; printing counts as delivered."""
        for alert in alerts:
            self.out.write(f"\n=== spendwatch alert ===\n{render_text(alert)}\n")
        self.out.flush()
        return {alert.id: Delivery(status="delivered", attempts=1) for alert in alerts}

    def send_report(self, report: Report) -> Delivery:
        """Print a report; printing counts as delivered."""
        from spendwatch.channels.report_render import render_text as report_text

        self.out.write(f"\n=== spendwatch report ===\n{report_text(report)}\n")
        self.out.flush()
        return Delivery(status="delivered", attempts=1)
