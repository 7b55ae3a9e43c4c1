"""How a PostgreSQL writer batch reaches the server: one message, the same guarantees.

The append lock serialises every writer of the team, and it is held from the statement that
takes it to COMMIT: any time the server spends waiting for the client inside that window
(a round trip, or the rest of a pipeline the client is still building) is time no other
listener can append. Against a real server (``$M2M_TUI_TEST_POSTGRES``), each test in a
schema of its own.
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


def _statements_run(trace: str) -> int:
    """Statements the client asked to run (libpq trace: F lines of Execute or Query)."""
    return sum(
        1
        for line in trace.splitlines()
        if line.split("\t")[1:4:2] in (["F", "Execute"], ["F", "Query"])
    )


async def test_a_batch_takes_one_round_trip_whatever_its_size(
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
        trace_text = trace.read()
        trips = _round_trips(trace_text)
    batches = writer.stats().batches - before
    assert all(isinstance(s, CallbackRecordId) and not s.duplicate for s in stored)
    # Lock, inserts and notify in one statement, committed as it ends, sent in one go: the
    # server never waits for this client while it holds the append lock (it was 2 round trips
    # and a pipeline of one statement per callback; 8 round trips before that).
    assert trips == batches, (trips, batches)
    assert _statements_run(trace_text) == batches
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


async def test_one_batch_decides_first_copies_and_duplicates_as_row_by_row(
    writer: PgJournalWriter, postgres_url: str
) -> None:
    """The batch statement decides as the row-by-row one did: a message already stored is a
    duplicate, a message twice in one batch is stored once as the result, ids grow in order."""
    before = await writer.append_callback(_record("known"))
    records = [_record(name) for name in ("a", "known", "a", "b", "b", "c")]
    stored = await asyncio.gather(*(writer.append_callback(r) for r in records))
    assert [s.duplicate for s in stored] == [False, True, True, False, True, False]
    firsts = [s.id for s in stored if not s.duplicate]
    assert firsts == sorted(firsts) and min(s.id for s in stored) > before.id
    assert len({s.id for s in stored}) == len(stored)
    with PgJournal(postgres_url) as journal:
        rows = {r.id: r for r in journal.recent_callbacks(limit=100, after_id=before.id)}
    assert sorted(rows) == sorted(s.id for s in stored)
    for record, result in zip(records, stored, strict=True):
        row = rows[result.id]
        assert row.request_id == record.request_id and row.duplicate == result.duplicate
        assert row.verdict == ("duplicate" if result.duplicate else "accepted")
    assert writer.stats().largest_batch > 1  # they did go in one batch (or a few)
