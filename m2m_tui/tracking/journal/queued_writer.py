"""The half both journal writers share: a queue the event loop fills, one thread that empties it.

The event loop enqueues a record with the loop and a future to resolve, and awaits the
future; the writer's thread takes what is queued in batches (:mod:`..group_commit`), writes
and commits each, and only then resolves the batch's futures, one wake-up of each loop per
batch. What a backend does differently (opening, writing a batch, closing) is in its subclass:
:class:`.sqlite_writer.JournalWriter` and :class:`.pg_writer.PgJournalWriter`.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from m2m_tui.tracking.group_commit import run_batches
from m2m_tui.tracking.journal.callbacks import REJECTION_SAMPLES
from m2m_tui.tracking.records import (
    CallbackRecord,
    CallbackRecordId,
    JournalError,
    RejectionRecord,
)

# A queued item: the record, the loop to wake, the future to resolve.
Item = tuple[CallbackRecord | RejectionRecord, asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


@dataclass(frozen=True, slots=True)
class WriterStats:
    """How well grouping works: items written, transactions, the largest batch."""

    items: int
    batches: int
    largest_batch: int
    failed_batches: int


def _settle(outcomes: list[Outcome]) -> None:
    """Runs in the event loop: resolve every future of one batch."""
    for future, value, error in outcomes:
        if future.done():  # the awaiting handler was cancelled
            continue
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)


class QueuedWriter:
    """A journal writer's queue, thread, life cycle and counters; subclasses write batches."""

    THREAD_NAME = "journal-writer"

    def __init__(
        self,
        *,
        max_batch: int = 500,
        linger: float = 0.0,
        keep_rejections: int | None = REJECTION_SAMPLES,
    ) -> None:
        """``linger`` (seconds) waits for more items before committing a small batch;
        ``keep_rejections``: refused bodies kept per reason (None: all; all are counted)."""
        self._keep_rejections = keep_rejections
        self._max_batch = max(1, max_batch)
        self._linger = linger
        self._secrets: tuple[str, ...] = ()
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._closed = False
        self._problem: str | None = None
        self._next_attempt = 0.0
        self._items = 0
        self._batches = 0
        self._largest = 0
        self._failed = 0

    # --- what a backend provides -------------------------------------------------------------

    @property
    def location(self) -> str:
        raise NotImplementedError

    def _open_store(self) -> None:
        """In the thread: open (create, migrate) the journal; raise JournalError if it cannot."""
        raise NotImplementedError

    def _write(self, batch: list[Item]) -> None:
        """In the thread: write and commit ``batch``, then :meth:`_wake` its futures."""
        raise NotImplementedError

    def _close_store(self) -> None:
        """In the thread, after the last batch."""

    # --- shared ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._closed

    def redact_also(self, secrets: tuple[str, ...]) -> None:
        """Redact these literal values (the configured callback password) wherever they occur
        in stored callback bodies, free text included."""
        self._secrets = tuple(s for s in {*self._secrets, *secrets} if s)

    def stats(self) -> WriterStats:
        return WriterStats(self._items, self._batches, self._largest, self._failed)

    def _counted(self, batch: list[Item]) -> None:
        """A batch committed: the grouping counters."""
        self._items += len(batch)
        self._batches += 1
        self._largest = max(self._largest, len(batch))

    def start(self) -> None:
        """Open the journal in the writer thread; raise JournalError if that fails."""
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        self._thread = threading.Thread(target=self._run, name=self.THREAD_NAME, daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            raise self._startup_error

    def _run(self) -> None:
        try:
            self._open_store()
        except BaseException as exc:
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            run_batches(self._queue, self._write, self._max_batch, self._linger)
        finally:
            self._close_store()

    def _enqueue(self, record: CallbackRecord | RejectionRecord) -> asyncio.Future[Any]:
        if self._closed or self._thread is None:
            raise JournalError(f"{self.location}: the journal writer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put((record, loop, future))
        return future

    async def append_callback(self, record: CallbackRecord) -> CallbackRecordId:
        """Store a callback; returns once the transaction holding it has committed.

        Raises JournalRecordError if this record cannot be stored, JournalError if the
        journal cannot be written at all (disk full, file gone, database unreachable).
        """
        result: CallbackRecordId = await self._enqueue(record)
        return result

    async def append_rejection(self, record: RejectionRecord) -> int:
        """Store a rejection; returns its id once committed."""
        result: int = await self._enqueue(record)
        return result

    def close(self, timeout: float | None = None) -> None:
        """Write everything already queued, then close the connection and stop the thread."""
        if self._thread is None or self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)

    async def aclose(self) -> None:
        """:meth:`close` without blocking the event loop."""
        await asyncio.to_thread(self.close)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @staticmethod
    def _wake(outcomes: list[tuple[asyncio.AbstractEventLoop, Outcome]]) -> None:
        by_loop: defaultdict[asyncio.AbstractEventLoop, list[Outcome]] = defaultdict(list)
        for loop, outcome in outcomes:
            by_loop[loop].append(outcome)
        for loop, items in by_loop.items():
            call: Callable[[list[Outcome]], None] = _settle
            try:
                loop.call_soon_threadsafe(call, items)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                continue
