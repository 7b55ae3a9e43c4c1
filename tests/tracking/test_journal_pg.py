"""What only a shared PostgreSQL journal must do: several writers, the database deciding
duplicates, ids in commit order, schema versions, LISTEN/NOTIFY, reconnects, secrets.

Against a real server (``$M2M_TUI_TEST_POSTGRES``; see ``journal_backends``), each test in a
schema of its own.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from m2m_tui.tracking.journal.open import open_journal, open_writer
from m2m_tui.tracking.journal.pg import PgJournal
from m2m_tui.tracking.journal.pg_follow import FollowBatch, JournalFollower
from m2m_tui.tracking.journal.pg_schema import SCHEMA_VERSION, lock_key
from m2m_tui.tracking.journal.pg_store import lock_appends, store_callbacks
from m2m_tui.tracking.journal.pg_writer import PgJournalWriter
from m2m_tui.tracking.records import CallbackRecord, JournalError
from tests.tracking.journal_backends import admin
from tests.tracking.tracking_helpers import suspension_body
from tests.waiting import eventually

SECRET = "Sup3r-S3cret-db-pw"


def _record(request_id: str, count: int = 1) -> CallbackRecord:
    body = suspension_body(request_id, count=count)
    return CallbackRecord(request_id, "suspension_status", body, "mdn:5551234567", count)


def _named(url: str, name: str) -> str:
    """The URL with an application_name, to find (and cut) that client's connections."""
    return f"{url}&application_name={name}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _terminate(url: str, application_name: str) -> int:
    """Cut every connection of that client, as a server restart or failover would."""
    with admin(url) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchall()
    return len(rows)


def _waiting_on(url: str, application_name: str, lock: str) -> bool:
    """Whether that client's query is blocked on a lock of this type (e.g. advisory)."""
    with admin(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
            " WHERE a.application_name = %s AND NOT l.granted AND l.locktype = %s",
            (application_name, lock),
        ).fetchone()
    return bool(row and row[0])


@pytest.fixture
def journal(postgres_url: str) -> Iterator[PgJournal]:
    with PgJournal(postgres_url) as opened:
        yield opened


@pytest.fixture
def started(postgres_url: str) -> Iterator[list[PgJournalWriter]]:
    """Writers started by a test (named w0, w1, ...), all closed at its end."""
    writers: list[PgJournalWriter] = []
    yield writers
    for writer in writers:
        writer.close()


def _writer(url: str, writers: list[PgJournalWriter], **kwargs: Any) -> PgJournalWriter:
    writer = PgJournalWriter(_named(url, f"w{len(writers)}"), **kwargs)
    writer.start()
    writers.append(writer)
    return writer


# --- several writers, one journal -----------------------------------------------------------


async def test_two_writers_same_callback_at_once_count_it_once(
    postgres_url: str, started: list[PgJournalWriter], journal: PgJournal
) -> None:
    one, two = _writer(postgres_url, started), _writer(postgres_url, started)
    for i in range(40):
        first, second = await asyncio.gather(
            one.append_callback(_record(f"r{i}", count=1)),
            two.append_callback(_record(f"r{i}", count=2)),  # the resend, on the other host
        )
        assert sorted([first.duplicate, second.duplicate]) == [False, True], i
    counts = journal.counts()
    assert (counts.callbacks_accepted, counts.callbacks_duplicate) == (40, 40)
    assert journal.result_counts([f"r{i}" for i in range(40)]) == {
        f"r{i}": (1, 0) for i in range(40)
    }


@pytest.mark.parametrize("other_commits", [True, False])
async def test_the_database_decides_against_a_copy_in_flight(
    postgres_url: str, started: list[PgJournalWriter], other_commits: bool
) -> None:
    """A first copy still uncommitted in another listener's transaction: ours waits for it,
    then is the duplicate if that one commits, the result if it rolls back."""
    writer = _writer(postgres_url, started)
    other = admin(postgres_url)
    try:
        other.execute("BEGIN")
        [theirs] = store_callbacks(other, [_record("rq", count=1)])
        assert not isinstance(theirs, Exception) and theirs.duplicate is False
        ours = asyncio.ensure_future(writer.append_callback(_record("rq", count=2)))
        await eventually(lambda: _waiting_on(postgres_url, "w0", "transactionid"))
        assert not ours.done()
        other.execute("COMMIT" if other_commits else "ROLLBACK")
        stored = await ours
    finally:
        other.close()
    assert stored.duplicate is other_commits


async def test_ids_grow_in_commit_order(
    postgres_url: str, started: list[PgJournalWriter], journal: PgJournal
) -> None:
    """A follower reads "after the last id I saw": a transaction that took an id and commits
    later would be skipped, so appending transactions take their ids one after another."""
    writer = _writer(postgres_url, started)
    other = admin(postgres_url)
    try:
        other.execute("BEGIN")
        lock_appends(other, lock_key(_schema(other), "append"))
        [early] = store_callbacks(other, [_record("slow")])
        ours = asyncio.ensure_future(writer.append_callback(_record("fast")))
        await eventually(lambda: _waiting_on(postgres_url, "w0", "advisory"))
        assert journal.last_callback_id() == 0  # nothing committed yet
        other.execute("COMMIT")
        stored = await ours
    finally:
        other.close()
    assert not isinstance(early, Exception)
    assert stored.id > early.id
    assert [r.request_id for r in journal.recent_callbacks(after_id=0)] == ["slow", "fast"]


def _schema(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    assert row is not None
    return str(row[0])


# --- schema ------------------------------------------------------------------------------


def test_schema_created_once_by_concurrent_openers(postgres_url: str) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            PgJournal(postgres_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with admin(postgres_url) as conn:
        versions = conn.execute("SELECT version FROM schema_version").fetchall()
        meta = conn.execute("SELECT count(*) FROM meta WHERE key = 'application'").fetchone()
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    assert meta == (1,)


def test_newer_schema_and_missing_journal_are_refused(postgres_url: str) -> None:
    with pytest.raises(JournalError, match="no journal here yet"):
        PgJournal(postgres_url, readonly=True)
    PgJournal(postgres_url).close()
    with admin(postgres_url) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 0, 'the future')")
    with pytest.raises(JournalError, match=r"newer m2m-tui \(schema version 99"):
        PgJournal(postgres_url)
    with pytest.raises(JournalError, match="newer"):
        open_writer(postgres_url).start()


def test_a_readonly_journal_cannot_write(postgres_url: str) -> None:
    PgJournal(postgres_url).close()
    with PgJournal(postgres_url, readonly=True) as reader, pytest.raises(JournalError):
        reader.add_poll("r1", "Pending")


# --- following ---------------------------------------------------------------------------


async def test_follower_hears_commits_and_catches_up_after_a_reconnect(
    postgres_url: str, started: list[PgJournalWriter], journal: PgJournal
) -> None:
    writer = _writer(postgres_url, started)
    await writer.append_callback(_record("before"))  # already there: not delivered again
    batches: list[FollowBatch] = []
    follower = JournalFollower(_named(postgres_url, "follower"), batches.append, retry_interval=0.2)
    follower.start()
    try:
        await follower.wait_connected()

        def seen() -> list[str]:
            return [row.request_id for batch in batches for row in batch.callbacks]

        await writer.append_callback(_record("live-1"))
        await eventually(lambda: seen() == ["live-1"], within=1.0)
        # A request change is a doorbell alone: named, and no query run for it.
        queries = follower.queries
        journal.add_request(
            "req-A", action="suspend", account="A", target=[], pollable=True, deadline=1e12
        )
        await eventually(lambda: any("req-A" in batch.requests for batch in batches))
        assert follower.queries == queries
        # Cut the connection; what commits while it is down is read after the reconnect.
        assert _terminate(postgres_url, "follower") == 1
        await writer.append_callback(_record("while-down"))
        await eventually(lambda: follower.connects == 2 and follower.connected)
        await writer.append_callback(_record("live-2"))
        await eventually(lambda: seen()[-1:] == ["live-2"], within=2.0)
        assert seen() == ["live-1", "while-down", "live-2"]
        assert any(batch.resync for batch in batches[1:])
        ids = [row.id for batch in batches for row in batch.callbacks]
        assert ids == sorted(set(ids))
    finally:
        await follower.stop()


# --- reconnecting and refusing -----------------------------------------------------------


async def test_writer_and_journal_reconnect_by_themselves(
    postgres_url: str, started: list[PgJournalWriter]
) -> None:
    writer = _writer(postgres_url, started)
    await writer.append_callback(_record("r1"))
    with PgJournal(_named(postgres_url, "reader")) as reader:
        assert reader.last_callback_id() == 1
        assert _terminate(postgres_url, "w0") == 1
        assert _terminate(postgres_url, "reader") >= 1
        # Nothing was committed on the cut connection: the batch goes on a new one, no 503.
        stored = await writer.append_callback(_record("r2"))
        assert stored.duplicate is False and writer.problem is None
        assert [r.request_id for r in reader.recent_callbacks()] == ["r1", "r2"]


@pytest.fixture
def role(postgres_server: str) -> Iterator[str]:
    name = f"tui_{uuid.uuid4().hex[:12]}"
    with admin(postgres_server) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
    yield name
    with admin(postgres_server) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,)
        )
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


async def test_unreachable_journal_fails_every_caller_then_recovers(
    postgres_url: str, role: str, started: list[PgJournalWriter], caplog: pytest.LogCaptureFixture
) -> None:
    """While the database refuses us the writer fails each batch (the listener answers 503),
    says why without the password, and writes again once it can."""
    PgJournal(postgres_url).close()
    with admin(postgres_url) as conn:
        schema = sql.Identifier(_schema(conn))
        for grant in (
            "GRANT USAGE ON SCHEMA {} TO {}",
            "GRANT ALL ON ALL TABLES IN SCHEMA {} TO {}",
            "GRANT ALL ON ALL SEQUENCES IN SCHEMA {} TO {}",
        ):
            conn.execute(sql.SQL(grant).format(schema, sql.Identifier(role)))
    url = postgres_url.replace("postgresql://postgres@", f"postgresql://{role}:{SECRET}@", 1)
    assert SECRET in url
    writer = PgJournalWriter(url, retry_interval=0.05)
    writer.start()
    started.append(writer)
    await writer.append_callback(_record("r1"))
    caplog.set_level(logging.WARNING)
    with admin(postgres_url) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(role)))
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
        )
    outcomes = await asyncio.gather(
        *(writer.append_callback(_record(f"down-{i}")) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(o, JournalError) for o in outcomes), outcomes
    assert writer.problem is not None and "not permitted to log in" in writer.problem
    with admin(postgres_url) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(role)))

    async def written() -> bool:
        try:
            await writer.append_callback(_record("back"))
        except JournalError:
            return False
        return True

    for _ in range(200):
        if await written():
            break
        await asyncio.sleep(0.05)
    assert writer.problem is None
    shown = [writer.location, repr(writer), *map(str, outcomes), caplog.text]
    assert all(SECRET not in text for text in shown)
    assert "***" in writer.location


def test_the_password_is_never_shown(postgres_url: str) -> None:
    port = _free_port()  # nothing listens there
    dead = f"postgresql://tui:{SECRET}@127.0.0.1:{port}/journal?sslmode=disable"
    for attempt in (lambda: open_journal(dead), lambda: open_writer(dead).start()):
        with pytest.raises(JournalError) as caught:
            attempt()
        message = str(caught.value)
        assert SECRET not in message and "***" in message and str(port) in message
        assert caught.value.__suppress_context__  # a traceback shows no driver error either
    live = postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@", 1)
    with open_journal(live) as journal:  # the test server trusts: the password is not checked
        assert SECRET not in repr(journal) and SECRET not in journal.location


def test_a_multi_host_url_reaches_the_host_that_answers(postgres_url: str) -> None:
    """libpq gets the URL whole: its host list and target_session_attrs work by themselves."""
    head, _, rest = postgres_url.partition("@")
    hostport, _, tail = rest.partition("/")
    url = f"{head}@127.0.0.1:{_free_port()},{hostport}/{tail}&target_session_attrs=read-write"
    with open_journal(url) as journal:
        assert journal.last_callback_id() == 0


async def test_two_listeners_one_database_answer_after_commit_and_count_once(
    postgres_url: str, started: list[PgJournalWriter], journal: PgJournal
) -> None:
    """The listener as it is, writing through the PostgreSQL writer: the same callback posted
    to two listeners (two hosts behind a balancer) at once is 200 on both, stored once as the
    result and once as a duplicate, and committed before either answer."""
    import aiohttp
    from pydantic import SecretStr

    from m2m_tui.tracking.listener import CallbackListener
    from m2m_tui.tracking.listener_config import ListenerConfig
    from tests.tracking.tracking_helpers import PASSWORD, USERNAME

    url = postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@", 1)
    config = ListenerConfig(
        host="127.0.0.1", port=0, username=USERNAME, password=SecretStr(PASSWORD)
    )
    listeners = [
        CallbackListener(config, _writer(url, started))  # type: ignore[arg-type]
        for _ in range(2)
    ]
    for listener in listeners:
        await listener.start()
    try:
        async with aiohttp.ClientSession() as http:

            async def post(listener: CallbackListener, count: int) -> int:
                body = suspension_body("rq-both", count=count)
                async with http.post(listener.url + "cb/suspension", json=body) as response:
                    return response.status

            statuses = await asyncio.gather(post(listeners[0], 1), post(listeners[1], 2))
            rows = journal.callbacks_for("rq-both")  # read at once: 200 meant committed
            async with http.get(listeners[0].url.rstrip("/") + "/healthz") as response:
                health = await response.text()
    finally:
        for listener in listeners:
            await listener.stop()
    assert statuses == [200, 200]
    assert sorted(row.duplicate for row in rows) == [False, True]
    assert sum(listener.status().duplicates for listener in listeners) == 1
    assert SECRET not in health and "***" in health


def test_opening_creates_or_migrates_and_says_so(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from m2m_tui.tracking.journal import pg_schema

    with PgJournal(postgres_url) as journal:
        assert journal.schema_change == f"created the journal (schema version {SCHEMA_VERSION})"
        journal.add_poll("kept", "Pending")
    with PgJournal(postgres_url) as journal:
        assert journal.schema_change is None
    # A next version: the open journal is brought to it, its rows kept, and that is said.
    later = (*pg_schema.MIGRATIONS, ("CREATE TABLE later_thing (x integer)",))
    monkeypatch.setattr(pg_schema, "MIGRATIONS", later)
    monkeypatch.setattr(pg_schema, "SCHEMA_VERSION", len(later))
    writer = PgJournalWriter(postgres_url)
    writer.start()
    writer.close()
    assert writer.schema_change == (
        f"migrated the journal from schema version {len(later) - 1} to {len(later)}"
    )
    with PgJournal(postgres_url, readonly=True) as journal:
        assert [p.request_id for p in journal.polls_for("kept")] == ["kept"]
    with admin(postgres_url) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
        assert conn.execute("SELECT count(*) FROM later_thing").fetchone() == (0,)
    assert versions == list(range(1, len(later) + 1))


async def test_follower_resumes_after_given_ids_and_follows_rejections(
    postgres_url: str, started: list[PgJournalWriter], journal: PgJournal
) -> None:
    """A UI restarting where it stopped: rows after the ids it had come in the first batch."""
    from m2m_tui.tracking.records import RejectionRecord

    first, *_ = journal.append_callbacks([_record(f"r{i}") for i in range(3)])
    journal.append_rejections([RejectionRecord("not_json", "old")])
    batches: list[FollowBatch] = []
    follower = JournalFollower(
        postgres_url, batches.append, after_callback=first.id, after_rejection=0
    )
    follower.start()
    try:
        await follower.wait_connected()
        assert batches[0].resync
        assert [row.request_id for row in batches[0].callbacks] == ["r1", "r2"]
        assert [row.detail for row in batches[0].rejections] == ["old"]
        writer = _writer(postgres_url, started)
        await writer.append_rejection(RejectionRecord("bad_credentials", "new"))
        await eventually(lambda: len(batches) == 2, within=1.0)
        assert [row.detail for row in batches[1].rejections] == ["new"]
        assert batches[1].callbacks == () and not batches[1].resync
    finally:
        await follower.stop()


async def test_a_flood_of_refusals_is_counted_but_only_samples_kept(
    postgres_url: str, started: list[PgJournalWriter], journal: PgJournal
) -> None:
    from m2m_tui.tracking.records import RejectionRecord

    writer = _writer(postgres_url, started, keep_rejections=3)
    await asyncio.gather(
        *(writer.append_rejection(RejectionRecord("not_json", f"flood {i}")) for i in range(10))
    )
    await writer.append_rejection(RejectionRecord("bad_credentials", "one"))
    journal.append_rejections([RejectionRecord("not_json", "by the journal")])
    kept = [row.detail for row in journal.rejections(limit=100) if row.reason == "not_json"]
    assert kept[:3] == ["flood 7", "flood 8", "flood 9"] and kept[3:] == ["by the journal"]
    assert dict(journal.counts().rejections) == {"not_json": 11, "bad_credentials": 1}
