"""A request's story from the journal: submitted, polls that changed something, callbacks
(duplicates marked), completion; and the per-device outcome the callbacks tell.

Pure functions over what the desk read (:class:`~m2m_tui.desk.queries.RequestDetail`; no
Textual), so the detail screen only draws them. Every entry keeps the JSON it stands for,
shown raw (markup off) when the user opens it. The per-device outcomes are the desk's too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from m2m_tui.desk.queries.requests import DeviceOutcome, body_of, device_label, outcomes
from m2m_tui.tracking.records import CompletedBy, RequestState

if TYPE_CHECKING:
    from m2m_tui.desk.queries import RequestDetail
    from m2m_tui.tracking.records import CallbackRow, RequestRow

__all__ = ["DeviceOutcome", "TimelineEntry", "build_timeline", "device_label", "outcomes"]

KIND_LABELS = {
    "suspension_status": "susp status",
    "device_result": "device result",
    "failure": "failure",
    "completion": "completion",
    "other": "other message",
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    key: str
    at: float
    source: str
    event: str
    device: str = ""
    duplicate: bool = False
    raw: Any = None
    attempt: int | None = None
    rank: int = 1
    """Order among entries at the same time: submitted first, the end last."""


def _callback_text(row: CallbackRow, body: dict[str, Any]) -> str:
    label = KIND_LABELS.get(row.kind, row.kind)
    if row.kind == "failure":
        code = (body.get("faultResponse") or {}).get("faultcode") if body else None
        if code:
            label += " " + str(code).split(".", 2)[-1]
    elif row.kind == "suspension_status":
        items = (body.get("deviceResponse") or {}).get("deviceSuspensionStatusResponse")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            label += f": {items[0].get('state', '?')}"
    elif body.get("status"):
        label += f": {body['status']}"
    return label


def build_timeline(data: RequestDetail) -> list[TimelineEntry]:
    from m2m_tui.tracking.export import callback_dict, request_dict

    row = data.row
    entries: list[TimelineEntry] = []
    if row is not None:
        raw = request_dict(row)
        entries.append(
            TimelineEntry("request", row.submitted_at, "app", "submitted", raw=raw, rank=0)
        )
    for poll in data.polls:
        if not poll.changed:
            continue
        raw = {"id": poll.id, "requestId": poll.request_id, "status": poll.status}
        raw["polledAt"] = poll.polled_at
        entries.append(
            TimelineEntry(f"poll:{poll.id}", poll.polled_at, "poll", poll.status, raw=raw)
        )
    for callback in data.callbacks:
        body = body_of(callback)
        text = _callback_text(callback, body)
        entries.append(
            TimelineEntry(
                f"callback:{callback.id}",
                callback.received_at,
                "callback",
                text,
                (callback.device_key or "").partition(":")[2] or (callback.device_key or ""),
                callback.duplicate,
                callback_dict(callback),
                callback.callback_count,
            )
        )
    if row is not None and row.finished:
        entries.append(_end_entry(row, data, entries))
    entries.sort(key=lambda e: (e.at, e.rank))
    return entries


def _end_entry(row: RequestRow, data: RequestDetail, entries: list[TimelineEntry]) -> TimelineEntry:
    """The moment the request finished, by what: the last poll, callback, or the deadline."""
    at = row.updated_at
    if row.completed_by == CompletedBy.POLL:
        polls = [e.at for e in entries if e.source == "poll"]
        at = polls[-1] if polls else at
    elif row.completed_by == CompletedBy.CALLBACK:
        done = [c.received_at for c in data.callbacks if c.kind == "completion" and not c.duplicate]
        firsts = [c.received_at for c in data.callbacks if not c.duplicate]
        at = done[0] if done else (max(firsts) if firsts else at)
    elif row.state == RequestState.TIMED_OUT:
        at = row.deadline
    by = f" by {row.completed_by}" if row.completed_by else ""
    raw = {
        "requestId": row.request_id,
        "state": row.state,
        "completedBy": row.completed_by,
        "lastErrorCode": row.last_error_code,
        "lastErrorMessage": row.last_error_message,
    }
    source = row.completed_by or "tracker"
    text = f"{row.state.replace('_', ' ')}{by}"
    return TimelineEntry("end", at, source, text, raw=raw, rank=2)
