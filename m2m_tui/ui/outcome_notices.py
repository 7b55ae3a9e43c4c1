"""The toast that says a request of this session finished, wherever the user is.

A support engineer submits an action and goes on working; the outcome must find them, not
wait for them to open the requests view. One toast per request, when it first reaches a final
state: green for completed, red for failed (with ThingSpace's fault code and message), amber
for timed out (with what to check).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from m2m_tui.tracking.records import CompletedBy, RequestState

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from m2m_tui.desk.actions import SubmittedRequest
    from m2m_tui.tracking.tracker import TrackedRequest
    from m2m_tui.tracking.tracker_events import RequestChanged


@dataclass(frozen=True, slots=True)
class Notice:
    title: str
    text: str
    severity: SeverityLevel


def _results(change: RequestChanged) -> str:
    expected = f"/{change.expected}" if change.expected is not None else ""
    count = change.expected if change.expected is not None else change.received
    noun = "device" if count == 1 else "devices"
    failed = f", {change.failures} failed" if change.failures else ""
    return f"{change.received}{expected} {noun} answered{failed}"


def finished_notice(
    record: SubmittedRequest, change: RequestChanged, tracked: TrackedRequest | None
) -> Notice:
    """What to say about ``record`` now that ``change`` put it in a final state."""
    what = f"{record.action.label.capitalize()} {record.target_label}".strip()
    how = f" by {change.completed_by}" if change.completed_by else ""
    more = "g requests · Enter on one: results, timeline"
    if change.state is RequestState.COMPLETED:
        if change.completed_by is CompletedBy.POLL and not change.received:
            # The status said Success before any callback: there are no device results yet.
            text = f"completed by poll (ThingSpace status: Success).\n{more}"
        else:
            text = f"completed{how}: {_results(change)}.\n{more}"
        return Notice(what, text, "warning" if change.failures else "information")
    if change.state is RequestState.FAILED:
        fault = ""
        if tracked is not None and (tracked.last_error_code or tracked.last_error_message):
            code = tracked.last_error_code or "error"
            fault = f"\n{code}: {tracked.last_error_message or ''}".rstrip(": ")
        return Notice(what, f"FAILED{how}: {_results(change)}.{fault}\n{more}", "error")
    text = (
        f"no final answer by the deadline ({_results(change)}). Check the callback "
        f"registration (u) and that ThingSpace reaches the listener.\n{more}"
    )
    return Notice(what, text, "warning")
