"""What the requests view shows per request: slim live values and the texts of each cell.

No Textual here. The rows are read by the desk (:mod:`m2m_tui.desk.queries`, a page at a
time, in a thread); :class:`RequestView` is one of them with the tracker's live state merged
in as it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from m2m_tui.desk.identity import user_of
from m2m_tui.desk.queries import UNFINISHED, RequestSummary, request_matches
from m2m_tui.tracking.records import UNFINISHED_STATES, CompletedBy, RequestAction, RequestState

if TYPE_CHECKING:
    from m2m_tui.desk.actions import SubmittedRequest
    from m2m_tui.tracking.tracker import TrackedRequest
    from m2m_tui.tracking.tracker_events import RequestChanged

__all__ = ["UNFINISHED", "RequestView"]

ACTION_LABELS = {
    "suspension_status": "susp status",
    "suspend": "suspend",
    "restore": "restore",
    "activate": "activate",
    "deactivate": "deactivate",
}

#: What to check when callbacks never came (design.md: registration, firewall, URL, listener).
CALLBACK_ADVICE = (
    "no callbacks before the deadline: check the callback registration for this account, "
    "the firewall and public URL, and that the listener is reachable (/healthz)"
)
AWAITING_ADVICE = (
    "awaiting callbacks: ThingSpace cannot be polled for this request, it finishes only "
    "when its callbacks arrive"
)


@dataclass(slots=True)
class RequestView:
    """One request as a row: journal facts, with the tracker's live state merged in."""

    request_id: str
    action: RequestAction
    account: str
    target: Any
    submitted_at: float
    deadline: float
    state: RequestState
    completed_by: CompletedBy | None
    pollable: bool
    expected: int | None
    received: int | None
    failures: int = 0
    last_error_code: str | None = None
    last_error_message: str | None = None
    updated_at: float | None = None
    #: ``user@host`` that submitted it (None: a journal from before it was recorded).
    submitted_by: str | None = None
    profile: str | None = None

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED_STATES

    def merge_tracked(self, tracked: TrackedRequest) -> None:
        """The tracker's memory is newer than the journal page (and knows the counts)."""
        self.state = tracked.state
        self.completed_by = tracked.completed_by
        self.pollable = tracked.pollable
        self.expected = tracked.expected
        self.received = tracked.received
        self.failures = tracked.failures
        self.last_error_code = tracked.last_error_code
        self.last_error_message = tracked.last_error_message

    def merge_changed(self, event: RequestChanged) -> None:
        self.state = event.state
        self.completed_by = event.completed_by
        self.pollable = event.pollable
        self.expected = event.expected
        self.received = event.received
        self.failures = event.failures


def view_of_summary(summary: RequestSummary) -> RequestView:
    """A row read by the desk, as a live view the tracker's events update."""
    return RequestView(
        request_id=summary.request_id,
        action=summary.action,
        account=summary.account,
        target=summary.target,
        submitted_at=summary.submitted_at,
        deadline=summary.deadline,
        state=summary.state,
        completed_by=summary.completed_by,
        pollable=summary.pollable,
        expected=summary.expected,
        received=summary.received,
        failures=summary.failures,
        last_error_code=summary.last_error_code,
        last_error_message=summary.last_error_message,
        updated_at=summary.updated_at,
        submitted_by=summary.submitted_by,
        profile=summary.profile,
    )


def view_of_tracked(tracked: TrackedRequest) -> RequestView:
    view = RequestView(
        request_id=tracked.request_id,
        action=tracked.action,
        account=tracked.account,
        target=tracked.target,
        submitted_at=tracked.submitted_at,
        deadline=tracked.deadline,
        state=tracked.state,
        completed_by=None,
        pollable=tracked.pollable,
        expected=tracked.expected,
        received=0,
        submitted_by=tracked.submitted_by,
        profile=tracked.profile,
    )
    view.merge_tracked(tracked)
    return view


def view_of_submitted(record: SubmittedRequest, submitted_by: str | None = None) -> RequestView:
    """A request accepted this session that neither the tracker nor the journal holds
    (``submitted_by``: this desk's ``user@host``)."""
    target = record.target
    now = record.submitted_at
    return RequestView(
        record.request_id,
        record.action,
        record.account or "",
        {"devices": target} if isinstance(target, list) else {"filter": target},
        now,
        now,
        RequestState.SUBMITTED,
        None,
        record.pollable,
        None,
        None,
        submitted_by=submitted_by,
    )


STATE_RANK = {
    RequestState.SUBMITTED: 0,
    RequestState.PENDING: 1,
    RequestState.PARTIAL: 2,
    RequestState.TIMED_OUT: 3,
    RequestState.FAILED: 4,
}


# ---------------------------------------------------------------------- the view's choices

#: Below these widths the account column is left out, and "By" names the user without the
#: host: 80 columns must stay readable, with room for the scrollbar.
ACCOUNT_MIN_WIDTH = 100
HOST_MIN_WIDTH = 120


@dataclass(frozen=True, slots=True)
class Layout:
    """The table's columns for a terminal width (``account``: its column; ``host``: By long)."""

    account: bool = False
    host: bool = False

    @classmethod
    def for_width(cls, width: int) -> Layout:
        return cls(width >= ACCOUNT_MIN_WIDTH, width >= HOST_MIN_WIDTH)

    def columns(self) -> list[tuple[str, str, int]]:
        """(label, key, width): each width holds the column's one-space gap (no cell padding)."""
        head = [("Id", "id", 9), ("Action", "action", 12), ("State", "state", 22)]
        head += [("Results", "results", 8), ("Target", "target", 21 if self.host else 16)]
        if self.account:
            head.append(("Account", "account", 17))
        return [*head, ("Age", "age", 5), ("By", "by", 21 if self.host else 5)]


#: ``f`` cycles these: (name, states; None: all).
STATE_FILTERS: list[tuple[str, tuple[str, ...] | None]] = [
    ("all", None),
    ("unfinished", UNFINISHED),
    ("completed", (RequestState.COMPLETED,)),
    ("failed", (RequestState.FAILED,)),
    ("timed out", (RequestState.TIMED_OUT,)),
]
#: ``o`` cycles these: (column, reversed).
SORTS: list[tuple[str, bool]] = [
    ("age", False),
    ("age", True),
    ("state", False),
    ("results", False),
    ("action", False),
    ("target", False),
    ("id", False),
]
STATE_STYLE = {
    RequestState.COMPLETED: "success",
    RequestState.FAILED: "error",
    RequestState.TIMED_OUT: "warning",
}


def sort_value(view: RequestView, column: str) -> Any:
    """The key a sort by ``column`` orders on (newest first within equal keys)."""
    if column == "age":
        return -view.submitted_at
    if column == "state":
        return (STATE_RANK.get(view.state, 9), view.completed_by or "", -view.submitted_at)
    if column == "action":
        return (view.action, -view.submitted_at)
    if column == "results":
        return (-(view.failures or 0), -(view.received or 0), -view.submitted_at)
    if column == "target":
        return (target_text(view.target), -view.submitted_at)
    return view.request_id


# ---------------------------------------------------------------------- cell texts


def age_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def state_text(view: RequestView) -> str:
    state = view.state.replace("_", " ")
    if not view.finished and not view.pollable:
        return (
            "awaiting callbacks"
            if view.state is not RequestState.PARTIAL
            else "partial, awaiting cb"
        )
    if view.completed_by:
        return f"{state} by {view.completed_by}"
    return state


def by_text(view: RequestView, *, long: bool = False) -> str:
    """Who submitted it: ``user@host`` when there is room (``long``), else the user; '-' when
    the journal does not say (requests recorded before it kept the submitter)."""
    if not view.submitted_by:
        return "-"
    return view.submitted_by if long else user_of(view.submitted_by)


def submitter_text(view: RequestView) -> str:
    """``submitted by user@host · profile p`` as far as the journal knows ('' for neither)."""
    parts = [f"submitted by {view.submitted_by}"] if view.submitted_by else []
    parts += [f"profile {view.profile}"] if view.profile else []
    return " · ".join(parts)


def results_text(view: RequestView) -> str:
    if view.received is None:
        return "-"
    expected = "?" if view.expected is None else str(view.expected)
    failed = f" ✗{view.failures}" if view.failures else ""
    return f"{view.received}/{expected}{failed}"


@dataclass(frozen=True, slots=True)
class Progress:
    """Answered against expected, as the progress bar shows it (no count invented)."""

    answered: int
    failures: int
    #: None when the number of devices is not known (a filter's): the bar says so.
    expected: int | None
    finished: bool

    @property
    def text(self) -> str:
        if self.expected is not None:
            return f"{self.answered}/{self.expected} answered"
        if self.finished:
            return f"{self.answered} answered · how many were expected was never known"
        return f"{self.answered} answered · expected count unknown"

    @property
    def failed_text(self) -> str:
        return f"✗ {self.failures} failed" if self.failures else ""


def progress_of(view: RequestView | None) -> Progress | None:
    """What the bar shows for ``view``; None when there is nothing to count yet."""
    if view is None or view.received is None:
        return None
    answered = view.received
    if view.expected is not None:
        answered = min(answered, view.expected) if view.expected else answered
    return Progress(answered, view.failures or 0, view.expected, view.finished)


def _filter_part(key: str, value: Any) -> str:
    """``CustomField1=blue``, not Python's ``customFields=[{'key': ...}]`` (copied to tickets)."""
    if key == "customFields" and isinstance(value, list):
        pairs = (f"{f.get('key', '?')}={f.get('value', '')}" for f in value if isinstance(f, dict))
        return ", ".join(pairs)
    return f"{key}={value}"


def target_text(target: Any, *, long: bool = False) -> str:
    """The device id alone when there is one (what a ticket names), else a count or filter."""
    if isinstance(target, dict):
        devices = target.get("devices")
        if isinstance(devices, list):
            if len(devices) == 1 and isinstance(devices[0], dict):
                device = devices[0]
                kind = str(device.get("kind", "")).upper()
                return f"{kind} {device.get('id', '?')}" if long else str(device.get("id", "?"))
            return f"{len(devices)} devices"
        found = target.get("filter")
        if isinstance(found, dict):
            parts = [_filter_part(k, v) for k, v in found.items() if v not in (None, "", [], {})]
            return "filter " + (", ".join(parts) if parts else "(all)")
    if isinstance(target, list):
        return f"{len(target)} devices" if len(target) != 1 else target_text({"devices": target})
    return str(target)


def advice(view: RequestView, now: float, *, callbacks_arrive: bool = True) -> str:
    """One line on what the request is waiting for, or what to check; '' when nothing to say."""
    if view.state is RequestState.TIMED_OUT:
        if view.last_error_message:
            return f"timed out: {view.last_error_message}"
        return "timed out: " + (
            "no final status before the deadline: check the request in the ThingSpace portal"
            if view.pollable
            else CALLBACK_ADVICE
        )
    if view.state is RequestState.FAILED and (view.last_error_code or view.last_error_message):
        from m2m_tui.api.errors import hint_for_code

        code = view.last_error_code or ""
        suffix = code.split(".", 2)[-1] if code.count(".") >= 2 else code
        hint = hint_for_code(code)
        parts = [p for p in (suffix, view.last_error_message, hint) if p]
        return "failed: " + " | ".join(parts)
    if not view.finished and not view.pollable:
        left = view.deadline - now
        when = f" (deadline in {age_text(left)})" if left > 0 else " (deadline passed)"
        return AWAITING_ADVICE + when
    if not view.finished and not callbacks_arrive:
        return "polling ThingSpace for the status (no callback can arrive here)"
    if not view.finished:
        return "polling ThingSpace for the status; a callback may finish it first"
    return ""


def matches(
    view: RequestView, states: tuple[str, ...] | None, text: str | None, mine: str | None = None
) -> bool:
    """The page's filter rules (the desk's), for rows that arrive live; ``mine``: only the
    requests this ``user@host`` submitted (None: everyone's)."""
    return request_matches(
        states,
        text,
        request_id=view.request_id,
        account=view.account,
        action=view.action,
        state=view.state,
        target=view.target,
        mine=mine,
        submitted_by=view.submitted_by,
    )
