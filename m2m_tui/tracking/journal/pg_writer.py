"""Group commit into PostgreSQL: the listener's writer when the journal is a database.

The same contract as the sqlite :class:`.sqlite_writer.JournalWriter`: the event loop enqueues
records and awaits a future; one thread takes everything queued (up to ``max_batch``), writes
it in one transaction (callbacks pipelined, see :mod:`.pg_store`), commits, and only
then resolves the futures, so the listener's 200 means committed. ``synchronous_commit`` is
kept on (set back on for this connection if the server's default turned it off).

Several writers (listeners on several hosts) may write one database: the database decides
duplicates, and appends are serialised so ids grow in commit order. When the server cannot be
reached every batch fails with JournalError (the listener answers 503 and ThingSpace resends)
and :attr:`problem` says why; the writer reconnects by itself, at most every
``retry_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import select
import time
from collections.abc import Sequence
from typing import Any

import psycopg

from m2m_tui.tracking.journal import pg_schema as schema
from m2m_tui.tracking.journal.interface import safe_location
from m2m_tui.tracking.journal.pg_store import (
    REJECTION_SAMPLES,
    append_pipelined,
    lock_appends,
    notify,
    prepare_callbacks,
    store_callbacks,
    store_rejections,
)
from m2m_tui.tracking.journal.queued_writer import Item, Outcome, QueuedWriter
from m2m_tui.tracking.records import (
    CallbackRecord,
    CallbackRecordId,
    JournalError,
    JournalRecordError,
    RejectionRecord,
)

log = logging.getLogger(__name__)


class PgJournalWriter(QueuedWriter):
    """Owns one connection to the journal database in a dedicated thread."""

    THREAD_NAME = "journal-pg-writer"

    def __init__(
        self,
        url: str,
        *,
        max_batch: int = 500,
        linger: float = 0.0,
        retry_interval: float = 0.5,
        keep_rejections: int | None = REJECTION_SAMPLES,
    ) -> None:
        """``linger`` (seconds) waits for more items before committing a small batch;
        ``keep_rejections``: refused bodies kept per reason (None: all; all are counted)."""
        super().__init__(max_batch=max_batch, linger=linger, keep_rejections=keep_rejections)
        self._url = url
        self._retry_interval = retry_interval
        self._conn: psycopg.Connection[Any] | None = None
        self._channel = ""
        self._append_key = 0
        #: What starting did to the schema ("created ...", "migrated ..."), None if nothing.
        self.schema_change: str | None = None

    @property
    def location(self) -> str:
        return safe_location(self._url)

    @property
    def path(self) -> str:
        """The same safe text: today's listener shows ``str(writer.path)`` in /healthz."""
        return self.location

    @property
    def problem(self) -> str | None:
        """Why the journal cannot be written right now (None when it can), for /healthz."""
        return self._problem

    def __repr__(self) -> str:
        return f"PgJournalWriter({self.location!r})"

    # --- the thread ----------------------------------------------------------------------

    def _open(self) -> psycopg.Connection[Any]:
        conn = schema.connect(self._url)
        try:
            change = schema.describe_change(schema.ensure_schema(conn))
            if change:
                self.schema_change = change
                log.info("journal %s: %s", self.location, change)
            name = schema.current_schema(conn)
            if conn.execute("SHOW synchronous_commit").fetchone() == ("off",):
                conn.execute("SET synchronous_commit = on")
        except JournalError as exc:
            conn.close()
            raise JournalError(f"{self.location}: {exc}") from None
        except psycopg.Error as exc:
            conn.close()
            raise schema.failure(self._url, "prepare the journal", exc) from None
        self._channel = schema.channel_for(name)
        self._append_key = schema.lock_key(name, "append")
        return conn

    def _open_store(self) -> None:
        self._conn = self._open()

    def _close_store(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def _connection(self) -> psycopg.Connection[Any] | None:
        """The connection to write with, reconnecting when it broke; None while unreachable."""
        conn = self._conn
        if conn is not None and not conn.broken and not conn.closed:
            return conn
        if conn is not None:
            conn.close()
            self._conn = None
        now = time.monotonic()
        if now < self._next_attempt:
            return None
        self._next_attempt = now + self._retry_interval
        try:
            self._conn = self._open()
        except JournalError as exc:
            if str(exc) != self._problem:
                log.error("journal %s; callbacks are refused (503) until it can be", exc)
            self._problem = str(exc)
            return None
        log.warning("journal %s: connected again", self.location)
        self._problem = None
        return self._conn

    def _transaction(
        self,
        conn: psycopg.Connection[Any],
        callbacks: Sequence[CallbackRecord],
        rejections: Sequence[RejectionRecord],
    ) -> tuple[list[CallbackRecordId | JournalRecordError], list[int]]:
        """One transaction for the batch. A connection found broken before COMMIT was sent
        (the server restarted, a failover, an idle connection cut) committed nothing, so the
        batch is tried once more on a new connection instead of failing the callers."""
        for attempt in (1, 2):
            if attempt == 1 and _cut_while_idle(conn):
                conn = self._reconnected(conn)
            committing = False

            def commit_sent() -> None:
                nonlocal committing
                committing = True

            try:
                if callbacks and not rejections:
                    prepared, refused = prepare_callbacks(callbacks, self._secrets)
                    if not refused:
                        fast = append_pipelined(
                            conn,
                            self._append_key,
                            self._channel,
                            [p for p in prepared if isinstance(p, dict)],
                            commit_sent,
                        )
                        if fast is not None:
                            return list(fast), []
                with conn.transaction():
                    lock_appends(conn, self._append_key)
                    stored = store_callbacks(conn, callbacks, self._secrets) if callbacks else []
                    ids = (
                        store_rejections(conn, rejections, self._keep_rejections)
                        if rejections
                        else []
                    )
                    last = [r.id for r in stored if isinstance(r, CallbackRecordId)]
                    if last:
                        notify(conn, self._channel, f"c:{max(last)}")
                    if ids:
                        notify(conn, self._channel, f"x:{max(ids)}")
                    committing = True  # leaving the block sends COMMIT
                return stored, ids
            except psycopg.OperationalError as exc:
                if (committing and not _ended_unanswered(exc)) or not conn.broken or attempt == 2:
                    raise
                conn = self._reconnected(conn)
        raise AssertionError("unreachable")

    def _reconnected(self, conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        """A new connection for a batch that found its own broken before sending anything."""
        log.warning("journal %s: connection lost; reconnecting", self.location)
        conn.close()
        self._next_attempt = 0.0
        fresh = self._connection()
        if fresh is None:  # cannot reconnect: say why (the server refuses, is down)
            raise JournalError(self._problem or f"{self.location}: unavailable") from None
        return fresh

    def _write(self, batch: list[Item]) -> None:
        conn = self._connection()
        if conn is None:
            self._failed += 1
            error = JournalError(self._problem or f"{self.location}: the journal is unavailable")
            self._wake([(loop, (future, None, error)) for _, loop, future in batch])
            return
        outcomes: list[tuple[asyncio.AbstractEventLoop, Outcome]] = []
        callbacks = [item for item in batch if isinstance(item[0], CallbackRecord)]
        rejections = [item for item in batch if not isinstance(item[0], CallbackRecord)]
        try:
            stored, ids = self._transaction(
                conn,
                [record for record, _, _ in callbacks],  # type: ignore[misc]
                [record for record, _, _ in rejections],  # type: ignore[misc]
            )
        except Exception as exc:  # the batch is lost: every caller must hear it
            self._failed += 1
            error = (
                exc
                if isinstance(exc, JournalError)
                else schema.failure(self._url, "write the journal", exc)
            )
            log.error("journal: batch of %d not written: %s", len(batch), error)
            if self._conn is None or self._conn.broken:
                self._problem = str(error)
            outcomes = [(loop, (future, None, error)) for _, loop, future in batch]
        else:
            self._problem = None
            self._counted(batch)
            for (_, loop, future), result in zip(callbacks, stored, strict=True):
                if isinstance(result, JournalRecordError):
                    outcomes.append((loop, (future, None, result)))
                else:
                    outcomes.append((loop, (future, result, None)))
            for (_, loop, future), value in zip(rejections, ids, strict=True):
                outcomes.append((loop, (future, value, None)))
        self._wake(outcomes)


def _cut_while_idle(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server dropped this idle connection (restart, failover, terminated): it
    then has something to read (its FATAL, or the end of the stream) although no query is in
    flight and the writer does not LISTEN. Checked before a batch, whose one round trip sends
    COMMIT with the rest: once it is sent, a broken connection leaves the outcome unknown and
    the batch cannot be retried, so a dead connection must be noticed before."""
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    if not readable:
        return False
    try:
        conn.execute("SELECT 1")  # a notice, or really cut? (outside any transaction)
    except psycopg.OperationalError:
        return conn.broken
    return False


def _ended_unanswered(exc: psycopg.OperationalError) -> bool:
    """The server ended the session instead of running the batch: it answered the message
    with its FATAL (terminated, shutting down: class 57P), which it sends while waiting for
    a command or in the middle of one, never after committing it (a commit is answered
    first). The batch then committed nothing and may go on a new connection."""
    return exc.sqlstate is not None and exc.sqlstate.startswith("57P")
