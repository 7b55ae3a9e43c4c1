"""Stopping tracking closes everything, whatever fails on the way (issue 9, points 13-14)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from pydantic import SecretStr

from m2m_tui.api.models import RequestStatus, RequestStatusResponse
from m2m_tui.tracking.listener_config import ListenerConfig
from m2m_tui.tracking.poller import PollSchedule
from m2m_tui.tracking.service import TrackingService, TrackingSettings

FAST = PollSchedule(first=0.1, longest=0.2, pause=0.2, tick=0.05)


async def _status(account: str, request_id: str) -> RequestStatusResponse:
    return RequestStatusResponse(requestId=request_id, status=RequestStatus.PENDING)


def _settings(tmp_path: Path) -> TrackingSettings:
    listener = ListenerConfig(
        host="127.0.0.1", port=0, username="cb-user", password=SecretStr("cb-pass")
    )
    return TrackingSettings(tmp_path / "journal.db", listener=listener, schedule=FAST)


async def test_stop_closes_listener_writer_and_journal_when_steps_fail(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = TrackingService(_settings(tmp_path), _status)
    await service.start()
    poller, listener, journal = service.poller, service.listener, service.journal
    assert poller is not None and listener is not None and poller.running
    writer = service._writer
    assert writer is not None and writer.running

    async def broken_stop() -> None:
        raise RuntimeError("cannot stop")

    poller.stop = broken_stop  # type: ignore[method-assign]
    async with asyncio.timeout(10):
        await service.stop()  # does not raise
    assert not listener.running
    assert not writer.running
    with pytest.raises(sqlite3.ProgrammingError):
        journal.connection.execute("SELECT 1")
    assert "the poller did not stop cleanly" in caplog.text
    await poller.__class__.stop(poller)  # the real stop, so no task outlives the test


async def test_stop_after_the_poller_died_closes_everything(tmp_path: Path) -> None:
    service = TrackingService(_settings(tmp_path), None)
    await service.start()

    async def dies() -> None:
        raise RuntimeError("poller ended")

    service.attach_status_call(_status)
    poller = service.poller
    assert poller is not None
    await poller.stop()
    poller.run = dies  # type: ignore[method-assign]
    task = poller.start()
    await asyncio.wait({task})
    listener, writer = service.listener, service._writer
    assert listener is not None and writer is not None
    async with asyncio.timeout(10):
        await service.stop()
    assert not listener.running and not writer.running
    with pytest.raises(sqlite3.ProgrammingError):
        service.journal.connection.execute("SELECT 1")
