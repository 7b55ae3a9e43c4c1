"""Group commit: one thread, one connection, many callbacks per transaction.

The listener must not answer 200 before a callback is durable (ThingSpace will not resend
after a 2xx), yet committing each row alone caps the rate (design.md: ~39k rows/s one by one
against 160-200k in batches). So the event loop enqueues records and awaits a future; this
thread takes everything queued (up to ``max_batch``), writes it in one transaction, commits,
and only then resolves the futures, one wake-up of the loop per batch.

Durability: the default ``synchronous="NORMAL"`` in WAL mode keeps every committed row across a
crash or SIGKILL of the process (the WAL is in the OS cache), which is what ThingSpace's
retries need; an OS crash or power loss can lose the last commits. ``synchronous="FULL"``
fsyncs the WAL at each commit (one fsync per batch, thanks to grouping) for that case too.

The file under the path is watched (see :mod:`~m2m_tui.tracking.journal.sqlite_watch`): before each
batch the writer checks, with a few ``stat`` calls, that the path still leads to the file it
has open. If the journal was deleted (with or without its ``-wal``/``-shm``) its rows are
copied into a new file at the path and writing goes on there; if that cannot be done every
batch fails (the listener answers 503, ThingSpace resends) until it can, retried every 0.5 s.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from m2m_tui.tracking.journal import sqlite_schema
from m2m_tui.tracking.journal.callbacks import (
    REJECTION_SAMPLES,
    account_rejections,
    insert_rejection,
    store_callbacks,
)
from m2m_tui.tracking.journal.queued_writer import Item, Outcome, QueuedWriter
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.journal.sqlite_watch import REPLACED, FileWatch, release
from m2m_tui.tracking.records import (
    CallbackRecord,
    JournalError,
    JournalRecordError,
    RejectionRecord,
)

log = logging.getLogger(__name__)

#: Seconds between attempts to recreate a journal that was deleted under the writer.
RETRY_INTERVAL = 0.5


class JournalWriter(QueuedWriter):
    """Owns the writing connection of a journal in a dedicated thread.

    Call :meth:`start` (blocking: it opens, verifies and migrates the file, and raises
    JournalError if it cannot), then ``await append_callback(...)`` from any event loop, and
    :meth:`close` (or ``await aclose()``) to write what is queued and stop.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: sqlite_schema.Synchronous = "NORMAL",
        max_batch: int = 500,
        linger: float = 0.0,
        keep_rejections: int | None = REJECTION_SAMPLES,
        group_readable: bool = False,
    ) -> None:
        """``linger`` (seconds) waits for more items before committing a small batch: it trades
        latency for fewer commits, and is only worth it with ``synchronous="FULL"``.
        ``keep_rejections``: refused bodies kept per reason (None: all). ``group_readable``:
        a new journal is created 0640 instead of 0600."""
        super().__init__(max_batch=max_batch, linger=linger, keep_rejections=keep_rejections)
        self._path = Path(path)
        self._group_readable = group_readable
        self._journal: Journal | None = None
        self._watch: FileWatch | None = None
        self._change: str | None = None
        self._synchronous: sqlite_schema.Synchronous = synchronous

    @property
    def path(self) -> Path:
        return self._path

    @property
    def location(self) -> str:
        """The path as text (the journal interface's safe name)."""
        return str(self._path)

    @property
    def problem(self) -> str | None:
        """Why the journal cannot be written right now (None when it can), for /healthz."""
        if self._problem is not None:
            return self._problem
        watch = self._watch
        return watch.peek() if watch is not None else None

    # --- the thread ----------------------------------------------------------------------

    def _open(self) -> Journal:
        journal = Journal.open(
            self._path, synchronous=self._synchronous, group_readable=self._group_readable
        )
        self._watch = FileWatch(self._path)
        return journal

    def _open_store(self) -> None:
        self._journal = self._open()

    def _close_store(self) -> None:
        self._check_file()  # rows written since a deletion are rescued before closing
        if self._journal is not None:
            self._journal.close()

    def _check_file(self) -> sqlite3.Connection | None:
        """The connection to write with, after making sure the path still leads to its file;
        None while the journal is unavailable (see the module docstring)."""
        watch, journal = self._watch, self._journal
        if journal is not None and watch is not None:
            change = watch.changed()
            if change is None:
                return journal.connection
            self._change = change
        now = time.monotonic()
        if now < self._next_attempt:
            return None
        self._next_attempt = now + RETRY_INTERVAL
        change = self._change or "the journal is unavailable"
        try:
            if journal is not None:
                release(change, journal, self._path, group_readable=self._group_readable)
                self._journal = None
            self._journal = self._open()
        except (OSError, sqlite3.Error, JournalError) as exc:
            detail = getattr(exc, "strerror", None) or str(exc)
            problem = (
                f"{self._path}: {change} and cannot be recreated yet ({detail}); "
                "callbacks are refused (503) until it can"
            )
            if problem != self._problem:
                log.error("journal %s", problem)
            self._problem = problem
            return None
        note = (
            "reopened the file now at that path"
            if change == REPLACED
            else ("recreated it there with every row it held")
        )
        log.warning("journal %s: %s; %s", self._path, change, note)
        self._problem = self._change = None
        return self._journal.connection

    def _write(self, batch: list[Item]) -> None:
        conn = self._check_file()
        if conn is None:
            self._failed += 1
            error = JournalError(self._problem or f"{self._path}: the journal is unavailable")
            self._wake([(loop, (future, None, error)) for _, loop, future in batch])
            return
        callbacks: list[CallbackRecord] = []
        callback_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = []
        rejections: list[
            tuple[RejectionRecord, asyncio.AbstractEventLoop, asyncio.Future[Any]]
        ] = []
        for record, loop, future in batch:
            if isinstance(record, CallbackRecord):
                callbacks.append(record)
                callback_waiters.append((loop, future))
            else:
                rejections.append((record, loop, future))
        outcomes: list[tuple[asyncio.AbstractEventLoop, Outcome]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if callbacks:
                    stored = store_callbacks(conn, callbacks, self._secrets)
                    for (loop, future), result in zip(callback_waiters, stored, strict=True):
                        if isinstance(result, JournalRecordError):
                            outcomes.append((loop, (future, None, result)))
                        else:
                            outcomes.append((loop, (future, result, None)))
                for rejection, loop, future in rejections:
                    try:
                        value = insert_rejection(conn, rejection)
                    except JournalRecordError as exc:
                        outcomes.append((loop, (future, None, exc)))
                    else:
                        outcomes.append((loop, (future, value, None)))
                if rejections:
                    reasons = [rejection.reason for rejection, _, _ in rejections]
                    account_rejections(conn, reasons, self._keep_rejections)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except Exception as exc:  # the batch is lost: every caller must hear it
            self._failed += 1
            log.error("journal %s: batch of %d not written: %s", self._path, len(batch), exc)
            error = JournalError(f"{self._path}: cannot write the journal ({exc})")
            outcomes = [(loop, (future, None, error)) for _, loop, future in batch]
        else:
            self._counted(batch)
        self._wake(outcomes)
