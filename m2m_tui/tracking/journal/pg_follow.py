"""Following a PostgreSQL journal live: LISTEN, and catch up by id after every reconnect.

Writers send a NOTIFY in the transaction that adds rows (``c:<last callback id>``,
``x:<last rejection id>``, ``q:<request id>``), so a follower hears of a commit the moment it
happens and nothing is polled while the connection is up. Notifications are only a doorbell:
the rows are read by id ("after the last one I have"), which is also what happens after each
(re)connect, so a callback committed while the connection was down is read then, and nothing
is missed or read twice. Ids grow in commit order (see :mod:`.pg_store`).

After a (re)connect the batch says ``resync``: which requests changed meanwhile is not known,
so a front end reloads the requests it shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from m2m_tui.tracking.journal import pg_schema as schema
from m2m_tui.tracking.journal.dialect import POSTGRES
from m2m_tui.tracking.journal.interface import safe_location
from m2m_tui.tracking.journal.shared import ReadSql
from m2m_tui.tracking.records import CallbackRow, RejectionRow

log = logging.getLogger(__name__)

PAGE = 1000
_CALLBACKS_AFTER = ReadSql.of(POSTGRES).callbacks_after
_REJECTIONS_AFTER = ReadSql.of(POSTGRES).rejections_after


@dataclass(frozen=True, slots=True)
class FollowBatch:
    """What arrived: new rows in id order, requests named as changed, and whether this is the
    catch-up after a (re)connect (then reload requests: changes while away are not named)."""

    callbacks: tuple[CallbackRow, ...] = ()
    rejections: tuple[RejectionRow, ...] = ()
    requests: frozenset[str] = frozenset()
    resync: bool = False


@dataclass
class _Doorbell:
    callbacks: bool = False
    rejections: bool = False
    requests: set[str] = field(default_factory=set)


class JournalFollower:
    """Calls ``on_batch`` in the event loop with every new row; reconnects by itself.

    ``after_callback`` / ``after_rejection``: the last ids already seen (None: start from the
    newest rows at the first connect, as a follower that has read the journal already).
    """

    def __init__(
        self,
        url: str,
        on_batch: Callable[[FollowBatch], None],
        *,
        after_callback: int | None = None,
        after_rejection: int | None = None,
        retry_interval: float = 0.5,
    ) -> None:
        self._url = url
        self._on_batch = on_batch
        self.last_callback = after_callback
        self.last_rejection = after_rejection
        self._retry_interval = retry_interval
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        #: How often it connected, and how many queries it ran (what following costs).
        self.connects = 0
        self.queries = 0
        self.problem: str | None = None

    @property
    def location(self) -> str:
        return safe_location(self._url)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def __repr__(self) -> str:
        return f"JournalFollower({self.location!r})"

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="m2m-tui follow journal")

    async def wait_connected(self) -> None:
        """Until LISTEN is on and the catch-up after it is done."""
        await self._connected.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._connected.clear()

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                problem = str(schema.failure(self._url, "follow the journal", exc))
                if problem != self.problem:
                    log.warning("%s; reconnecting", problem)
                self.problem = problem
            self._connected.clear()
            await asyncio.sleep(self._retry_interval)

    async def _session(self) -> None:
        """One connection: LISTEN, catch up, then read whenever the doorbell rings."""
        async with await psycopg.AsyncConnection.connect(self._url, autocommit=True) as conn:
            row = await (await conn.execute("SELECT current_schema()")).fetchone()
            channel = schema.channel_for(str(row[0] if row else "public"))
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            # LISTEN first, then read: a commit between the two is caught by one or the other.
            if self.last_callback is None or self.last_rejection is None:
                cursor = await conn.execute(
                    "SELECT (SELECT coalesce(max(id), 0) FROM callbacks),"
                    " (SELECT coalesce(max(id), 0) FROM rejections)"
                )
                newest = await cursor.fetchone()
                assert newest is not None
                if self.last_callback is None:
                    self.last_callback = int(newest[0])
                if self.last_rejection is None:
                    self.last_rejection = int(newest[1])
            self.connects += 1
            await self._catch_up(conn, _Doorbell(True, True), resync=True)
            self.problem = None
            self._connected.set()
            while True:
                bell = _Doorbell()
                async for note in conn.notifies(stop_after=1):
                    self._ring(bell, note.payload)
                await self._catch_up(conn, bell, resync=False)

    def _ring(self, bell: _Doorbell, payload: str) -> None:
        kind, _, value = payload.partition(":")
        if kind == "q":
            bell.requests.add(value)
            return
        try:
            newest = int(value)
        except ValueError:
            newest = None
        if kind == "c" and (newest is None or newest > (self.last_callback or 0)):
            bell.callbacks = True
        elif kind == "x" and (newest is None or newest > (self.last_rejection or 0)):
            bell.rejections = True

    async def _read(
        self, conn: psycopg.AsyncConnection[Any], query: str, after: int
    ) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        while True:
            self.queries += 1
            cursor = await conn.execute(query, (after, PAGE))
            page = await cursor.fetchall()
            rows.extend(page)
            if len(page) < PAGE:
                return rows
            after = int(page[-1][0])

    async def _catch_up(
        self, conn: psycopg.AsyncConnection[Any], bell: _Doorbell, *, resync: bool
    ) -> None:
        callbacks: tuple[CallbackRow, ...] = ()
        rejections: tuple[RejectionRow, ...] = ()
        if bell.callbacks:
            rows = await self._read(conn, _CALLBACKS_AFTER, self.last_callback or 0)
            callbacks = tuple(CallbackRow(*row) for row in rows)
            if callbacks:
                self.last_callback = callbacks[-1].id
        if bell.rejections:
            rows = await self._read(conn, _REJECTIONS_AFTER, self.last_rejection or 0)
            rejections = tuple(RejectionRow(*row) for row in rows)
            if rejections:
                self.last_rejection = rejections[-1].id
        if callbacks or rejections or bell.requests or resync:
            batch = FollowBatch(callbacks, rejections, frozenset(bell.requests), resync)
            try:
                self._on_batch(batch)
            except Exception:  # a consumer's bug must not stop following
                log.exception("journal follower: on_batch failed")
