"""Opening journals: creation, reopening, migration, and refusing files that are not ours."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from m2m_tui.tracking.journal import sqlite_schema
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.journal.sqlite_writer import JournalWriter
from m2m_tui.tracking.records import JournalError
from m2m_tui.tracking.service import TrackingService, TrackingSettings


def _snapshot(path: Path) -> tuple[bytes, int, list[str]]:
    siblings = sorted(p.name for p in path.parent.iterdir())
    return path.read_bytes(), path.stat().st_mtime_ns, siblings


def test_new_journal_has_schema_and_marks(journal_path: Path) -> None:
    with Journal.open(journal_path) as journal:
        conn = journal.connection
        assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite_schema.SCHEMA_VERSION
        assert conn.execute("PRAGMA application_id").fetchone()[0] == sqlite_schema.APPLICATION_ID
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"meta", "requests", "callbacks", "rejections", "polls", "devices"} <= tables
        magic = conn.execute("SELECT value FROM meta WHERE key='application'").fetchone()[0]
        assert magic == sqlite_schema.MAGIC


def test_reopen_keeps_data(journal_path: Path) -> None:
    with Journal.open(journal_path) as journal:
        journal.add_request(
            "r1", action="suspend", account="A", target=[], pollable=True, deadline=1
        )
    with Journal.open(journal_path) as journal:
        row = journal.get_request("r1")
        assert row is not None and row.action == "suspend"


def test_empty_file_becomes_a_journal(journal_path: Path) -> None:
    journal_path.write_bytes(b"")
    with Journal.open(journal_path) as journal:
        assert journal.list_requests() == []


def test_valid_but_empty_sqlite_file_becomes_a_journal(journal_path: Path) -> None:
    # What a crash between creating the file and the first migration would leave (version 0).
    conn = sqlite3.connect(journal_path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    assert journal_path.stat().st_size > 0
    with Journal.open(journal_path) as journal:
        version = journal.connection.execute("PRAGMA user_version").fetchone()[0]
        assert version == sqlite_schema.SCHEMA_VERSION


def test_unusable_directory_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "journal.db"
    with pytest.raises(JournalError, match="no-such-dir"):
        Journal.open(missing)


def _make_v1(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in sqlite_schema.MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO meta VALUES ('application', ?)", (sqlite_schema.MAGIC,))
    conn.execute(
        "INSERT INTO requests (request_id, action, account, target, pollable, submitted_at,"
        " state, deadline, updated_at) VALUES ('old', 'restore', 'A', '[]', 1, 5, 'pending', 9, 5)"
    )
    conn.execute(f"PRAGMA application_id = {sqlite_schema.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.close()


def test_older_schema_is_migrated_keeping_rows(journal_path: Path) -> None:
    _make_v1(journal_path)
    with Journal.open(journal_path) as journal:
        conn = journal.connection
        assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite_schema.SCHEMA_VERSION
        old = journal.get_request("old")
        assert old is not None and old.state == "pending" and old.profile is None
        journal.add_device_lookup("A", "mdn", "5551234567", label="pump 7")  # a v2 table
        assert [d.device_id for d in journal.recent_devices()] == ["5551234567"]


def test_readonly_refuses_an_unmigrated_journal(journal_path: Path) -> None:
    _make_v1(journal_path)
    before = _snapshot(journal_path)
    with pytest.raises(JournalError, match="older"):
        Journal.open(journal_path, readonly=True)
    assert _snapshot(journal_path) == before


def test_failed_migration_rolls_back(journal_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_v1(journal_path)
    broken = (sqlite_schema.MIGRATIONS[0], (*sqlite_schema.MIGRATIONS[1], "NOT SQL"))
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", broken)
    with pytest.raises(JournalError):
        Journal.open(journal_path)
    conn = sqlite3.connect(journal_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "devices" not in tables
    conn.close()


def test_foreign_sqlite_file_is_refused_and_untouched(journal_path: Path) -> None:
    conn = sqlite3.connect(journal_path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('pat')")
    conn.commit()
    conn.close()
    os.utime(journal_path, ns=(1_000_000_000, 1_000_000_000))
    before = _snapshot(journal_path)
    for readonly in (False, True):
        with pytest.raises(JournalError) as caught:
            Journal.open(journal_path, readonly=readonly)
        message = str(caught.value)
        assert str(journal_path) in message and "another program" in message
    assert _snapshot(journal_path) == before


@pytest.mark.parametrize(
    "content",
    [
        b"this is a text file, not a database\n" * 10,
        b"SQLite format 3\x00" + b"\xff" * 4080,  # right header, garbage after it
        b"\x00" * 4096,
    ],
    ids=["text", "garbled-sqlite", "zeros"],
)
def test_corrupt_file_is_refused_and_untouched(journal_path: Path, content: bytes) -> None:
    journal_path.write_bytes(content)
    os.utime(journal_path, ns=(1_000_000_000, 1_000_000_000))
    before = _snapshot(journal_path)
    with pytest.raises(JournalError) as caught:
        Journal.open(journal_path)
    assert str(journal_path) in str(caught.value)
    assert _snapshot(journal_path) == before


def test_newer_schema_is_refused(journal_path: Path) -> None:
    Journal.open(journal_path).close()
    conn = sqlite3.connect(journal_path)
    conn.execute(f"PRAGMA user_version = {sqlite_schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalError, match="newer"):
        Journal.open(journal_path)


def test_readonly_needs_an_existing_journal(journal_path: Path) -> None:
    with pytest.raises(JournalError, match="no journal"):
        Journal.open(journal_path, readonly=True)
    assert not journal_path.exists()


def test_readonly_cannot_write(journal_path: Path) -> None:
    Journal.open(journal_path).close()
    with Journal.open(journal_path, readonly=True) as reader, pytest.raises(JournalError):
        reader.add_poll("r1", "Pending")


# --- issue 9: concurrent creators, file modes, following a missing journal ---------------


def _create(path: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    try:
        sqlite_schema.connect(Path(path)).close()
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def test_creators_starting_at_once_all_get_the_journal(tmp_path: Path) -> None:
    """Six processes create each new journal at the same moment, 60 times over."""
    context = multiprocessing.get_context("fork")
    failures: list[str] = []
    for round_ in range(60):
        path = tmp_path / f"race-{round_}.db"
        barrier, results = context.Barrier(6), context.Queue()
        creators = [
            context.Process(target=_create, args=(str(path), barrier, results)) for _ in range(6)
        ]
        for creator in creators:
            creator.start()
        failures += [o for o in (results.get(timeout=60) for _ in creators) if o != "ok"]
        for creator in creators:
            creator.join(timeout=60)
        assert sqlite_schema.inspect_journal(path) == sqlite_schema.SCHEMA_VERSION
    assert failures == []


class _Interleaved:
    """A read-only connection that lets another creator migrate right after its first read."""

    def __init__(self, conn: sqlite3.Connection, creator: Callable[[], None]) -> None:
        self._conn = conn
        self._creator: Callable[[], None] | None = creator

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        cursor = self._conn.execute(sql, *args)
        if sql == "PRAGMA application_id" and self._creator is not None:
            creator, self._creator = self._creator, None
            creator()
        return cursor

    def close(self) -> None:
        self._conn.close()


def test_inspection_sees_one_state_of_a_journal_being_created(
    journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process commits the schema between two of our reads (the 1-in-25 start that
    called a new journal "a database of another program")."""
    conn = sqlite3.connect(journal_path)
    conn.execute("PRAGMA journal_mode = WAL")  # a creator got this far
    conn.close()
    real_connect = sqlite3.connect

    def connect(database: str, *args: Any, **kwargs: Any) -> Any:
        conn = real_connect(database, *args, **kwargs)
        if "mode=ro" in str(database):
            monkeypatch.setattr(sqlite3, "connect", real_connect)
            return _Interleaved(conn, lambda: sqlite_schema.connect(journal_path).close())
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    with Journal.open(journal_path) as journal:
        assert journal.last_callback_id() == 0


def _mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_journal_and_its_side_files_are_private(journal_path: Path) -> None:
    with Journal.open(journal_path) as journal:
        journal.add_poll("r1", "Pending")
        assert {_mode(f"{journal_path}{s}") for s in ("", "-wal", "-shm")} == {0o600}


def test_a_team_journal_is_group_readable_when_asked(journal_path: Path) -> None:
    with Journal.open(journal_path, group_readable=True) as journal:
        journal.add_poll("r1", "Pending")
        assert {_mode(f"{journal_path}{s}") for s in ("", "-wal", "-shm")} == {0o640}


def test_a_world_readable_journal_is_tightened_when_opened(journal_path: Path) -> None:
    Journal.open(journal_path).close()
    journal_path.chmod(0o644)
    with Journal.open(journal_path) as journal:
        journal.add_poll("r1", "Pending")
        assert _mode(journal_path) == 0o640
        assert not _mode(f"{journal_path}-wal") & 0o007


def test_an_existing_journal_is_shared_with_its_group_when_asked(journal_path: Path) -> None:
    with Journal.open(journal_path) as journal:
        journal.add_poll("r1", "Pending")
    assert _mode(journal_path) == 0o600
    with Journal.open(journal_path, group_readable=True) as journal:
        journal.add_poll("r2", "Pending")
        assert {_mode(f"{journal_path}{s}") for s in ("", "-wal", "-shm")} == {0o640}


def test_the_listener_creates_a_private_journal(tmp_path: Path) -> None:
    journal = tmp_path / "listen.db"
    with JournalWriter(journal):
        assert _mode(journal) == 0o600
    with JournalWriter(tmp_path / "team.db", group_readable=True):
        assert _mode(tmp_path / "team.db") == 0o640


async def test_following_a_journal_that_does_not_exist_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "jounral.db"
    service = TrackingService(TrackingSettings(missing, listener=None, follow=True))
    with pytest.raises(JournalError, match="no journal"):
        await service.start()
    await service.stop()
    assert not missing.exists() and not missing.parent.exists()
