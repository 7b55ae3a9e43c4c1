"""The listener's body deadline, in-process: enforced by the connection pool's sweep, once,
whole-body (not per chunk), never on a request whose body is in; and a callback on a
kept-alive connection schedules no timer of its own (issue 9: the hardening's cost).

The client here is raw asyncio streams, which schedule no timers either.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import replace
from typing import Any

import pytest

from m2m_tui.tracking.journal.sqlite_writer import JournalWriter
from m2m_tui.tracking.listener import CallbackListener
from m2m_tui.tracking.records import CallbackRecord, CallbackRecordId
from tests.tracking.conftest import BASE_CONFIG, StartListener
from tests.tracking.tracking_helpers import suspension_body

HEAD = b"POST /cb HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


class RawConnection:
    """One kept-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> RawConnection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def answer(self) -> tuple[int, bytes]:
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def post(self, body: bytes) -> int:
        self.writer.write(HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return (await self.answer())[0]

    def close(self) -> None:
        self.writer.close()


def _timed_out(listener: CallbackListener) -> int:
    return listener._pool.timed_out  # the /healthz counter, read without a request


async def test_a_late_body_is_answered_408_once_within_a_sweep_of_its_deadline(
    start_listener: tuple[StartListener, list[Any]],
) -> None:
    start, events = start_listener
    listener = await start(read_timeout=0.4)
    connection = await RawConnection.open(listener.port)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        connection.writer.write(HEAD + b"Content-Length: 400\r\n\r\n" + b'{"requestId": ')
        status, _ = await asyncio.wait_for(connection.answer(), timeout=8)
        elapsed = loop.time() - started
        assert status == 408
        # The connection is closed after the 408 rather than drained for aiohttp's 10 s.
        assert await asyncio.wait_for(connection.reader.read(), timeout=3) == b""
    finally:
        connection.close()
    assert 0.4 <= elapsed < 0.4 + listener._pool.sweep_interval + 2.0
    assert _timed_out(listener) == 1
    assert events == []  # a late body is not a callback, nor a journaled refusal


async def test_a_trickling_body_is_cut_at_its_deadline_not_per_chunk(
    start_listener: tuple[StartListener, list[Any]],
) -> None:
    """A byte every 50 ms never leaves the connection idle for long: the deadline is for the
    whole body, counted from its headers."""
    start, _ = start_listener
    listener = await start(read_timeout=0.5)
    connection = await RawConnection.open(listener.port)

    async def trickle() -> None:
        connection.writer.write(HEAD + b"Content-Length: 1000\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            for _ in range(200):  # 10 s of body at most
                connection.writer.write(b" ")
                await connection.writer.drain()
                await asyncio.sleep(0.05)

    loop = asyncio.get_running_loop()
    started = loop.time()
    sender = asyncio.create_task(trickle())
    try:
        status, _ = await asyncio.wait_for(connection.answer(), timeout=8)
        elapsed = loop.time() - started
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        connection.close()
    assert status == 408
    assert 0.5 <= elapsed < 0.5 + listener._pool.sweep_interval + 2.0
    assert _timed_out(listener) == 1


class SlowWriter:
    """The real writer, committing each callback ``delay`` seconds late (a slow journal)."""

    def __init__(self, inner: JournalWriter, delay: float) -> None:
        self._inner = inner
        self._delay = delay

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def append_callback(self, record: CallbackRecord) -> CallbackRecordId:
        await asyncio.sleep(self._delay)
        return await self._inner.append_callback(record)


async def test_a_slow_journal_write_is_not_cut_by_the_body_deadline(
    writer: JournalWriter,
) -> None:
    """The deadline is the body's: once it is in, a journal slower than the read timeout
    still gets its 200 (the sweep looks at the body, not at how long the handler takes)."""
    slow: Any = SlowWriter(writer, 1.0)
    listener = CallbackListener(replace(BASE_CONFIG, read_timeout=0.2), slow)
    await listener.start()
    try:
        connection = await RawConnection.open(listener.port)
        try:
            body = json.dumps(suspension_body("slow-journal")).encode()
            assert await asyncio.wait_for(connection.post(body), timeout=8) == 200
            # The kept-alive connection goes on serving once answered.
            again = json.dumps(suspension_body("slow-journal-2")).encode()
            assert await asyncio.wait_for(connection.post(again), timeout=8) == 200
        finally:
            connection.close()
        assert _timed_out(listener) == 0
    finally:
        await listener.stop()


async def test_a_callback_schedules_no_timer_of_its_own(
    start_listener: tuple[StartListener, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deadlines cost no timer per request: 300 callbacks on one kept-alive connection
    schedule a handful (the sweep's ticks, aiohttp's keep-alive), not one or more each."""
    start, events = start_listener
    listener = await start()
    loop = asyncio.get_running_loop()
    scheduled: list[float] = []
    call_at = loop.call_at

    def counting(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        scheduled.append(when)
        return call_at(when, *args, **kwargs)

    connection = await RawConnection.open(listener.port)
    try:
        bodies = [json.dumps(suspension_body(f"t-{n}")).encode() for n in range(300)]
        monkeypatch.setattr(loop, "call_at", counting)
        statuses = [await connection.post(body) for body in bodies]
        monkeypatch.undo()
    finally:
        connection.close()
    assert statuses == [200] * 300 and len(events) == 300
    assert len(scheduled) < 30, f"{len(scheduled)} timers for 300 callbacks"
