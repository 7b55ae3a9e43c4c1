"""The group-committing writer: batches, commit-before-resolve, failures reach every caller.

Each behaviour holds for both backends (``journal_location``: an sqlite path or a PostgreSQL
URL, see ``journal_backends``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from m2m_tui.tracking.journal.interface import CallbackWriter
from m2m_tui.tracking.journal.open import open_journal, open_writer
from m2m_tui.tracking.records import (
    CallbackRecord,
    JournalError,
    JournalRecordError,
    RejectionRecord,
)
from tests.tracking.journal_backends import drop_callbacks_table, foreign_untouched, make_foreign
from tests.tracking.tracking_helpers import suspension_body


def _record(request_id: str, **body_extra: object) -> CallbackRecord:
    body = suspension_body(request_id) | body_extra
    return CallbackRecord(request_id, "suspension_status", body, "mdn:5551234567")


@pytest.fixture
def writer(journal_location: str) -> Iterator[CallbackWriter]:
    started = open_writer(journal_location)
    started.start()
    yield started
    started.close()


async def test_concurrent_appends_are_grouped_and_committed(
    writer: CallbackWriter, journal_location: str
) -> None:
    results = await asyncio.gather(*(writer.append_callback(_record(f"r{i}")) for i in range(300)))
    assert len({r.id for r in results}) == 300
    stats = writer.stats()
    assert stats.items == 300 and stats.batches < 300 and stats.largest_batch > 1
    # Resolved means committed: a separate read-only connection sees every row.
    with open_journal(journal_location, readonly=True) as reader:
        rows = reader.recent_callbacks(limit=1000)
    assert {r.id: r.request_id for r in rows} == {
        result.id: f"r{i}" for i, result in enumerate(results)
    }


async def test_duplicates_within_one_batch(writer: CallbackWriter) -> None:
    results = await asyncio.gather(*(writer.append_callback(_record("same")) for _ in range(5)))
    assert [r.duplicate for r in results] == [False, True, True, True, True]


async def test_one_bad_record_does_not_sink_its_batch(writer: CallbackWriter) -> None:
    bad = CallbackRecord("bad-\ud800", "other", {"requestId": "x"})  # cannot be encoded
    outcomes = await asyncio.gather(
        writer.append_callback(_record("ok1")),
        writer.append_callback(bad),
        writer.append_rejection(RejectionRecord("not_json", "bad \ud800 text", "\ud800")),
        writer.append_callback(_record("ok2")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], JournalRecordError)
    assert not isinstance(outcomes[0], BaseException)
    assert not isinstance(outcomes[3], BaseException)
    assert isinstance(outcomes[2], int)  # stored with the surrogate escaped


async def test_write_failure_reaches_every_waiter(
    writer: CallbackWriter, journal_location: str
) -> None:
    await writer.append_callback(_record("before"))
    drop_callbacks_table(journal_location)  # a journal that can no longer be written
    outcomes = await asyncio.gather(
        *(writer.append_callback(_record(f"r{i}")) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, JournalError) for o in outcomes)
    assert writer.stats().failed_batches >= 1
    assert writer.running  # the thread survives and keeps serving
    assert isinstance(await writer.append_rejection(RejectionRecord("not_json", "x")), int)


async def test_close_flushes_and_refuses_more(journal_location: str) -> None:
    writer = open_writer(journal_location, synchronous="FULL", linger=0.002)
    writer.start()
    pending = [asyncio.ensure_future(writer.append_callback(_record(f"r{i}"))) for i in range(50)]
    await asyncio.sleep(0)
    await writer.aclose()
    assert len(await asyncio.gather(*pending)) == 50
    with pytest.raises(JournalError, match="not running"):
        await writer.append_callback(_record("late"))
    with open_journal(journal_location, readonly=True) as reader:
        assert reader.last_callback_id() == 50


def test_start_reports_an_unusable_journal(journal_location: str) -> None:
    make_foreign(journal_location)
    writer = open_writer(journal_location)
    with pytest.raises(JournalError, match="not an m2m-tui journal"):
        writer.start()
    assert not writer.running
    assert foreign_untouched(journal_location)
