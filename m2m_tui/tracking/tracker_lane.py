"""The tracker's journal thread: every journal call the tracker makes, off the event loop, in
the order it made them.

With a team's PostgreSQL journal each call is a network round trip, and with the database
gone it waits for the connect timeout: made on the event loop, that froze the screen and the
listener for as long. A :class:`JournalLane` is one worker thread that owns the journal:

- :meth:`JournalLane.post` queues a write and returns at once (request state changes, polls);
- :meth:`JournalLane.call` awaits a read or a write whose answer matters (recording a
  submitted request: it is journaled before the screen says "submitted");
- :meth:`JournalLane.call_blocking` is the same for synchronous callers (tests, a replay).

One thread, first in first out: a read sees every write queued before it, and the journal
sees a request's changes in the order the tracker made them. The lane opens the journal
itself, in its thread, and opens it again later if that failed because the database could
not be reached (:class:`~m2m_tui.tracking.records.JournalUnreachable`): a UI can start
while its team's database is down.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import Future
from functools import partial
from typing import Any, TypeVar, cast

from m2m_tui.tracking.journal.interface import JournalStore
from m2m_tui.tracking.records import JournalError, JournalUnreachable

log = logging.getLogger("m2m_tui.tracking")

T = TypeVar("T")
#: One journal call, made in the lane's thread with the open journal.
Step = Callable[[JournalStore], T]
#: Logic that needs journal answers, written once for both drivers below: it yields each
#: journal call (a :data:`Step`) and is sent the call's result (or thrown its error).
Steps = Generator[Step[Any], Any, T]


def run_here(steps: Steps[T], journal: JournalStore | JournalLane) -> T:
    """Drive ``steps`` in this thread: each call made here, or on the lane waiting for it."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            step = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as done:
            return cast(T, done.value)
        value, error = None, None
        try:
            if isinstance(journal, JournalLane):
                value = journal.call_blocking(step)
            else:
                value = step(journal)
        except Exception as exc:
            error = exc


def one_step(step: Step[T]) -> Steps[T]:
    """One journal call as :data:`Steps`."""
    result: T = yield step
    return result


async def run_off_loop(steps: Steps[T], journal: JournalStore | JournalLane) -> T:
    """Drive ``steps`` from the event loop: each call awaited on the lane (made here when there
    is no lane: a journal used without one is the caller's to keep fast)."""
    value: Any = None
    error: Exception | None = None
    try:
        while True:
            try:
                step = steps.send(value) if error is None else steps.throw(error)
            except StopIteration as done:
                return cast(T, done.value)
            value, error = None, None
            try:
                if isinstance(journal, JournalLane):
                    value = await journal.call(step)
                else:
                    value = step(journal)
            except Exception as exc:
                error = exc
    finally:
        steps.close()  # cancelled mid-way: its clean-up runs now, not whenever it is collected


class JournalLane:
    """One thread that opens the journal and makes every call on it, in order."""

    def __init__(
        self,
        open_journal: Callable[[], JournalStore],
        *,
        retry_interval: float = 2.0,
        name: str = "m2m-tui journal",
        close_timeout: float = 10.0,
    ) -> None:
        """``open_journal`` runs in the lane's thread; after it failed, it is tried again at
        most every ``retry_interval`` seconds (calls in between fail at once, with its error).
        ``close_timeout``: how long :meth:`aclose` waits for what is queued (a database that
        hangs must not keep the program from ending: the thread is a daemon)."""
        self._open = open_journal
        self._retry_interval = retry_interval
        self._close_timeout = close_timeout
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        self._journal: JournalStore | None = None
        self._open_error: JournalError | None = None
        self._next_open = 0.0
        self._closed = False
        #: Why the journal cannot be used right now (None while it can), for a status bar.
        self.problem: str | None = None
        #: Queued writes that failed (each is logged; the first of a series as a warning).
        self.failed_writes = 0

    # ------------------------------------------------------------------ state

    @property
    def opened(self) -> bool:
        """True once the journal is open (it stays open; its calls may still fail)."""
        return self._journal is not None

    @property
    def journal(self) -> JournalStore | None:
        """The open journal (None before), for code already on the lane's thread."""
        return self._journal

    def through(self) -> JournalStore:
        """The journal as a synchronous caller on another thread may use it: each method call
        waits its turn on the lane (so it sees every write queued before it)."""
        return cast(JournalStore, _ThroughLane(self))

    # ------------------------------------------------------------------ calls

    def post(self, step: Step[Any]) -> None:
        """Queue a write; its failure is logged, never raised to the caller."""
        if self._closed:
            log.warning("journal write after tracking stopped: dropped")
            return
        self._submit(step).add_done_callback(self._written)

    async def call(self, step: Step[T]) -> T:
        """Run ``step`` on the lane, after everything queued before it; its result or error."""
        return await asyncio.wrap_future(self._submit(step))

    def call_blocking(self, step: Step[T]) -> T:
        """:meth:`call` for synchronous code (blocks this thread until the lane has run it)."""
        if threading.current_thread() is self._thread:
            return self._run(step)
        return self._submit(step).result()

    async def open(self) -> JournalStore:
        """Open the journal now (raises JournalError, JournalUnreachable among them, if not)."""
        return await self.call(lambda journal: journal)

    async def drain(self) -> None:
        """Until every call queued so far has run (the journal is up to date)."""
        await asyncio.wrap_future(self._enqueue(lambda: None))

    async def aclose(self) -> None:
        """Run what is queued, close the journal, end the thread (giving up on a journal
        that hangs after ``close_timeout``: what was still queued is then lost, and said)."""
        if self._closed:
            return
        self._closed = True
        done = self._enqueue(self._close_journal)
        self._queue.put(None)
        try:
            await asyncio.wait_for(asyncio.wrap_future(done), self._close_timeout)
        except TimeoutError:
            log.error(
                "the journal did not answer within %.0f s; tracking stopped without writing "
                "what was still queued",
                self._close_timeout,
            )

    # ------------------------------------------------------------------ on the lane

    def _submit(self, step: Step[T]) -> Future[T]:
        if self._closed:
            raise JournalError("the journal is closed (tracking has stopped)")
        return self._enqueue(partial(self._run, step))

    def _enqueue(self, work: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((work, future))
        return future

    def _serve(self) -> None:
        """The lane's thread: each piece of work in turn, until the end marker."""
        while (item := self._queue.get()) is not None:
            work, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = work()
            except BaseException as exc:  # handed to whoever waits (or logged for a post)
                future.set_exception(exc)
            else:
                future.set_result(result)

    def _run(self, step: Step[T]) -> T:
        journal = self._ensure_open()
        try:
            result = step(journal)
        except JournalError as exc:
            if isinstance(exc, JournalUnreachable):
                self.problem = str(exc)
            raise
        self.problem = None
        return result

    def _ensure_open(self) -> JournalStore:
        if self._journal is not None:
            return self._journal
        if self._open_error is not None and time.monotonic() < self._next_open:
            raise self._open_error
        try:
            self._journal = self._open()
        except JournalError as exc:
            self._open_error, self.problem = exc, str(exc)
            self._next_open = time.monotonic() + self._retry_interval
            raise
        self._open_error = self.problem = None
        return self._journal

    def _close_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()  # kept: its properties still answer (closed)

    def _written(self, future: Future[Any]) -> None:
        exc = future.exception()
        if exc is None:
            return
        self.failed_writes += 1
        if self.failed_writes == 1 or not isinstance(exc, JournalError):
            log.warning("a journal write failed: %s", exc, exc_info=exc)
        else:
            log.info("a journal write failed: %s", exc)


class _ThroughLane:
    """A journal whose every method runs on the lane (see :meth:`JournalLane.through`)."""

    def __init__(self, lane: JournalLane) -> None:
        self._lane = lane

    def __getattr__(self, name: str) -> Any:
        journal = self._lane.journal
        if journal is None:
            self._lane.call_blocking(lambda opened: opened)  # opens it, or raises why not
            journal = self._lane.journal
        value = getattr(journal, name)
        if not inspect.ismethod(value):
            return value  # a property: location, readonly, the sqlite connection

        def through_lane(*args: Any, **kwargs: Any) -> Any:
            return self._lane.call_blocking(lambda opened: getattr(opened, name)(*args, **kwargs))

        return through_lane

    def __repr__(self) -> str:
        return f"<journal through the tracker's lane: {self._lane.journal!r}>"


__all__ = ["JournalLane", "Step", "Steps", "one_step", "run_here", "run_off_loop"]
