"""The journal: one durable timeline of requests, polls, callbacks, rejections and lookups.

A :class:`Journal` wraps one sqlite connection and is used from one thread (the tracker on the
event loop, where each indexed query or request update takes well under a millisecond; an
export; a reader following another process). Several processes may open the
same file: one writer (the listener, through :class:`~m2m_tui.tracking.journal.sqlite_writer.JournalWriter`,
plus the tracker's request rows) and any number of ``readonly=True`` readers, which never block
the writer in WAL mode.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from m2m_tui.tracking.journal import sqlite_schema
from m2m_tui.tracking.journal.attempts import archive_attempt
from m2m_tui.tracking.journal.callbacks import (
    account_rejections,
    insert_rejection,
    rejection_totals,
    store_callbacks,
)
from m2m_tui.tracking.journal.dialect import (
    REQUEST_COLUMNS,
    SQLITE,
    request_changes,
    request_row,
)
from m2m_tui.tracking.journal.shared import SharedJournal
from m2m_tui.tracking.records import (
    CallbackRecord,
    CallbackRecordId,
    JournalCounts,
    JournalError,
    JournalRecordError,
    RejectionRecord,
    RequestRow,
    UnknownRequest,
)


class Journal(SharedJournal):
    """One connection to a journal file; see the module docstring for who uses which.

    The reads and add_request are :class:`~.shared.SharedJournal`'s (PostgreSQL's too); here
    the rest of the writes.
    """

    _dialect = SQLITE

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self._conn = conn
        self._path = path
        self._readonly = readonly
        #: What opening did to the schema ("created ...", "migrated ..."), None if nothing.
        self.schema_change: str | None = None

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        readonly: bool = False,
        synchronous: sqlite_schema.Synchronous = "NORMAL",
        busy_timeout: float = 5.0,
        check_same_thread: bool = True,
        create: bool = True,
        group_readable: bool = False,
    ) -> Journal:
        """Open, creating or migrating as needed; refuse anything that is not a journal.

        ``synchronous="NORMAL"`` (the default) in WAL mode survives a crash of the process
        (SIGKILL included) but a power loss may drop the last commits; ``"FULL"`` syncs the
        WAL on every commit and survives that too, at a cost per commit. ``create=False``
        refuses a path without a journal; a new one is created 0600 (0640 ``group_readable``).
        """
        conn, change = sqlite_schema.connect_describing(
            path,
            readonly=readonly,
            synchronous=synchronous,
            busy_timeout=busy_timeout,
            check_same_thread=check_same_thread,
            create=create,
            group_readable=group_readable,
        )
        journal = cls(conn, Path(path), readonly=readonly)
        journal.schema_change = change
        return journal

    @property
    def path(self) -> Path:
        return self._path

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection, for the writer thread and tests; do not share it."""
        return self._conn

    @property
    def location(self) -> str:
        """The path as text (the journal interface's safe name; a path holds no secret)."""
        return str(self._path)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn sqlite errors into JournalError naming the file (damage found late, disk full)."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise JournalError(f"{self._path}: cannot {action} ({exc})") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any error)."""
        with self._guard("write"):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _all(self, query: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._guard("read"):
            return self._conn.execute(query, tuple(params)).fetchall()

    # --- requests ------------------------------------------------------------------------

    def _insert_request(self, row: tuple[Any, ...]) -> bool:
        """INSERT the new request's row; False when its id is recorded already."""
        try:
            with self.transaction() as conn:
                conn.execute(
                    f"INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ({SQLITE.values(len(row))})",
                    row,
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def update_request(self, request_id: str, **fields: Any) -> RequestRow:
        """Change some of :data:`~.dialect.UPDATABLE_FIELDS`; returns the row as stored."""
        fields = request_changes(fields)
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE requests SET {assignments} WHERE request_id = ?",
                (*fields.values(), request_id),
            )
            if cursor.rowcount == 0:
                raise UnknownRequest(f"{self._path}: no request {request_id}")
            row = conn.execute(
                f"SELECT {REQUEST_COLUMNS} FROM requests WHERE request_id = ?", (request_id,)
            ).fetchone()
        return request_row(row)

    def supersede_request(self, request_id: str, *, before: float, note: str) -> RequestRow | None:
        """Move the recorded ``request_id`` aside in one transaction (:mod:`.attempts`)."""
        with self.transaction() as conn:
            alias = archive_attempt(conn, SQLITE, request_id, before=before, note=note)
        return None if alias is None else self.get_request(alias)

    # --- polls ---------------------------------------------------------------------------

    def add_poll(
        self, request_id: str, status: str, *, changed: bool = True, polled_at: float | None = None
    ) -> int:
        """Record a poll result (callers write only the ones that changed something)."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO polls (request_id, polled_at, status, changed) VALUES (?, ?, ?, ?)",
                (request_id, time.time() if polled_at is None else polled_at, status, int(changed)),
            )
        return int(cursor.lastrowid or 0)

    # --- callbacks and rejections --------------------------------------------------------

    def append_callbacks(self, records: Sequence[CallbackRecord]) -> list[CallbackRecordId]:
        """Store callbacks in one transaction, all or none (the listener uses JournalWriter)."""
        with self.transaction() as conn:
            stored: list[CallbackRecordId] = []
            for result in store_callbacks(conn, records):
                if isinstance(result, JournalRecordError):
                    raise result  # all or nothing: the transaction is rolled back
                stored.append(result)
        return stored

    def append_rejections(self, records: Sequence[RejectionRecord]) -> list[int]:
        with self.transaction() as conn:
            ids = [insert_rejection(conn, record) for record in records]
            account_rejections(conn, [record.reason for record in records])
        return ids

    # --- totals --------------------------------------------------------------------------

    def counts(self) -> JournalCounts:
        """Totals for a status line (full scans: call it now and then, not per callback)."""
        by_dup = dict(self._all("SELECT duplicate, count(*) FROM callbacks GROUP BY duplicate"))
        with self._guard("read"):
            rejections = rejection_totals(self._conn)
        requests = dict(self._all("SELECT state, count(*) FROM requests GROUP BY state"))
        return JournalCounts(
            callbacks_accepted=int(by_dup.get(0, 0)),
            callbacks_duplicate=int(by_dup.get(1, 0)),
            rejections=rejections,
            requests=requests,
        )
