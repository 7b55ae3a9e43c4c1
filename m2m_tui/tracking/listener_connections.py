"""Connection limits for the callback listener: a cap, read deadlines, eviction under attack.

aiohttp reads requests for as long as a client cares to send them, and accepts connections
until the process runs out of file descriptors (then every ``accept()`` fails and logs). A
client sending half a request and then nothing (slow-loris) would, a thousand times over,
leave a genuine callback unanswered. So each connection goes through a thin protocol wrapper
that tells a :class:`ConnectionPool`:

- when it opens: past ``max_connections`` the oldest connection still *reading* (it has not
  delivered a whole request yet, or sits idle between two) is closed to make room, so a
  flood of stalled connections cannot lock genuine ones out; the cap is kept under the
  descriptor limit so ``accept()`` never fails;
- when its request reaches the handler (headers done), with the request's body stream, and
  when the answer is sent.

One sweep every fraction of ``read_timeout`` (a quarter, between 0.05 and 1 s) enforces both
deadlines: a connection reading its request line and headers (or idling between requests)
for longer than ``read_timeout`` is closed, and a body not wholly received ``read_timeout``
after its headers gets :class:`BodyTimeout` raised in the handler's read (it answers 408). So
a deadline is met within one sweep interval of it, and a callback costs no timer of its own:
an ``asyncio.timeout`` around each body read (a timer handle scheduled and cancelled per
request) cost more than the rest of this bookkeeping together (issue 9's bench).

Per request this costs two calls, two dictionary moves and two clock reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, cast

log = logging.getLogger(__name__)

#: Descriptors kept free for the journal, stdio, TLS files and the like.
RESERVED_DESCRIPTORS = 64


class BodyTimeout(TimeoutError):
    """The request's body did not arrive within the read timeout."""


class BodyStream(Protocol):
    """What the pool needs of a request's body stream (aiohttp's ``request.content``)."""

    def is_eof(self) -> bool: ...

    def set_exception(self, exc: BaseException) -> None: ...


def descriptor_budget(wanted: int) -> int:
    """``wanted``, lowered to stay under the soft limit on open files."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return wanted
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, int(soft) - RESERVED_DESCRIPTORS))


class ConnectionPool:
    """Which connections are open, which are reading, since when; closes the excess.

    Times are ``time.monotonic()`` (a builtin: cheaper per request than ``loop.time()``).
    """

    def __init__(self, max_connections: int, read_timeout: float) -> None:
        self.max_connections = descriptor_budget(max_connections)
        self.read_timeout = read_timeout
        # transport -> when it started reading its headers (oldest first); busy ones are not in it.
        self._reading: OrderedDict[asyncio.Transport, float] = OrderedDict()
        # transport -> (when its headers were in, its body stream until the body is), in the
        # order the handler took them: the oldest first.
        self._busy: dict[asyncio.Transport, tuple[float, BodyStream | None]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self.timed_out = 0
        self.evicted = 0
        self.refused = 0

    @property
    def open(self) -> int:
        return len(self._reading) + len(self._busy)

    @property
    def sweep_interval(self) -> float:
        """Seconds between two sweeps: how late past its deadline a connection may be cut."""
        return min(1.0, max(0.05, self.read_timeout / 4))

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._sweeper = loop.create_task(self._sweep(), name="listener read deadlines")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    def counters(self) -> dict[str, int]:
        return {
            "open": self.open,
            "max": self.max_connections,
            "timed_out": self.timed_out,
            "evicted": self.evicted,
            "refused": self.refused,
        }

    # --- events from the protocol wrapper and the handler -------------------------------

    def opened(self, transport: asyncio.Transport) -> None:
        if self.open >= self.max_connections and not self._evict_one():
            self.refused += 1  # every slot is answering a request: this one must wait
            transport.abort()
            return
        self._reading[transport] = time.monotonic()

    def closed(self, transport: asyncio.Transport) -> None:
        self._reading.pop(transport, None)
        self._busy.pop(transport, None)

    def request_read(self, transport: asyncio.Transport | None, body: BodyStream) -> None:
        """The headers are in: not swept as reading any more; ``body`` must be in within the
        read timeout (the sweep raises :class:`BodyTimeout` in its reader otherwise)."""
        if transport is not None and self._reading.pop(transport, None) is not None:
            self._busy[transport] = (time.monotonic(), body)

    def answered(self, transport: asyncio.Transport | None) -> None:
        """The answer is sent; a kept-alive connection reads (and is timed) again."""
        if transport is not None and self._busy.pop(transport, None) is not None:
            self._reading[transport] = time.monotonic()

    # --- internals ------------------------------------------------------------------------

    def _evict_one(self) -> bool:
        while self._reading:
            transport, _ = self._reading.popitem(last=False)
            if not transport.is_closing():
                self.evicted += 1
                transport.abort()
                return True
        return False

    async def _sweep(self) -> None:
        interval = self.sweep_interval
        while True:
            await asyncio.sleep(interval)
            self.sweep(time.monotonic())

    def sweep(self, now: float) -> None:
        """Close connections whose headers are late; fail the reads of bodies that are late."""
        limit = now - self.read_timeout
        reading = self._reading
        while reading:
            transport, since = next(iter(reading.items()))
            if since > limit:
                break
            del reading[transport]
            self.timed_out += 1
            transport.abort()
        late: list[tuple[asyncio.Transport, float, BodyStream]] = []
        for transport, (since, body) in self._busy.items():
            if since > limit:
                break
            if body is not None:
                late.append((transport, since, body))
        for transport, since, body in late:
            self._busy[transport] = (since, None)  # settled: looked at once
            if not body.is_eof():  # still arriving: the handler answers 408
                self.timed_out += 1
                body.set_exception(BodyTimeout(f"no whole body in {self.read_timeout:g} s"))


class GuardedProtocol(asyncio.Protocol):
    """Forwards everything to aiohttp's protocol, telling the pool when it opens and closes."""

    __slots__ = ("_inner", "_pool", "_transport")

    def __init__(self, inner: asyncio.Protocol, pool: ConnectionPool) -> None:
        self._inner = inner
        self._pool = pool
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        stream = cast(asyncio.Transport, transport)
        self._transport = stream
        self._inner.connection_made(stream)
        self._pool.opened(stream)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._pool.closed(self._transport)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def guarded_factory(
    factory: Callable[[], asyncio.Protocol], pool: ConnectionPool
) -> Callable[[], asyncio.Protocol]:
    """A protocol factory for ``loop.create_server`` that puts every connection in ``pool``."""

    def make() -> asyncio.Protocol:
        return GuardedProtocol(factory(), pool)

    return make
