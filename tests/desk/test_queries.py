"""The desk's journal reads, headless, against a real sqlite journal filled the way the app
fills it: the tracker records requests and polls, the listener's writer thread stores callbacks.

Each story is what a screen asks for (the requests page, one request, the inbox window,
recent devices), read through :class:`JournalQueries` only.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from m2m_tui.api.models import CallbackMessage
from m2m_tui.desk.queries import (
    InboxMarks,
    JournalQueries,
    RecentDevices,
    RequestsQuery,
    callbacks_about,
)
from m2m_tui.desk.queries.reader import JournalReader
from m2m_tui.tracking import inbox_rows
from m2m_tui.tracking.intake import device_key_of
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.journal.sqlite_writer import JournalWriter
from m2m_tui.tracking.records import CallbackRecord, RejectionRecord
from m2m_tui.tracking.tracker import Tracker

from ..tracking.tracking_helpers import FAILURE_BODY, PASSWORD, completion_body, suspension_body

ACCOUNT = "0000123456-00001"
MDN1 = {"id": "5551234567", "kind": "mdn"}
MDN2 = {"id": "5551234568", "kind": "mdn"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Desk:
    """A journal as the app writes it: tracker for requests and polls, writer for callbacks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = Clock()
        self.journal = Journal.open(path)
        self.tracker = Tracker(self.journal, deadline=600, clock=self.clock)
        self.writer = JournalWriter(path)
        self.writer.start()

    async def callback(self, body: dict[str, Any], *, track: bool = True) -> int:
        """What the listener does: journal through the writer thread, then tell the tracker."""
        message = CallbackMessage.model_validate(body)
        self.clock.now += 1
        record = CallbackRecord(
            request_id=message.requestId,
            kind=message.kind.value,
            body=body,
            device_key=device_key_of(body),
            callback_count=message.callbackCount,
            received_at=self.clock.now,
        )
        stored = await self.writer.append_callback(record)
        row = self.journal.callback(stored.id)
        assert row is not None
        if track:
            self.tracker.callback(row)
        return stored.id

    async def rejection(self, reason: str, excerpt: str) -> int:
        self.clock.now += 1
        record = RejectionRecord(reason, "refused", excerpt, "127.0.0.1", self.clock.now)
        return await self.writer.append_rejection(record)

    def submit(self, action: str, request_id: str, **target: Any) -> None:
        self.clock.now += 1
        self.tracker.submitted(action, ACCOUNT, request_id, **target)

    def close(self) -> None:
        self.writer.close()
        self.journal.close()


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    made = Desk(tmp_path / "journal.sqlite3")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
async def queries(desk: Desk) -> AsyncIterator[JournalQueries]:
    made = JournalQueries(desk.path)
    try:
        yield made
    finally:
        made.close()


def failure_body(request_id: str, device: dict[str, str]) -> dict[str, Any]:
    body = copy.deepcopy(FAILURE_BODY)
    body["requestId"] = request_id
    body["deviceIds"] = [device]
    return body


# ------------------------------------------------------------------ the requests page


async def test_requests_page_filters_pages_and_counts_results(
    desk: Desk, queries: JournalQueries
) -> None:
    """The engineer's list: newest first, filtered by state and text, paged, with 'answered
    of expected, failed' counted by the tracker's rule (a resend is not a second answer)."""
    for n in range(5):
        desk.submit("restore", f"old-{n}", devices=[MDN1])
        desk.tracker.polled(f"old-{n}", "Success")
    desk.submit("suspension_status", "susp-1", devices=[MDN1, MDN2])
    await desk.callback(suspension_body("susp-1", mdn=MDN1["id"]))
    await desk.callback(suspension_body("susp-1", mdn=MDN1["id"], count=2))  # a resend
    await desk.callback(failure_body("susp-1", MDN2))

    first = await queries.requests_page(RequestsQuery(limit=3))
    assert first.error is None and first.total == 6
    assert [r.request_id for r in first.rows] == ["susp-1", "old-4", "old-3"]
    susp = first.rows[0]
    assert (susp.received, susp.expected, susp.failures) == (2, 2, 1)
    assert susp.target == {"devices": [MDN1, MDN2]} and not susp.pollable
    assert first.rows[1].state == "completed" and first.rows[1].completed_by == "poll"

    rest = await queries.requests_page(RequestsQuery(offset=3, limit=3))
    assert [r.request_id for r in rest.rows] == ["old-2", "old-1", "old-0"]

    done = await queries.requests_page(RequestsQuery(states=("completed",)))
    assert done.total == 5 and "susp-1" not in {r.request_id for r in done.rows}
    by_text = await queries.requests_page(RequestsQuery(text="SUSP"))
    assert [r.request_id for r in by_text.rows] == ["susp-1"] and by_text.total == 1
    by_device = await queries.requests_page(RequestsQuery(text=MDN2["id"]))
    assert [r.request_id for r in by_device.rows] == ["susp-1"]


async def test_rows_are_plain_frozen_values(desk: Desk, queries: JournalQueries) -> None:
    desk.submit("suspend", "frozen-1", devices=[MDN1])
    page = await queries.requests_page(RequestsQuery())
    (row,) = page.rows
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.state = "completed"  # type: ignore[misc]
    assert isinstance(page.rows, tuple)


async def test_no_journal_yet_reads_empty_and_creates_nothing(tmp_path: Path) -> None:
    """A first start: the views show "no request yet", and reading never creates the file."""
    path = tmp_path / "later.sqlite3"
    queries = JournalQueries(path)
    try:
        page = await queries.requests_page(RequestsQuery())
        assert (page.rows, page.total, page.error) == ((), 0, None)
        detail = await queries.request_detail("nope")
        assert detail.row is None and detail.error is None
        assert not (await queries.inbox_latest(InboxMarks(), 100))
        assert not path.exists()
        # Tracking starts later and creates it: the same queries object now reads it.
        later = Desk(path)
        try:
            later.submit("restore", "after-start", devices=[MDN1])
            page = await queries.requests_page(RequestsQuery())
            assert [r.request_id for r in page.rows] == ["after-start"]
        finally:
            later.close()
    finally:
        queries.close()


async def test_a_file_that_is_not_a_journal_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a journal at all\n" * 100, encoding="utf-8")
    queries = JournalQueries(path)
    try:
        page = await queries.requests_page(RequestsQuery())
        assert page.rows == () and page.error and str(path) in page.error
        detail = await queries.request_detail("x")
        assert detail.row is None and detail.error
    finally:
        queries.close()


async def test_reads_run_in_a_worker_thread_not_on_the_event_loop(
    desk: Desk, queries: JournalQueries, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.submit("restore", "threaded", devices=[MDN1])
    seen: list[int] = []
    original = JournalReader.run

    def spy(self: JournalReader, read: Any, empty: Any) -> Any:
        seen.append(threading.get_ident())
        return original(self, read, empty)

    monkeypatch.setattr(JournalReader, "run", spy)
    await queries.requests_page(RequestsQuery())
    await queries.request_detail("threaded")
    await queries.inbox_latest(InboxMarks(), 10)
    assert len(seen) == 3 and threading.get_ident() not in seen


# ------------------------------------------------------------------ one request


async def test_page_and_detail_give_the_trackers_summary_shape(
    desk: Desk, queries: JournalQueries
) -> None:
    """One summary type for every reader (issue 8): the page's rows and a detail's summary are
    ``tracking.records.RequestSummary`` with enum states, the same value the tracker gives."""
    from m2m_tui.desk import queries as queries_package
    from m2m_tui.tracking.records import CompletedBy, RequestAction, RequestState, RequestSummary

    assert queries_package.RequestSummary is RequestSummary
    desk.submit("restore", "shape-1", devices=[MDN1])
    desk.tracker.polled("shape-1", "Success")
    (row,) = (await queries.requests_page(RequestsQuery())).rows
    assert type(row) is RequestSummary
    assert row.state is RequestState.COMPLETED and row.completed_by is CompletedBy.POLL
    assert row.action is RequestAction.RESTORE
    detail = await queries.request_detail("shape-1")
    assert detail.summary == row
    live = desk.tracker.summary("shape-1")
    assert live is not None and (live.state, live.completed_by) == (row.state, row.completed_by)


async def test_request_detail_has_polls_callbacks_outcomes_and_faults(
    desk: Desk, queries: JournalQueries
) -> None:
    """The detail screen's inputs: the request, polls that changed something, every callback
    (resends marked), one outcome per device with the failure's fault decoded."""
    desk.submit("restore", "detail-1", devices=[MDN1, MDN2])
    desk.tracker.polled("detail-1", "Pending")
    await desk.callback(suspension_body("detail-1", mdn=MDN1["id"]))
    await desk.callback(suspension_body("detail-1", mdn=MDN1["id"], count=2))
    await desk.callback(failure_body("detail-1", MDN2))
    await desk.callback(completion_body("detail-1"))

    detail = await queries.request_detail("detail-1")
    assert detail.error is None and detail.row is not None
    assert detail.row.request_id == "detail-1"
    assert [p.status for p in detail.polls] == ["Pending"]
    assert [c.duplicate for c in detail.callbacks] == [False, True, False, False]
    assert all(PASSWORD not in c.body for c in detail.callbacks)
    by_device = {o.device: o for o in detail.outcomes}
    assert set(by_device) == {"MDN 5551234567", "MDN 5551234568"}
    assert by_device["MDN 5551234567"].ok
    assert by_device["MDN 5551234567"].suspension_items()[0]["state"] == "suspend"
    failed = by_device["MDN 5551234568"]
    assert not failed.ok
    assert failed.fault == (
        "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive",
        "REQUEST_FAILED. Device is already active",
    )
    summary = detail.summary
    assert summary is not None
    assert (summary.state, summary.received, summary.failures) == (
        desk.tracker.get("detail-1").state.value,  # type: ignore[union-attr]
        2,
        1,
    )

    unknown = await queries.request_detail("never-submitted")
    assert unknown.row is None and unknown.callbacks == () and unknown.summary is None


async def test_export_text_redacts_and_names_the_request(
    desk: Desk, queries: JournalQueries, tmp_path: Path
) -> None:
    desk.submit("suspension_status", "export-1", devices=[MDN1])
    await desk.callback(suspension_body("export-1", mdn=MDN1["id"]))
    text = await queries.export_text("md", "export-1")
    assert "export-1" in text and PASSWORD not in text
    missing = JournalQueries(tmp_path / "none.sqlite3")
    try:
        with pytest.raises(Exception, match="no journal here yet"):
            await missing.export_text("json", "export-1")
    finally:
        missing.close()


async def test_callbacks_about_a_device_since_a_timeout(desk: Desk) -> None:
    """A timed-out POST: the callbacks naming its device since it was sent (not resends)."""
    await desk.callback(suspension_body("before", mdn=MDN1["id"]))
    sent_at = desk.clock.now + 0.5
    await desk.callback(suspension_body("adopt-me", mdn=MDN1["id"]))
    await desk.callback(suspension_body("adopt-me", mdn=MDN1["id"], count=2))
    await desk.callback(suspension_body("other-device", mdn=MDN2["id"]))
    rows = callbacks_about(desk.path, ["mdn:5551234567"], sent_at)
    assert [r.request_id for r in rows] == ["adopt-me"]
    queries = JournalQueries(desk.path)
    try:
        rows = await queries.callbacks_about({"mdn:5551234567", "mdn:5551234568"}, sent_at)
        assert [r.request_id for r in rows] == ["adopt-me", "other-device"]
    finally:
        queries.close()


# ------------------------------------------------------------------ the inbox


def categories(batch: Any, marks: InboxMarks) -> dict[str, str]:
    """What the inbox shows per callback: ours / early / not ours (and rejections)."""
    out = {}
    for row in batch.callbacks:
        out[row.request_id] = inbox_rows.categorize(
            row.received_at, marks.submitted.get(row.request_id), None
        )
    for rejection in batch.rejections:
        out[rejection.reason] = inbox_rows.REJECTED
    return out


async def test_inbox_window_sorts_ours_early_not_ours_and_rejected(
    desk: Desk, queries: JournalQueries
) -> None:
    desk.submit("suspension_status", "ours-1", devices=[MDN1])
    await desk.callback(suspension_body("ours-1", mdn=MDN1["id"]))
    # The callback beats the synchronous answer: journaled first, request known after.
    await desk.callback(suspension_body("early-1", mdn=MDN2["id"]), track=False)
    desk.submit("suspension_status", "early-1", devices=[MDN2])
    await desk.callback(suspension_body("someone-else", mdn=MDN2["id"]))
    await desk.rejection("bad_credentials", '{"password": "guess"}')

    marks = InboxMarks()
    batch = await queries.inbox_latest(marks, 100)
    assert categories(batch, marks) == {
        "ours-1": inbox_rows.OURS,
        "early-1": inbox_rows.EARLY,
        "someone-else": inbox_rows.NOT_OURS,
        "bad_credentials": inbox_rows.REJECTED,
    }
    assert marks.last_callback == batch.callbacks[-1].id and marks.last_rejection == 1
    assert "guess" not in batch.rejections[0].excerpt


async def test_inbox_follows_new_rows_and_never_shows_one_twice(
    desk: Desk, queries: JournalQueries
) -> None:
    """Live: only rows past the marks come back, even when two reads overlap."""
    for n in range(3):
        await desk.callback(suspension_body(f"live-{n}"))
    marks = InboxMarks()
    first = await queries.inbox_latest(marks, 100)
    assert len(first.callbacks) == 3
    assert not await queries.inbox_newer(marks, 100)
    await desk.callback(suspension_body("live-3"))
    await desk.rejection("not_json", "{oops")
    # Two updates read at once (both from the same marks): the rows come once.
    import asyncio

    one, two = await asyncio.gather(
        queries.inbox_newer(marks, 100), queries.inbox_newer(marks, 100)
    )
    got = [r.request_id for r in one.callbacks + two.callbacks]
    assert got == ["live-3"]
    assert len(one.rejections + two.rejections) == 1
    # A burst larger than the window: the newest rows of it are kept.
    for n in range(4, 12):
        await desk.callback(suspension_body(f"live-{n}"))
    burst = await queries.inbox_newer(marks, 5)
    assert [r.request_id for r in burst.callbacks] == [f"live-{n}" for n in range(7, 12)]


async def test_inbox_pages_backwards_until_nothing_is_left(
    desk: Desk, queries: JournalQueries
) -> None:
    for n in range(12):
        await desk.callback(suspension_body(f"page-{n:02d}"))
    for n in range(3):
        await desk.rejection("too_large", f"x{n}")
    marks = InboxMarks()
    window = await queries.inbox_latest(marks, 5)
    assert [r.request_id for r in window.callbacks] == [f"page-{n:02d}" for n in range(7, 12)]
    older = await queries.inbox_older(marks, 4)
    assert [r.request_id for r in older.callbacks] == [f"page-{n:02d}" for n in (6, 5, 4, 3)]
    assert older.rejections == () and not marks.exhausted
    older = await queries.inbox_older(marks, 4)
    assert [r.request_id for r in older.callbacks] == ["page-02", "page-01", "page-00"]
    assert not await queries.inbox_older(marks, 4)
    assert marks.exhausted


async def test_a_request_submitted_later_is_found_on_the_next_look(
    desk: Desk, queries: JournalQueries
) -> None:
    """'not ours' is looked up again: a request journaled by another process later is ours."""
    await desk.callback(suspension_body("late-1"), track=False)
    marks = InboxMarks()
    await queries.inbox_latest(marks, 10)
    assert marks.submitted == {"late-1": None}
    desk.submit("suspension_status", "late-1", devices=[MDN1])
    marks.forget_unknown()
    found = await queries.submitted_at(["late-1"], marks)
    assert found["late-1"] == marks.submitted["late-1"] == desk.clock.now


async def test_raw_text_of_a_callback_and_of_a_rejection(
    desk: Desk, queries: JournalQueries
) -> None:
    record_id = await desk.callback(suspension_body("raw-1"))
    rejection_id = await desk.rejection("bad_credentials", '{"password": "guess"}')
    batch = await queries.inbox_latest(InboxMarks(), 10)
    callback = inbox_rows.callback_entry(batch.callbacks[0], lambda _: None)
    assert callback.id == record_id
    text = await queries.raw_text(callback)
    assert '"requestId": "raw-1"' in text and PASSWORD not in text
    rejection = inbox_rows.rejection_entry(batch.rejections[0])
    assert rejection.id == rejection_id
    text = await queries.raw_text(rejection)
    assert "rejected: bad_credentials" in text and "guess" not in text


# ------------------------------------------------------------------ recent devices


async def test_recent_devices_remembers_each_device_once_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "folder" / "journal.sqlite3"
    recent = RecentDevices(path)
    try:
        assert await recent.recent() == []
        await recent.remember(ACCOUNT, "IMEI", "359876543210987", "IMEI 3598…", {"state": "a"})
        await recent.remember(None, "mdn", "5551234567", "MDN 5551234567", None)
        await recent.remember(ACCOUNT, "imei", "359876543210987", "IMEI 3598…", {"state": "s"})
        rows = await recent.recent(5)
        assert [(r.kind, r.device_id, r.lookups) for r in rows] == [
            ("imei", "359876543210987", 2),
            ("mdn", "5551234567", 1),
        ]
        assert rows[0].summary == {"state": "s"} and rows[1].account == ""
        assert recent.broken is None
    finally:
        recent.close()
    # The lookups are in the journal: another reader (the next start) sees them.
    reopened = RecentDevices(path)
    try:
        assert [r.device_id for r in await reopened.recent(1)] == ["359876543210987"]
    finally:
        reopened.close()


async def test_recent_devices_on_an_unusable_journal_say_why_and_keep_working(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_text("not sqlite\n" * 100, encoding="utf-8")
    recent = RecentDevices(path)
    try:
        await recent.remember(ACCOUNT, "mdn", "5551234567", "MDN", None)
        assert await recent.recent() == []
        assert recent.broken and str(path) in recent.broken
    finally:
        recent.close()


async def test_after_close_a_late_read_opens_nothing(desk: Desk) -> None:
    """The app closes its queries on exit; a read still in flight then gets nothing back
    instead of opening a connection nobody will close."""
    desk.submit("restore", "late", devices=[MDN1])
    queries = JournalQueries(desk.path)
    assert (await queries.requests_page(RequestsQuery())).total == 1
    queries.close()
    page = await queries.requests_page(RequestsQuery())
    assert page.rows == () and page.total == 0 and page.error is None
