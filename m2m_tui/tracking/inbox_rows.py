"""What the callbacks inbox shows, without Textual: entries, categories, filters, paging.

Categories (one per row):
- ``ours``: the request was known when the callback arrived;
- ``early``: the callback arrived before its request was known here, and the request is
  known now (the race of ``thingspace-api.md`` §9: the callback beat the synchronous answer);
- ``not ours``: no request of ours has that id (another user or system on the account);
- ``rejected``: the listener refused the POST (with the reason).

Rows read back from the journal carry no "ours at arrival" flag; for them a callback that was
received before its request was submitted is early, which is the same fact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from m2m_tui.tracking.records import CallbackRow, RejectionRow

if TYPE_CHECKING:
    from m2m_tui.tracking.journal.interface import JournalReader

OURS = "ours"
EARLY = "early"
NOT_OURS = "not ours"
REJECTED = "rejected"
CATEGORIES: tuple[str, ...] = (OURS, EARLY, NOT_OURS, REJECTED)

#: Short words for rejection reasons (the journal keeps the exact one).
REASON_LABELS = {
    "bad_credentials": "bad credentials",
    "not_json": "malformed",
    "not_object": "malformed",
    "invalid_envelope": "malformed",
    "too_large": "too large",
    "forbidden_source": "bad source",
    "journal_unavailable": "journal down",
}
KIND_LABELS = {
    "suspension_status": "susp-status",
    "device_result": "result",
    "failure": "failure",
    "completion": "completion",
    "other": "other",
}

#: Known request: its submitted_at (None when unknown).
RequestLookup = Callable[[str], float | None]


@dataclass(slots=True)
class InboxEntry:
    """One inbox row: a callback (``c:<id>``) or a rejection (``r:<id>``)."""

    key: str
    id: int
    received_at: float
    request_id: str
    category: str
    kind: str
    device: str
    duplicate: bool
    reason: str = ""
    detail: str = ""
    source: str = ""

    @property
    def is_rejection(self) -> bool:
        return self.key.startswith("r:")

    @property
    def category_label(self) -> str:
        if self.category == REJECTED:
            return f"rejected: {REASON_LABELS.get(self.reason, self.reason)}"
        return self.category

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def haystack(self) -> str:
        return " ".join(
            (
                self.request_id,
                self.category_label,
                self.kind,
                self.device,
                self.reason,
                self.detail,
                self.source,
            )
        ).lower()

    def matches(self, category: str | None, text: str) -> bool:
        if category is not None and self.category != category:
            return False
        return not text or text.lower() in self.haystack()


def categorize(received_at: float, submitted_at: float | None, ours_at_arrival: bool | None) -> str:
    if submitted_at is None:
        return NOT_OURS
    if ours_at_arrival is None:
        return EARLY if received_at < submitted_at else OURS
    return OURS if ours_at_arrival else EARLY


def callback_entry(row: CallbackRow, lookup: RequestLookup, ours: bool | None = None) -> InboxEntry:
    return InboxEntry(
        key=f"c:{row.id}",
        id=row.id,
        received_at=row.received_at,
        request_id=row.request_id,
        category=categorize(row.received_at, lookup(row.request_id), ours),
        kind=row.kind,
        device=row.device_key or "",
        duplicate=row.duplicate,
        source=row.source or "",
    )


def rejection_entry(row: RejectionRow) -> InboxEntry:
    return InboxEntry(
        key=f"r:{row.id}",
        id=row.id,
        received_at=row.received_at,
        request_id="",
        category=REJECTED,
        kind="",
        device="",
        duplicate=False,
        reason=row.reason,
        detail=row.detail,
        source=row.source or "",
    )


def newest_first(entries: Iterable[InboxEntry]) -> list[InboxEntry]:
    return sorted(entries, key=lambda e: (e.received_at, e.key), reverse=True)


def short_id(request_id: str, width: int = 8) -> str:
    return request_id if len(request_id) <= width else request_id[: width - 1] + "…"


def clock_text(timestamp: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


# --- reading the journal --------------------------------------------------------------------


def rejection_by_id(journal: JournalReader, record_id: int) -> RejectionRow | None:
    rows = journal.rejections(limit=1, after_id=record_id - 1)
    return rows[0] if rows and rows[0].id == record_id else None


def raw_text(journal: JournalReader, entry: InboxEntry) -> str:
    """What the raw view shows: the stored (redacted) JSON, pretty, or the refusal."""
    import json

    if entry.is_rejection:
        row = rejection_by_id(journal, entry.id)
        if row is None:
            return "(this rejection is no longer in the journal)"
        lines = [
            f"rejected: {row.reason}",
            f"detail: {row.detail}",
            f"source: {row.source or '-'}",
            "",
            "excerpt of the body (password redacted, at most 500 characters):",
            row.excerpt or "(empty)",
        ]
        return "\n".join(lines)
    callback = journal.callback(entry.id)
    if callback is None:
        return "(this callback is no longer in the journal)"
    try:
        return json.dumps(json.loads(callback.body), indent=2, ensure_ascii=False)
    except ValueError:
        return callback.body
