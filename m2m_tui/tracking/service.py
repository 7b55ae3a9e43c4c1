"""Tracking as one unit: journal, writer thread, listener, tracker and poller, started and
stopped together inside the caller's event loop.

Three modes, one set of events:
- **embedded** (``listener`` set): this process listens for callbacks and journals them;
- **follow** (``follow`` set): another process (``m2m-tui listen``) owns the listener and
  writes the journal; this one reads new callbacks and rejections from it: a file a few times
  a second, a team's PostgreSQL journal the moment a NOTIFY says a commit added rows (see
  :mod:`.journal.pg_follow`: catch-up by id after every reconnect, nothing polled while the
  connection is up; :attr:`TrackingService.journal_problem` says why while it is down);
- **local** (neither): no callbacks reach this process; requests finish by polling, or by
  their deadline.
All feed the same :class:`Tracker`, so a front end does not care which it is in. The poller
starts once a client is attached (:meth:`TrackingService.attach_status_call`): tracking runs
before login so the callbacks of earlier requests are not missed.

The tracker's journal calls run on a :class:`~.tracker_lane.JournalLane` (one thread, in
order), never on the event loop. Following a team's database that cannot be reached at start
is not a failure: tracking starts without it, :attr:`TrackingService.journal_problem` says why,
and the journal is opened, unfinished requests reloaded and the follower started as soon as
the database answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from m2m_tui.tracking.events import CallbackAccepted, CallbackRejected
from m2m_tui.tracking.journal.interface import (
    CallbackWriter,
    JournalStore,
    Location,
    is_postgres,
    safe_location,
)
from m2m_tui.tracking.journal.open import open_journal, open_writer
from m2m_tui.tracking.listener import CallbackListener
from m2m_tui.tracking.listener_config import ListenerConfig
from m2m_tui.tracking.poller import Poller, PollSchedule, StatusCall
from m2m_tui.tracking.records import CallbackRow, JournalError, JournalUnreachable, RejectionRow
from m2m_tui.tracking.tracker import DEFAULT_DEADLINE, Tracker
from m2m_tui.tracking.tracker_events import TrackerEvent
from m2m_tui.tracking.tracker_lane import JournalLane

if TYPE_CHECKING:
    from m2m_tui.tracking.journal.pg_follow import FollowBatch, JournalFollower

log = logging.getLogger("m2m_tui.tracking")


@dataclass(frozen=True)
class TrackingSettings:
    #: A file (sqlite) or a team's ``postgresql://`` URL.
    journal_path: Location
    #: Where to listen for callbacks; None: do not listen in this process.
    listener: ListenerConfig | None = field(default_factory=lambda: ListenerConfig(port=0))
    #: Read callbacks another process journals (only without a listener of our own).
    follow: bool = False
    deadline: float = DEFAULT_DEADLINE
    schedule: PollSchedule = field(default_factory=PollSchedule)
    profile: str | None = None
    #: Follow mode: how often to look for new rows.
    follow_interval: float = 0.2
    #: Following a team's database that cannot be reached: how often to try again.
    reconnect_interval: float = 2.0

    @property
    def journal_label(self) -> str:
        """The journal for a status bar: a file's name, or a URL without its password and
        its parameters."""
        if is_postgres(self.journal_path):
            return safe_location(self.journal_path).partition("?")[0]
        return Path(self.journal_path).name


class TrackingService:
    """Start with :meth:`start`, stop with :meth:`stop`; subscribe to :attr:`tracker`."""

    def __init__(self, settings: TrackingSettings, status_call: StatusCall | None = None) -> None:
        self.settings = settings
        self._status_call = status_call
        self._writer: CallbackWriter | None = None
        self._lane: JournalLane | None = None
        self._tracker: Tracker | None = None
        self._listener: CallbackListener | None = None
        self._poller: Poller | None = None
        self._follow_task: asyncio.Task[None] | None = None
        self._deadline_task: asyncio.Task[None] | None = None
        self._follower: JournalFollower | None = None

    @property
    def tracker(self) -> Tracker:
        if self._tracker is None:
            raise RuntimeError("tracking is not started")
        return self._tracker

    @property
    def journal(self) -> JournalStore:
        """The tracker's journal for a synchronous caller: each call waits its turn on the
        tracker's journal thread (so it sees every write the tracker queued before it)."""
        if self._lane is None:
            raise RuntimeError("tracking is not started")
        return self._lane.through()

    @property
    def lane(self) -> JournalLane:
        """The thread that makes the tracker's journal calls (``await lane.call(...)``)."""
        if self._lane is None:
            raise RuntimeError("tracking is not started")
        return self._lane

    @property
    def journal_problem(self) -> str | None:
        """Following a team's journal: why the database cannot be reached right now (None
        while it can, and in every other mode). The follower reconnects by itself; before
        the journal could be opened at all, the lane says why."""
        follower = self._follower
        if follower is None:
            lane = self._lane
            return None if lane is None or lane.opened else lane.problem
        if follower.connected:
            return None
        return follower.problem  # None while the first connection is being made

    @property
    def follower(self) -> JournalFollower | None:
        """The LISTEN/NOTIFY follower of a team's journal (None otherwise)."""
        return self._follower

    @property
    def listener(self) -> CallbackListener | None:
        return self._listener

    @property
    def poller(self) -> Poller | None:
        return self._poller

    def subscribe(self, subscriber: Callable[[TrackerEvent], None]) -> Callable[[], None]:
        return self.tracker.subscribe(subscriber)

    async def start(self) -> None:
        """Open the journal, reload unfinished requests, then listen (or follow) and poll."""
        settings = self.settings
        following = settings.follow and settings.listener is None
        location = settings.journal_path
        if not following and not is_postgres(location):
            # a mistyped path to follow must not become an empty journal
            Path(location).parent.mkdir(parents=True, exist_ok=True)
        if settings.listener is not None:
            writer = open_writer(location)
            await asyncio.to_thread(writer.start)  # creates or migrates the file or schema
            self._writer = writer
        # Read-write even when following: this process records its own requests (rare,
        # serialised by sqlite's busy timeout); the callbacks are the other process's to write.
        # Opened and used on the lane's thread only (hence check_same_thread off).
        opener = partial(_open, location, create=not following)
        self._lane = JournalLane(opener, retry_interval=settings.reconnect_interval)
        self._tracker = Tracker(self._lane, deadline=settings.deadline, profile=settings.profile)
        team = following and is_postgres(location)
        try:
            if team:  # a database that hangs must not hold the start either
                opening = asyncio.ensure_future(self._lane.open())
                await asyncio.wait_for(asyncio.shield(opening), settings.reconnect_interval * 2)
            else:
                await self._lane.open()
        except (JournalUnreachable, TimeoutError) as exc:
            if not team:
                raise
            # A team's database that is down must not keep the UI from starting.
            why = str(exc) or "the database does not answer"
            log.warning("%s; tracking starts without it and connects when it answers", why)
            self._follow_task = asyncio.create_task(
                self._follow_when_reachable(str(location)), name="m2m-tui reach journal"
            )
        else:
            await self._tracker.aresume()
            if settings.listener is not None and self._writer is not None:
                listener = CallbackListener(settings.listener, self._writer, self._on_listener)
                self._listener = listener
                await listener.start()
                self._tracker.publish(listener.status())
            elif team:
                await self._start_follower(str(location))
            elif settings.follow:
                self._follow_task = asyncio.create_task(
                    self._follow(), name="m2m-tui follow journal"
                )
        if self._status_call is not None:
            self.attach_status_call(self._status_call)

    def attach_status_call(self, status_call: StatusCall) -> None:
        """Start polling with this client's status call (again after a new login)."""
        self._status_call = status_call
        if self._poller is not None:
            self._poller.set_status_call(status_call)
            return
        self._poller = Poller(
            self.tracker,
            status_call,
            schedule=self.settings.schedule,
            on_status=self.tracker.publish,
        )
        self._poller.start()

    async def stop(self) -> None:
        """Stop polling and listening, write what is queued, close the journal.

        Each step runs whatever the one before did: a poller or listener that fails to stop
        must not leave the writer's queue unwritten or the journal open. Failures are logged.
        """
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("poller", self._stop_poller),
            ("journal follower", self._stop_follow),
            ("listener", self._stop_listener),
            ("tracker", self._stop_tracker),
            ("journal writer", self._close_writer),
            ("journal", self._close_journal),
        ]
        for name, step in steps:
            try:
                await step()
            except Exception as exc:
                log.error("stopping tracking: the %s did not stop cleanly", name, exc_info=exc)

    async def _stop_poller(self) -> None:
        if self._poller is not None:
            await self._poller.stop()

    async def _stop_follow(self) -> None:
        tasks = [t for t in (self._follow_task, self._deadline_task) if t is not None]
        self._follow_task = self._deadline_task = None
        for task in tasks:  # first: reaching the journal may be about to start a follower
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        follower, self._follower = self._follower, None
        if follower is not None:
            await follower.stop()

    async def _stop_listener(self) -> None:
        if self._listener is not None:
            await self._listener.stop()

    async def _stop_tracker(self) -> None:
        if self._tracker is not None:
            await self._tracker.stop()

    async def _close_writer(self) -> None:
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)

    async def _close_journal(self) -> None:
        if self._lane is not None:
            await self._lane.aclose()  # what the tracker queued is written first

    async def __aenter__(self) -> TrackingService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _on_listener(self, event: CallbackAccepted | CallbackRejected) -> None:
        tracker = self.tracker
        if isinstance(event, CallbackAccepted):
            tracker.callback(event)
        else:
            tracker.publish(event)
        if self._listener is not None:
            tracker.publish(self._listener.status())

    async def _follow_when_reachable(self, url: str) -> None:
        """The team's database was down at start: open the journal once it answers, reload
        unfinished requests, then follow it."""
        lane = self.lane
        while True:
            await asyncio.sleep(self.settings.reconnect_interval)
            try:
                await lane.open()
                break
            except Exception as exc:  # still down (or refused): the status bar says why
                log.debug("journal still unreachable: %s", exc)
        log.info("journal %s reached; following it", safe_location(url))
        await self.tracker.aresume()
        await self._start_follower(url)

    async def _start_follower(self, url: str) -> None:
        """Follow a team's journal: rows after the newest ones read at start, as they commit."""
        from m2m_tui.tracking.journal.pg_follow import JournalFollower

        last_callback, last_rejection = await self.lane.call(_newest_ids)
        self._follower = JournalFollower(
            url,
            self._on_follow_batch,
            after_callback=last_callback,
            after_rejection=last_rejection,
        )
        self._follower.start()
        # Deadlines pass without any row arriving: check them on a timer (no query).
        self._deadline_task = asyncio.create_task(
            self._check_deadlines(), name="m2m-tui journal deadlines"
        )

    def _on_follow_batch(self, batch: FollowBatch) -> None:
        tracker = self.tracker
        for row in batch.callbacks:
            tracker.callback(row)
        for rejected in batch.rejections:
            tracker.publish(
                CallbackRejected(
                    rejected.reason, rejected.detail, rejected.source, rejected.received_at
                )
            )

    async def _check_deadlines(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                self.tracker.check_deadlines()
            except Exception:  # the journal is unreachable: the next round tries again
                log.warning("checking request deadlines failed; retrying", exc_info=True)

    async def _follow(self) -> None:
        """Follow mode: feed rows another process journaled, in id order, as they appear."""
        lane, tracker = self.lane, self.tracker
        last_callback, last_rejection = await lane.call(_newest_ids)
        while True:
            try:
                rows, rejections = await lane.call(
                    partial(_rows_after, callback=last_callback, rejection=last_rejection)
                )
                for row in rows:
                    tracker.callback(row)
                    last_callback = row.id
                for rejected in rejections:
                    tracker.publish(
                        CallbackRejected(
                            rejected.reason, rejected.detail, rejected.source, rejected.received_at
                        )
                    )
                    last_rejection = rejected.id
                tracker.check_deadlines()
            except Exception:  # a locked or busy journal: try again next round
                log.exception("following the journal failed; retrying")
            await asyncio.sleep(self.settings.follow_interval)


def _open(location: Location, *, create: bool) -> JournalStore:
    """Open the journal on the lane's thread (so not bound to the thread that made it); a
    database that cannot be reached raises JournalUnreachable: it may come back."""
    try:
        return open_journal(location, create=create, check_same_thread=False)
    except JournalError as exc:
        if is_postgres(location) and _connection_failed(exc):
            raise JournalUnreachable(str(exc)) from None
        raise


#: A server that answered "FATAL" at connect refused us for good (no such database or role,
#: a wrong password), unless it said one of these: it is busy, starting or stopping.
_PASSING = ("starting up", "shutting down", "in recovery", "too many clients", "administrator")


def _connection_failed(exc: BaseException) -> bool:
    """The journal's error came from not reaching the server (refused, cut, timed out, shut
    down or starting up), under the scrubbed message. A server that answered "no" (a wrong
    password, no such database) is not unreachable: retrying would not help. libpq gives no
    SQLSTATE at connect, so the server's own "FATAL" line tells them apart."""
    import psycopg
    from psycopg_pool import PoolTimeout

    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, PoolTimeout):
        return True
    if not isinstance(cause, psycopg.OperationalError):
        return False
    if cause.sqlstate is not None:
        return cause.sqlstate.startswith(("08", "53", "57P"))
    text = str(cause)
    return "FATAL:" not in text or any(passing in text for passing in _PASSING)


def _newest_ids(journal: JournalStore) -> tuple[int, int]:
    """The last callback and rejection ids in the journal: following starts after them."""
    rejections = journal.rejections(limit=1)
    return journal.last_callback_id(), rejections[-1].id if rejections else 0


def _rows_after(
    journal: JournalStore, *, callback: int, rejection: int
) -> tuple[list[CallbackRow], list[RejectionRow]]:
    return (
        journal.recent_callbacks(limit=1000, after_id=callback),
        journal.rejections(limit=1000, after_id=rejection),
    )
