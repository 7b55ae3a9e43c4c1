"""The group-committing writer: batches, commit-before-resolve, failures reach every caller."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from m2m_tui.tracking.journal import Journal
from m2m_tui.tracking.journal_writer import JournalWriter
from m2m_tui.tracking.records import (
    CallbackRecord,
    JournalError,
    JournalRecordError,
    RejectionRecord,
)
from tests.tracking.tracking_helpers import suspension_body


def _record(request_id: str, **body_extra: object) -> CallbackRecord:
    body = suspension_body(request_id) | body_extra
    return CallbackRecord(request_id, "suspension_status", body, "mdn:5551234567")


async def test_concurrent_appends_are_grouped_and_committed(
    writer: JournalWriter, journal_path: Path
) -> None:
    results = await asyncio.gather(*(writer.append_callback(_record(f"r{i}")) for i in range(300)))
    assert len({r.id for r in results}) == 300
    stats = writer.stats()
    assert stats.items == 300 and stats.batches < 300 and stats.largest_batch > 1
    # Resolved means committed: a separate read-only connection sees every row.
    with Journal.open(journal_path, readonly=True) as reader:
        rows = reader.recent_callbacks(limit=1000)
    assert {r.id: r.request_id for r in rows} == {
        result.id: f"r{i}" for i, result in enumerate(results)
    }


async def test_duplicates_within_one_batch(writer: JournalWriter) -> None:
    results = await asyncio.gather(*(writer.append_callback(_record("same")) for _ in range(5)))
    assert [r.duplicate for r in results] == [False, True, True, True, True]


async def test_one_bad_record_does_not_sink_its_batch(writer: JournalWriter) -> None:
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
    writer: JournalWriter, journal_path: Path
) -> None:
    await writer.append_callback(_record("before"))
    conn = sqlite3.connect(journal_path)
    conn.execute("DROP TABLE callbacks")  # simulates a journal that can no longer be written
    conn.commit()
    conn.close()
    outcomes = await asyncio.gather(
        *(writer.append_callback(_record(f"r{i}")) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, JournalError) for o in outcomes)
    assert writer.stats().failed_batches >= 1
    assert writer.running  # the thread survives and keeps serving
    assert isinstance(await writer.append_rejection(RejectionRecord("not_json", "x")), int)


async def test_close_flushes_and_refuses_more(journal_path: Path) -> None:
    writer = JournalWriter(journal_path, synchronous="FULL", linger=0.002)
    writer.start()
    pending = [asyncio.ensure_future(writer.append_callback(_record(f"r{i}"))) for i in range(50)]
    await asyncio.sleep(0)
    await writer.aclose()
    assert len(await asyncio.gather(*pending)) == 50
    with pytest.raises(JournalError, match="not running"):
        await writer.append_callback(_record("late"))
    with Journal.open(journal_path, readonly=True) as reader:
        assert reader.last_callback_id() == 50


def test_start_reports_an_unusable_journal(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-journal.db"
    bad.write_text("hello" * 100)
    writer = JournalWriter(bad)
    with pytest.raises(JournalError, match="not an SQLite database"):
        writer.start()
    assert not writer.running
