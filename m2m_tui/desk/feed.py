"""Tracker events batched for a front end.

Tracker events arrive on the event loop, possibly thousands per second during a burst of
callbacks. Repainting per event would stall a UI (design.md, "Speed rules": one row per
message ran at ~350 callbacks/s with keys lagging 300 ms). So events only go into a queue;
the front end calls :meth:`Feed.flush` on a timer (every ``FLUSH_INTERVAL``) and gets one
:class:`FeedBatch` with the latest state of each changed request (coalesced), the newest
callbacks (capped) and the latest listener and poller status. A burst costs a few repaints.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from m2m_tui.tracking.events import CallbackRejected, ListenerStatus
    from m2m_tui.tracking.tracker_events import (
        CallbackReceived,
        PollerStatus,
        RequestChanged,
        TrackerEvent,
    )

FLUSH_INTERVAL = 0.15
#: Newest callbacks handed over per batch; the rest are in the journal.
MAX_CALLBACKS_PER_BATCH = 500


@dataclass
class FeedBatch:
    """What changed since the last flush."""

    changed: dict[str, RequestChanged] = field(default_factory=dict)
    callbacks: list[CallbackReceived] = field(default_factory=list)
    callbacks_total: int = 0
    rejections: list[CallbackRejected] = field(default_factory=list)
    listener: ListenerStatus | None = None
    poller: PollerStatus | None = None


class Feed:
    """Queues tracker events; :meth:`flush` hands one coalesced batch to ``on_batch``."""

    def __init__(self, on_batch: Callable[[FeedBatch], None] | None = None) -> None:
        self.on_batch = on_batch
        self._queue: deque[Any] = deque()
        self.listener_status: ListenerStatus | None = None
        self.poller_status: PollerStatus | None = None

    def push(self, event: TrackerEvent) -> None:
        """The tracker's subscriber: cheap, never raises."""
        self._queue.append(event)

    def __len__(self) -> int:
        return len(self._queue)

    def flush(self) -> FeedBatch | None:
        """Drain the queue into one batch (None when nothing happened); also given to
        ``on_batch``."""
        if not self._queue:
            return None
        from m2m_tui.tracking.events import CallbackRejected, ListenerStatus
        from m2m_tui.tracking.tracker_events import CallbackReceived, PollerStatus, RequestChanged

        batch = FeedBatch()
        callbacks: deque[CallbackReceived] = deque(maxlen=MAX_CALLBACKS_PER_BATCH)
        queue = self._queue
        while queue:
            event = queue.popleft()
            if isinstance(event, RequestChanged):
                batch.changed[event.request_id] = event
            elif isinstance(event, CallbackReceived):
                callbacks.append(event)
                batch.callbacks_total += 1
            elif isinstance(event, CallbackRejected):
                batch.rejections.append(event)
            elif isinstance(event, ListenerStatus):
                batch.listener = self.listener_status = event
            elif isinstance(event, PollerStatus):
                batch.poller = self.poller_status = event
        batch.callbacks = list(callbacks)
        if self.on_batch is not None:
            self.on_batch(batch)
        return batch
