"""What the diagnosis rules read: the fetched facts, and the timeline derived from them.

Kept apart from the rules so each rule is a short function of an already-digested picture:
sessions paired from Start/Stop events, ``T_silence`` (``thingspace-diagnostics.md`` §12), and
plain-language times. Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from m2m_tui.api.models.accounts import AccountInfo, ServicePlanList, StatesAndServices
from m2m_tui.api.models.callbacks import SuspensionStatus
from m2m_tui.api.models.devices import Device
from m2m_tui.api.models.history import (
    ConnectionEvent,
    ProvisioningEvent,
    UsageRecord,
    as_utc,
)

DEFAULT_INTERVAL = timedelta(hours=24)


@dataclass
class Facts:
    """Everything fetched about one device; a section that failed or was not fetched is None.

    ``connections_complete`` is False when the connection window ended in a timeout or a 202
    page that was not followed: an empty window then proves nothing (a "must not fire" rule).
    """

    now: datetime
    device: Device | None = None
    device_error_code: str | None = None
    device_error: str | None = None
    connections: list[ConnectionEvent] | None = None
    connections_complete: bool = True
    connections_since: datetime | None = None
    provisioning: list[ProvisioningEvent] | None = None
    usage: list[UsageRecord] | None = None
    plans: ServicePlanList | None = None
    account: AccountInfo | None = None
    states: StatesAndServices | None = None
    suspension: SuspensionStatus | None = None
    reachability: dict[str, Any] | None = None
    sibling_last_connections: list[datetime | None] | None = None
    ticket_imei: str | None = None
    ticket_last_report: datetime | None = None
    reporting_interval: timedelta = DEFAULT_INTERVAL


@dataclass(frozen=True)
class Session:
    """A Start and the Stop that closed it (None: still open or outside the window)."""

    start: datetime | None
    stop: datetime | None
    bytes_used: int | None
    ip: str | None

    @property
    def duration(self) -> timedelta | None:
        if self.start is None or self.stop is None:
            return None
        return self.stop - self.start


@dataclass
class Timeline:
    """The digested picture the rules share."""

    facts: Facts
    events: list[ConnectionEvent] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    provisioning: list[ProvisioningEvent] = field(default_factory=list)
    silence: datetime | None = None
    """``T_silence``: the later of ``lastConnectionDate`` and the newest connection event."""

    @property
    def now(self) -> datetime:
        return self.facts.now

    @property
    def device(self) -> Device:
        assert self.facts.device is not None
        return self.facts.device

    @property
    def state(self) -> str:
        return self.device.state or ""

    @property
    def silent_for(self) -> timedelta | None:
        return None if self.silence is None else self.now - self.silence

    def stops(self) -> list[ConnectionEvent]:
        return [e for e in self.events if e.event == "Stop"]

    def newest_success(self, kind: str) -> ProvisioningEvent | None:
        for event in reversed(self.provisioning):
            if event.kind == kind and event.succeeded:
                return event
        return None


def pair_sessions(events: list[ConnectionEvent]) -> list[Session]:
    """Start/Stop events (oldest first) paired into sessions; a lone Stop starts before the window."""
    sessions: list[Session] = []
    open_start: ConnectionEvent | None = None
    for event in events:
        if event.event == "Start":
            if open_start is not None:
                sessions.append(_session(open_start, None))
            open_start = event
        elif event.event == "Stop":
            sessions.append(_session(open_start, event))
            open_start = None
    if open_start is not None:
        sessions.append(_session(open_start, None))
    return sessions


def _session(start: ConnectionEvent | None, stop: ConnectionEvent | None) -> Session:
    ip = start.attribute("FramedIpAddress") if start is not None else None
    if ip is None and stop is not None:
        ip = stop.attribute("FramedIpAddress")
    return Session(
        start.when if start is not None else None,
        stop.when if stop is not None else None,
        stop.bytes_used if stop is not None else None,
        ip,
    )


def build_timeline(facts: Facts) -> Timeline:
    events = sorted(
        (e for e in facts.connections or [] if e.when is not None),
        key=lambda e: e.when or facts.now,
    )
    provisioning = sorted(
        (e for e in facts.provisioning or [] if e.when is not None),
        key=lambda e: e.when or facts.now,
    )
    candidates = [e.when for e in events if e.when is not None]
    if facts.device is not None:
        last = as_utc(facts.device.lastConnectionDate)
        if last is not None:
            candidates.append(last)
    return Timeline(
        facts=facts,
        events=events,
        sessions=pair_sessions(events),
        provisioning=provisioning,
        silence=max(candidates) if candidates else None,
    )


def when_text(moment: datetime | None, now: datetime | None = None) -> str:
    """``2024-05-30 13:12 UTC (3 days ago)``: absolute for the ticket, relative for a human."""
    if moment is None:
        return "an unknown time"
    text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if now is None:
        return text
    return f"{text} ({ago(now - moment)})"


def ago(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 0:
        return "in the future"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def size_text(n: int) -> str:
    """Bytes the way a support engineer reads them (``48.2 kB``)."""
    if n < 1000:
        return f"{n} B"
    for unit, div in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if n < div * 1000 or unit == "GB":
            return f"{n / div:.1f} {unit}"
    return f"{n} B"  # pragma: no cover


def event_text(event: ProvisioningEvent, now: datetime) -> str:
    """One provisioning event as evidence: what, by whom, when, outcome."""
    return (
        f"provisioning: {event.eventType or '?'} by {event.eventBy or '?'} at "
        f"{when_text(event.when, now)}, status {event.status or '?'}"
    )
