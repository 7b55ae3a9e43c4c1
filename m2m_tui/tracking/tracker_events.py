"""Events the tracker and the poller publish (the listener's own are in ``events.py``).

Plain frozen dataclasses, so a front end can coalesce them (one ``RequestChanged`` per
request per repaint) and hand them across threads.
"""

from __future__ import annotations

from dataclasses import dataclass

from m2m_tui.tracking.events import CallbackAccepted, CallbackRejected, ListenerStatus
from m2m_tui.tracking.records import RequestSummary


@dataclass(frozen=True, slots=True)
class RequestChanged(RequestSummary):
    """A tracked request moved (new state, or more per-device results): its whole summary.

    The same shape the journal queries return, so a front end replaces its copy of the
    request instead of merging fields; ``isinstance(e, RequestChanged)`` tells the event
    from a query result.
    """


@dataclass(frozen=True, slots=True)
class CallbackReceived:
    """A journaled callback as the tracker saw it: ``ours`` is False for unknown requests."""

    record_id: int
    request_id: str
    kind: str
    device_key: str | None
    duplicate: bool
    ours: bool


@dataclass(frozen=True, slots=True)
class PollerStatus:
    """What the poller is doing, for the status bar."""

    running: bool
    tracked: int
    paused_until: float | None = None
    last_error: str | None = None


TrackerEvent = (
    RequestChanged
    | CallbackReceived
    | PollerStatus
    | CallbackAccepted
    | CallbackRejected
    | ListenerStatus
)
