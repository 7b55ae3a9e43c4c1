"""How a PostgreSQL writer batch reaches the server: few round trips, the same guarantees.

The append lock serialises every writer of the team, and it is held from the statement that
takes it to COMMIT: each round trip inside that window is time no other listener can append.
Against a real server (``$M2M_TUI_TEST_POSTGRES``), each test in a schema of its own.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator

import pytest

from m2m_tui.tracking.journal.pg import PgJournal
from m2m_tui.tracking.journal.pg_writer import PgJournalWriter
from m2m_tui.tracking.records import CallbackRecord, CallbackRecordId, JournalRecordError
from tests.tracking.journal_backends import admin
from tests.tracking.tracking_helpers import suspension_body


def _record(request_id: str) -> CallbackRecord:
    body = suspension_body(request_id, count=1)
    return CallbackRecord(request_id, "suspension_status", body, "mdn:5551234567", 1)


@pytest.fixture
def writer(postgres_url: str) -> Iterator[PgJournalWriter]:
    with PgJournalWriter(postgres_url) as started:
        yield started


def _round_trips(trace: str) -> int:
    """Times the client sent and then waited for the server (libpq trace: F lines, then B)."""
    trips, last = 0, ""
    for line in trace.splitlines():
        fields = line.split("\t")
        direction = fields[1] if len(fields) > 1 else last
        if direction == "B" and last == "F":
            trips += 1
        last = direction
    return trips


async def test_a_batch_takes_two_round_trips_whatever_its_size(
    writer: PgJournalWriter, postgres_url: str
) -> None:
    await writer.append_callback(_record("warm-up"))  # statements prepared, schema known
    conn = writer._conn
    assert conn is not None
    before = writer.stats().batches
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        try:
            stored = await asyncio.gather(
                *(writer.append_callback(_record(f"r{i}")) for i in range(30))
            )
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        trips = _round_trips(trace.read())
    batches = writer.stats().batches - before
    assert all(isinstance(s, CallbackRecordId) and not s.duplicate for s in stored)
    # BEGIN, lock and inserts in one; notify and COMMIT in the next (was 8: one a statement).
    assert trips <= 2 * batches, (trips, batches)
    with PgJournal(postgres_url) as journal:
        assert journal.counts().callbacks_accepted == 31


async def test_a_record_the_database_refuses_does_not_sink_its_batch(
    writer: PgJournalWriter, postgres_url: str
) -> None:
    """One that slips past the checks fails only itself; the batch is redone row by row and
    the connection is left ready for the next one."""
    with admin(postgres_url) as conn:
        conn.execute("ALTER TABLE callbacks ADD CHECK (request_id <> 'poison')")
    outcomes = await asyncio.gather(
        *(writer.append_callback(_record(name)) for name in ("a", "poison", "b")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], JournalRecordError)
    assert all(isinstance(o, CallbackRecordId) for o in (outcomes[0], outcomes[2]))
    later = await writer.append_callback(_record("c"))
    assert not later.duplicate
    with PgJournal(postgres_url) as journal:
        names = [r.request_id for r in journal.recent_callbacks(after_id=0)]
    assert sorted(names) == ["a", "b", "c"]
