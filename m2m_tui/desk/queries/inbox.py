"""The callbacks inbox's reads: the newest window, what arrived since, older pages, raw text.

Each read also says when the requests its callbacks name were submitted (None: not ours),
so the screen can sort every row into ours / early / not ours without a read of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from m2m_tui.tracking import inbox_rows
from m2m_tui.tracking.inbox_rows import InboxEntry
from m2m_tui.tracking.records import CallbackRow, RejectionRow

if TYPE_CHECKING:
    from m2m_tui.tracking.journal.interface import JournalStore


@dataclass(frozen=True, slots=True)
class InboxBatch:
    """Callbacks and rejections in id order (older pages: newest first, as paged back)."""

    callbacks: tuple[CallbackRow, ...] = ()
    rejections: tuple[RejectionRow, ...] = ()
    submitted: Mapping[str, float | None] = field(default_factory=dict)
    """submitted_at of the requests the callbacks name (those not in ``known``)."""

    def __bool__(self) -> bool:
        return bool(self.callbacks or self.rejections)


def read_submitted(journal: JournalStore, request_ids: Iterable[str]) -> dict[str, float | None]:
    """When each request was submitted, or None when the journal has no such request."""
    found: dict[str, float | None] = {}
    for request_id in request_ids:
        if request_id not in found:
            row = journal.get_request(request_id)
            found[request_id] = row.submitted_at if row is not None else None
    return found


def _batch(
    journal: JournalStore,
    callbacks: list[CallbackRow],
    rejections: list[RejectionRow],
    known: frozenset[str],
) -> InboxBatch:
    wanted = {row.request_id for row in callbacks} - known
    return InboxBatch(tuple(callbacks), tuple(rejections), read_submitted(journal, wanted))


def read_latest(
    journal: JournalStore, limit: int, known: frozenset[str] = frozenset()
) -> InboxBatch:
    """The newest ``limit`` callbacks and ``limit`` rejections."""
    callbacks = journal.recent_callbacks(limit=limit)
    rejections = journal.rejections(limit=limit)
    return _batch(journal, callbacks, rejections, known)


def read_after(
    journal: JournalStore,
    last_callback: int,
    last_rejection: int,
    limit: int,
    known: frozenset[str] = frozenset(),
) -> InboxBatch:
    """Everything journaled after those ids, of which the newest ``limit`` of each are kept."""
    callbacks: list[CallbackRow] = []
    while True:
        batch = journal.recent_callbacks(limit=limit, after_id=last_callback)
        if not batch:
            break
        last_callback = batch[-1].id
        callbacks = (callbacks + batch)[-limit:]
    rejections: list[RejectionRow] = []
    while True:
        more = journal.rejections(limit=limit, after_id=last_rejection)
        if not more:
            break
        last_rejection = more[-1].id
        rejections = (rejections + more)[-limit:]
    return _batch(journal, callbacks, rejections, known)


def read_before(
    journal: JournalStore,
    oldest_callback: int | None,
    oldest_rejection: int | None,
    page: int,
    known: frozenset[str] = frozenset(),
) -> InboxBatch:
    """The ``page`` callbacks and rejections just older than those ids (None: none held)."""
    callbacks = (
        journal.callbacks_before(oldest_callback, page) if oldest_callback is not None else []
    )
    rejections = (
        journal.rejections_before(oldest_rejection, page) if oldest_rejection is not None else []
    )
    return _batch(journal, callbacks, rejections, known)


def raw_text(journal: JournalStore, entry: InboxEntry) -> str:
    """The stored (redacted) JSON of a callback, pretty; or a rejection's reason and excerpt."""
    return inbox_rows.raw_text(journal, entry)


class InboxMarks:
    """Where an inbox window stands in the journal (loop side; the reads take a snapshot).

    The ids read so far both ways, whether older pages ran out, and the submission times the
    reads found. Reads may overlap (a live update while the window loads): :meth:`take` keeps
    only rows past the marks, so no row is ever shown twice.
    """

    def __init__(self) -> None:
        self.last_callback = 0
        self.last_rejection = 0
        self.oldest_callback: int | None = None
        self.oldest_rejection: int | None = None
        self.exhausted = False
        self.submitted: dict[str, float | None] = {}

    def reset(self) -> None:
        """Before reading the newest window again."""
        self.last_callback = self.last_rejection = 0
        self.oldest_callback = self.oldest_rejection = None
        self.exhausted = False

    def known(self) -> frozenset[str]:
        """Requests whose submission time is known: the reads skip looking them up."""
        return frozenset(k for k, v in self.submitted.items() if v is not None)

    def forget_unknown(self) -> None:
        """Requests not found may have been submitted since: look them up again."""
        self.submitted = {k: v for k, v in self.submitted.items() if v is not None}

    def take(self, batch: InboxBatch, *, newer: bool) -> InboxBatch:
        """The rows of ``batch`` not held yet; moves the marks past them."""
        self.submitted.update(batch.submitted)
        if newer:
            callbacks = [r for r in batch.callbacks if r.id > self.last_callback]
            rejections = [r for r in batch.rejections if r.id > self.last_rejection]
            if callbacks:
                self.last_callback = callbacks[-1].id
                if self.oldest_callback is None:
                    self.oldest_callback = callbacks[0].id
            if rejections:
                self.last_rejection = rejections[-1].id
                if self.oldest_rejection is None:
                    self.oldest_rejection = rejections[0].id
        else:
            old_cb, old_rej = self.oldest_callback, self.oldest_rejection
            callbacks = [r for r in batch.callbacks if old_cb is None or r.id < old_cb]
            rejections = [r for r in batch.rejections if old_rej is None or r.id < old_rej]
            if callbacks:
                self.oldest_callback = min(r.id for r in callbacks)
            if rejections:
                self.oldest_rejection = min(r.id for r in rejections)
            self.exhausted = not (callbacks or rejections)
        return InboxBatch(tuple(callbacks), tuple(rejections), batch.submitted)
