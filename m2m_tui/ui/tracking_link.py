"""Desk feed batches as Textual messages, and the listener's state for the status bar.

The batching itself is headless (:mod:`m2m_tui.desk.feed`); the app flushes the feed on a
timer and posts each batch to the screens as one :class:`TrackingUpdate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from m2m_tui.desk.feed import FLUSH_INTERVAL, FeedBatch
from m2m_tui.ui.widgets.bars import ListenerState

if TYPE_CHECKING:
    from m2m_tui.desk.tracking import DeskTracking

__all__ = ["FLUSH_INTERVAL", "UNREACHABLE", "TrackingUpdate", "listener_state"]

#: The status bar's words while a followed team journal cannot be reached.
UNREACHABLE = "journal unreachable"


class TrackingUpdate(Message):
    """What changed since the last update (one message per flush, never per event)."""

    def __init__(self, batch: FeedBatch | None = None) -> None:
        super().__init__()
        batch = batch or FeedBatch()
        self.changed = batch.changed
        self.callbacks = batch.callbacks
        self.callbacks_total = batch.callbacks_total
        self.rejections = batch.rejections
        self.listener = batch.listener
        self.poller = batch.poller


def listener_state(tracking: DeskTracking) -> ListenerState:
    """For the status bar: listening, following, off, or failed with its reason."""
    if not tracking.started:
        if tracking.finished_starting:
            return ListenerState("failed", detail=tracking.error)
        return ListenerState("starting")
    service = tracking.service
    listener = service.listener
    if listener is None:
        if tracking.listener_error:
            return ListenerState("failed", detail=tracking.listener_error)
        if not tracking.settings.follow:
            return ListenerState("off")
        problem = tracking.journal_problem
        return ListenerState(
            "following",
            detail=tracking.settings.journal_label,  # a file's name, or the URL without password
            problem=None if problem is None else UNREACHABLE,
        )
    status = tracking.feed.listener_status or listener.status()
    config = tracking.settings.listener
    return ListenerState(
        "listening" if status.running else "stopped",
        address=f"{config.host if config else '?'}:{listener.port}",
        public_url=tracking.public_url or status.url,
        accepted=status.accepted,
        rejected=status.rejected,
    )
