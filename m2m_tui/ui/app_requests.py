"""What the screen adds to the desk's requests: toasts and messages.

The desk (:class:`m2m_tui.desk.requests.RequestDesk`) submits, journals, tracks and finds
timed-out requests again; this turns what it answers into what the engineer sees: one toast
per submission (saying truthfully how it will finish), per timed-out request found, per
request finished (unless the screen shows it live), and a message to the screens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from m2m_tui.ui.messages import RequestFinished, RequestSubmitted

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel

    from m2m_tui.desk.actions import Submitted, Unconfirmed
    from m2m_tui.desk.feed import FeedBatch
    from m2m_tui.desk.requests import Finished, RequestDesk

KEYS = "o open · y copy id · g requests"


class RequestNotices:
    """Owned by the app (not a mixin): it only needs the app to notify and post."""

    def __init__(self, app: App[int], desk: RequestDesk) -> None:
        self.app = app
        self.desk = desk

    def submitted(self, outcome: Submitted) -> None:
        """ThingSpace accepted a request: show its id and how it will finish."""
        record = outcome.request
        what = f"{record.action.label.capitalize()} {record.target_label}"
        severity: SeverityLevel = "information"
        if outcome.found_after_timeout:
            title, severity = "Timed-out request found", "warning"
            text = (
                f"{what} went through after all: ThingSpace's callbacks name it "
                f"{record.request_id}. Tracked now.\n{KEYS}"
            )
        else:
            title = "Request submitted"
            text = f"{what}\n{record.request_id}\n{outcome.how} · {KEYS}"
        if not outcome.journaled:
            severity = "warning"
        self.app.notify(
            text,
            title=title,
            severity=severity,
            timeout=15 if severity != "information" else 10,
            markup=False,
        )
        for screen in self.app.screen_stack:
            screen.post_message(RequestSubmitted(record))

    def unconfirmed(self, outcome: Unconfirmed) -> None:
        """A POST timed out (the error itself is reported by the caller)."""
        if outcome.watching:
            self.app.notify(
                f"If ThingSpace accepted the {outcome.action.label}, its callbacks will name "
                f"{outcome.target_label}: watching for them for an hour, to track it.",
                title="Timed out: watching",
                timeout=10,
                markup=False,
            )
        for found in outcome.found:
            self.submitted(found)

    def batch(self, batch: FeedBatch) -> None:
        """A feed batch: timed-out requests found, requests of this session finished."""
        update = self.desk.process(batch)
        for adopted in update.adopted:
            self.submitted(adopted)
        for finished in update.finished:
            self.finished(finished)

    def finished(self, done: Finished) -> None:
        from m2m_tui.ui.outcome_notices import finished_notice
        from m2m_tui.ui.screens.base import AppScreen

        record = done.request
        screen = self.app.screen
        if not (isinstance(screen, AppScreen) and screen.shows_request(record.request_id)):
            notice = finished_notice(record, done.change, done.tracked)
            self.app.notify(
                notice.text,
                title=notice.title,
                severity=notice.severity,
                timeout=15 if notice.severity != "information" else 8,
                markup=False,
            )
        for screen in self.app.screen_stack:
            screen.post_message(RequestFinished(record, done.change.state))
