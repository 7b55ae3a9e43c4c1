"""Who hears the tracker: subscribers get every event, the poller is woken for new work.

Kept apart from the state machine in :mod:`m2m_tui.tracking.tracker`: delivering events
(one broken subscriber must not stop tracking, nor the others from hearing) is its own job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from m2m_tui.tracking.tracker_events import TrackerEvent

log = logging.getLogger("m2m_tui.tracking")

Subscriber = Callable[[TrackerEvent], None]


class EventHub:
    """Subscribers and wakers; the tracker publishes through it."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._wakers: list[Callable[[], None]] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every event; returns the function that unsubscribes."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def on_new_pollable(self, waker: Callable[[], None]) -> None:
        """The poller registers here so a new pollable request is polled without delay."""
        self._wakers.append(waker)

    def publish(self, event: TrackerEvent) -> None:
        """Pass on an event from a part the tracker does not own (listener, poller)."""
        self._publish(event)

    def _publish(self, event: TrackerEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # a broken subscriber must not stop tracking
                log.exception("tracker subscriber failed on %s", type(event).__name__)

    def _wake(self) -> None:
        for wake in self._wakers:
            wake()


__all__ = ["EventHub", "Subscriber"]
