"""The bridge between the headless tracking core and the screens.

Tracker events arrive on the event loop, possibly thousands per second during a burst of
callbacks. Repainting per event would stall the UI (design.md, "Speed rules": one row per
message ran at ~350 callbacks/s with keys lagging 300 ms). So events only go into a queue;
a timer drains it every ``FLUSH_INTERVAL`` and posts one :class:`TrackingUpdate` with the
latest state of each changed request (coalesced), the newest callbacks (capped) and the
latest listener and poller status. A burst costs a few repaints, not thousands.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.message import Message

from m2m_tui.ui.widgets.bars import ListenerState

if TYPE_CHECKING:
    from m2m_tui.tracking.events import CallbackRejected, ListenerStatus
    from m2m_tui.tracking.service import TrackingService, TrackingSettings
    from m2m_tui.tracking.tracker import Tracker
    from m2m_tui.tracking.tracker_events import CallbackReceived, PollerStatus, RequestChanged

log = logging.getLogger("m2m_tui.ui")

FLUSH_INTERVAL = 0.15
#: Newest callbacks handed to screens per update; the rest are in the journal.
MAX_CALLBACKS_PER_UPDATE = 500


class TrackingUpdate(Message):
    """What changed since the last update (one message per flush, never per event)."""

    def __init__(self) -> None:
        super().__init__()
        self.changed: dict[str, RequestChanged] = {}
        self.callbacks: list[CallbackReceived] = []
        self.callbacks_total = 0
        self.rejections: list[CallbackRejected] = []
        self.listener: ListenerStatus | None = None
        self.poller: PollerStatus | None = None


class TrackingLink:
    """Owns the TrackingService for the app and batches its events into TrackingUpdates."""

    def __init__(self, settings: TrackingSettings, post: Callable[[TrackingUpdate], None]) -> None:
        self.settings = settings
        self._post = post
        self._queue: deque[Any] = deque()
        self._service: TrackingService | None = None
        self.listener_status: ListenerStatus | None = None
        self.poller_status: PollerStatus | None = None
        self.error: str | None = None
        self.public_url: str | None = None

    @property
    def started(self) -> bool:
        return self._service is not None

    @property
    def service(self) -> TrackingService:
        if self._service is None:
            raise RuntimeError("tracking is not started")
        return self._service

    @property
    def tracker(self) -> Tracker | None:
        return None if self._service is None else self._service.tracker

    @property
    def listener_url(self) -> str | None:
        service = self._service
        if service is None or service.listener is None:
            return None
        return service.listener.url

    async def start(self, status_call: Any = None) -> None:
        """Open the journal, resume unfinished requests, listen; errors are kept and raised."""
        from m2m_tui.tracking.service import TrackingService

        service = TrackingService(self.settings, status_call)
        try:
            await service.start()
        except Exception as exc:
            self.error = str(exc)
            raise
        service.tracker.subscribe(self._queue.append)
        self._service = service
        if service.listener is not None:
            self.listener_status = service.listener.status()
        self.flush()

    def attach_client(self, status_call: Any) -> None:
        if self._service is not None:
            self._service.attach_status_call(status_call)

    async def stop(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.stop()

    def flush(self) -> None:
        """Drain the queue into one coalesced update (called by the app's timer)."""
        if not self._queue:
            return
        from m2m_tui.tracking.events import CallbackRejected, ListenerStatus
        from m2m_tui.tracking.tracker_events import CallbackReceived, PollerStatus, RequestChanged

        update = TrackingUpdate()
        callbacks: deque[CallbackReceived] = deque(maxlen=MAX_CALLBACKS_PER_UPDATE)
        queue = self._queue
        while queue:
            event = queue.popleft()
            if isinstance(event, RequestChanged):
                update.changed[event.request_id] = event
            elif isinstance(event, CallbackReceived):
                callbacks.append(event)
                update.callbacks_total += 1
            elif isinstance(event, CallbackRejected):
                update.rejections.append(event)
            elif isinstance(event, ListenerStatus):
                update.listener = self.listener_status = event
            elif isinstance(event, PollerStatus):
                update.poller = self.poller_status = event
        update.callbacks = list(callbacks)
        self._post(update)

    def listener_state(self) -> ListenerState:
        """For the status bar."""
        if self._service is None:
            return ListenerState("failed" if self.error else "starting", detail=self.error)
        listener = self._service.listener
        if listener is None:
            return ListenerState("following" if self.settings.follow else "off")
        status = self.listener_status or listener.status()
        return ListenerState(
            "listening" if status.running else "stopped",
            address=f"{self.settings.listener.host if self.settings.listener else '?'}:{listener.port}",
            public_url=self.public_url or status.url,
            accepted=status.accepted,
            rejected=status.rejected,
        )

    def poller_text(self) -> str:
        status = self.poller_status
        if self._service is None or self._service.poller is None:
            return "idle (log in to poll)" if self._service is not None else "idle"
        if status is None:
            return "ready"
        if status.paused_until is not None:
            return "paused (" + (status.last_error or "backing off") + ")"
        return f"{status.tracked} polling" if status.tracked else "ready"
