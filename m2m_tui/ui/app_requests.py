"""What the app does with requests: hand them to the tracker, announce how they end, find
timed-out ones again, and open or copy the last one.

A mixin of :class:`m2m_tui.ui.app.M2MApp` (kept apart so the app module stays about the shell);
the attributes it relies on are declared below and set in ``M2MApp.__init__``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App

from m2m_tui.ui.actions import Action, SubmittedRequest
from m2m_tui.ui.messages import RequestFinished, RequestSubmitted
from m2m_tui.ui.unconfirmed import TimeoutWatch, UnconfirmedRequest

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from m2m_tui.ui.tracking_link import TrackingLink, TrackingUpdate


class RequestsDesk(App[int]):
    """Submitted requests: tracking, outcome toasts, timed-out POSTs found again."""

    tracking: TrackingLink | None
    submitted: list[SubmittedRequest]
    _awaiting_outcome: dict[str, SubmittedRequest]
    timeout_watch: TimeoutWatch
    journal_path: Path
    clock: Callable[[], float]

    def report_error(self, error: BaseException, context: str = "") -> None:
        raise NotImplementedError

    def copy_text(self, text: str, what: str) -> None:
        raise NotImplementedError

    def request_unconfirmed(
        self,
        action: Action,
        account: str | None,
        target: Any,
        pollable: bool,
        target_label: str,
        sent_at: float,
    ) -> None:
        """A POST timed out: watch for callbacks about its device that would reveal its id."""
        from m2m_tui.ui.unconfirmed import device_keys

        item = UnconfirmedRequest(
            action, account, target, target_label, pollable, sent_at, device_keys(target)
        )
        link = self.tracking
        receives = link is not None and (link.settings.listener is not None or link.settings.follow)
        if not receives or not self.timeout_watch.pending.add(item):
            return  # no callbacks come here (or no device to match them by)
        self.notify(
            f"If ThingSpace accepted the {action.label}, its callbacks will name "
            f"{target_label}: watching for them for an hour, to track it.",
            title="Timed out: watching",
            timeout=10,
            markup=False,
        )
        self.run_worker(
            partial(self._adopt_earlier_callbacks, item),
            thread=True,
            group="unconfirmed",
            exit_on_error=False,
            description="callbacks before the timeout",
        )

    def _adopt_earlier_callbacks(self, item: UnconfirmedRequest) -> None:
        """Thread: the callbacks may have beaten the timeout; they are in the journal then."""
        from m2m_tui.ui.unconfirmed import callbacks_since

        rows = callbacks_since(self.journal_path, item)
        if rows:
            self.call_from_thread(self._adopt_from, rows)

    def _adopt_from(self, callbacks: list[Any]) -> None:
        tracker = self.tracking.tracker if self.tracking is not None else None
        known = (lambda rid: tracker.get(rid) is not None) if tracker else (lambda rid: False)
        for item, request_id in self.timeout_watch.adoptions(callbacks, known, self.clock()):
            self.request_submitted(
                item.action,
                item.account,
                item.target,
                request_id,
                item.pollable,
                item.target_label,
                found_after_timeout=True,
            )

    def _announce_finished(self, update: TrackingUpdate) -> None:
        """A toast for each request of this session that just reached a final state."""
        if not self._awaiting_outcome:
            return
        from m2m_tui.ui.outcome_notices import FINAL_STATES, finished_notice

        tracker = self.tracking.tracker if self.tracking is not None else None
        for request_id, change in update.changed.items():
            if change.state not in FINAL_STATES:
                continue
            record = self._awaiting_outcome.pop(request_id, None)
            if record is None:
                continue
            shown_live = getattr(self.screen, "shows_request", None)
            if not (shown_live is not None and shown_live(request_id)):
                tracked = tracker.get(request_id) if tracker is not None else None
                notice = finished_notice(record, change, tracked)
                self.notify(
                    notice.text,
                    title=notice.title,
                    severity=notice.severity,
                    timeout=15 if notice.severity != "information" else 8,
                    markup=False,
                )
            for screen in self.screen_stack:
                screen.post_message(RequestFinished(record, change.state))

    def request_submitted(
        self,
        action: Action,
        account: str | None,
        target: Any,
        request_id: str,
        pollable: bool,
        target_label: str = "",
        *,
        found_after_timeout: bool = False,
        expected_devices: int | None = None,
        sent_at: float | None = None,
    ) -> SubmittedRequest:
        """ThingSpace accepted a request: keep it, show its id, tell the screens."""
        record = SubmittedRequest(
            action, account, target, target_label, request_id, pollable, self.clock()
        )
        self.submitted.append(record)
        self._awaiting_outcome[request_id] = record
        self._track(action, account, target, request_id, expected_devices, sent_at)
        keys = "o open · y copy id · g requests"
        severity: SeverityLevel
        if found_after_timeout:
            title, severity = "Timed-out request found", "warning"
            text = (
                f"{action.label.capitalize()} {target_label} went through after all: "
                f"ThingSpace's callbacks name it {request_id}. Tracked now.\n{keys}"
            )
        else:
            title, severity = "Request submitted", "information"
            how = "polling + callback" if pollable else "callback only"
            text = f"{action.label.capitalize()} {target_label}\n{request_id}\n{how} · {keys}"
        self.notify(
            text,
            title=title,
            severity=severity,
            timeout=15 if found_after_timeout else 10,
            markup=False,
        )
        self.screen.post_message(RequestSubmitted(record))
        return record

    def _track(
        self,
        action: Action,
        account: str | None,
        target: Any,
        request_id: str,
        expected_devices: int | None = None,
        sent_at: float | None = None,
    ) -> None:
        tracker = self.tracking.tracker if self.tracking is not None else None
        if tracker is None:
            return
        try:
            if isinstance(target, list):
                tracker.submitted(
                    action.value, account or "", request_id, devices=target, sent_at=sent_at
                )
            else:
                tracker.submitted(
                    action.value,
                    account or "",
                    request_id,
                    filter=target,
                    expected_devices=expected_devices,
                    sent_at=sent_at,
                )
        except Exception as exc:  # the request went through; only our record of it failed
            self.report_error(exc, "tracking the request")

    def actions_today(self, target_label: str) -> int:
        since = self.clock() - 86400
        return sum(
            1
            for r in self.submitted
            if r.target_label == target_label and r.action.changes_state and r.submitted_at > since
        )

    def action_open_last_request(self) -> None:
        """Straight to the detail of the request just submitted (or found after a timeout)."""
        if not self.submitted:
            self.notify("no request submitted yet", timeout=3)
            return
        from m2m_tui.ui.screens.request_detail import RequestDetailScreen

        self.push_screen(RequestDetailScreen(self.submitted[-1].request_id))

    def action_copy_last_request(self) -> None:
        if self.submitted:
            self.copy_text(self.submitted[-1].request_id, "request id")
        else:
            self.notify("no request submitted yet", timeout=3)
