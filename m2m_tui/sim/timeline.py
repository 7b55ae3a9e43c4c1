"""What happened to a simulated line over time: its data sessions and provisioning events.

Plain records, kept apart from the inventory so the device can carry them and the history
endpoints (``sim/history.py``) can read them without import cycles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DataSession:
    """One data session: a Start and, unless still open, a Stop carrying the bytes."""

    start: datetime
    stop: datetime | None
    bytes_used: int
    ip: str | None = None

    def cut(self, at: datetime) -> DataSession | None:
        """The session as it looks if the line lost service at ``at`` (None: started after)."""
        if self.start >= at:
            return None
        if self.stop is not None and self.stop <= at:
            return self
        return DataSession(self.start, at, self.bytes_used, self.ip)


@dataclass(frozen=True)
class ProvisioningEvent:
    """One provisioning-history record (``thingspace-diagnostics.md`` §3.2)."""

    occurred_at: datetime
    event_type: str
    event_by: str
    status: str = "Success"
    service_plan: str = ""
    mdn: str = ""
    msisdn: str = ""
