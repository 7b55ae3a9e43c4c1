"""The tracker's journal calls run off the event loop (issue 11).

With a team's PostgreSQL journal every journal call is a network round trip; with the
database hanging, the tracker used to freeze the event loop (the screen, the listener, the
poller) for as long as the call took. Here the database hangs for real: PostgreSQL behind a
TCP proxy that stops passing bytes. The loop must keep answering (a timer keeps firing), the
request's change must still be announced, and the journal must get the writes, in order, once
the database answers again. A sqlite journal that blocks on a gate shows the same for recording
a submitted request: it is journaled before it is announced, and callbacks that arrive
meanwhile are applied after it, in order.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from m2m_tui.api.models import RequestStatus, RequestStatusResponse
from m2m_tui.tracking.events import CallbackAccepted
from m2m_tui.tracking.journal.pg import PgJournal
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.poller import PollSchedule
from m2m_tui.tracking.records import CallbackRecord, RequestState
from m2m_tui.tracking.service import TrackingService, TrackingSettings
from m2m_tui.tracking.tracker import Tracker
from m2m_tui.tracking.tracker_events import CallbackReceived, RequestChanged, TrackerEvent
from m2m_tui.tracking.tracker_lane import JournalLane
from tests.tcp_proxy import TcpProxy
from tests.tracking.journal_backends import (  # noqa: F401  (fixtures)
    postgres_server,
    postgres_url,
)
from tests.waiting import eventually

ACCOUNT = "0000123456-00001"
MDN = {"kind": "mdn", "id": "5551234567"}
MDN2 = {"kind": "mdn", "id": "5551234568"}
FAST = PollSchedule(first=0.1, longest=0.2, pause=0.2, tick=0.05, jitter=0.0)
HANG = 3.0  # seconds the database hangs; the proxy lets traffic through again after them


class Ticker:
    """A timer on the event loop; the longest gap between two of its ticks is how long the
    loop was kept from answering."""

    def __init__(self, every: float = 0.02) -> None:
        self.every = every
        self.ticks: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self.ticks.append(loop.time())
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        """Stop; the longest gap seen."""
        assert self._task is not None
        self._task.cancel()
        await asyncio.wait({self._task})
        self.ticks.append(asyncio.get_running_loop().time())  # the gap up to now counts too
        return max(b - a for a, b in zip(self.ticks, self.ticks[1:], strict=False))


@pytest.fixture
def proxied(postgres_url: str) -> Iterator[tuple[TcpProxy, str]]:  # noqa: F811
    with TcpProxy.to(postgres_url) as proxy:
        yield proxy, proxy.url(postgres_url)


async def test_a_hanging_database_does_not_freeze_the_loop_and_gets_the_writes_in_order(
    proxied: tuple[TcpProxy, str],
    postgres_url: str,  # noqa: F811
) -> None:
    proxy, url = proxied
    answer = {"status": RequestStatus.PENDING}

    async def status(account: str, request_id: str) -> RequestStatusResponse:
        return RequestStatusResponse(requestId=request_id, status=answer["status"])

    settings = TrackingSettings(journal_path=url, listener=None, schedule=FAST)
    events: list[TrackerEvent] = []
    async with TrackingService(settings, status) as service:
        service.tracker.subscribe(events.append)
        request = service.tracker.submitted("suspend", ACCOUNT, "rq-hang", devices=[MDN])
        await eventually(lambda: request.state is RequestState.PENDING)

        ticker = Ticker()
        ticker.start()
        proxy.pause(until=HANG)  # every query in flight or to come hangs
        answer["status"] = RequestStatus.SUCCESS  # the next poll finishes the request
        await eventually(lambda: request.finished, within=HANG + 2)
        finished_while_hanging = proxy.paused
        await eventually(lambda: not proxy.paused, within=HANG + 2)
        longest_gap = await ticker.stop()

        assert longest_gap < 0.5, f"the event loop stood still for {longest_gap:.2f} s"
        assert finished_while_hanging, "the change waited for the database"
        assert request.state is RequestState.COMPLETED
        assert any(
            isinstance(e, RequestChanged) and e.state == RequestState.COMPLETED for e in events
        )
    # Stopping wrote what was queued: the poll, then the state, as they happened.
    with PgJournal(postgres_url, readonly=True) as journal:
        stored = journal.get_request("rq-hang")
        assert stored is not None and stored.state == RequestState.COMPLETED
        assert stored.completed_by == "poll"
        assert [p.status for p in journal.polls_for("rq-hang")] == ["Pending", "Success"]


class GatedJournal:
    """A sqlite journal whose calls wait at a gate while it is shut (in the caller's thread)."""

    def __init__(self, journal: Journal) -> None:
        self.inner = journal
        self.open_gate = threading.Event()
        self.open_gate.set()
        self.waiting = threading.Event()
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not callable(value):
            return value

        def gated(*args: Any, **kwargs: Any) -> Any:
            if not self.open_gate.is_set():
                self.waiting.set()
                assert self.open_gate.wait(10), "the gate was never opened"
            self.calls.append(name)
            return value(*args, **kwargs)

        return gated


def _record(journal: Journal, request_id: str, device: dict[str, str], *, ok: bool) -> int:
    """What the listener does first: journal the callback (the event comes after)."""
    body: dict[str, Any] = {"requestId": request_id, "deviceIds": [device]}
    if ok:
        body["status"] = "Success"
    else:
        body["status"] = "Failed"
        body["faultResponse"] = {"faultcode": "X.DeviceAlreadyActive", "faultstring": "active"}
    record = CallbackRecord(
        request_id=request_id,
        kind="success" if ok else "failure",
        body=body,
        device_key=f"{device['kind']}:{device['id']}",
        source="test",
    )
    return journal.append_callbacks([record])[0].id


def _accepted(record_id: int, request_id: str, device: dict[str, str], ok: bool) -> Any:
    return CallbackAccepted(
        record_id=record_id,
        request_id=request_id,
        kind="success" if ok else "failure",
        device_key=f"{device['kind']}:{device['id']}",
        duplicate=False,
        received_at=1.0,
    )


async def test_a_submitted_request_is_journaled_off_the_loop_before_it_is_announced(
    tmp_path: Path,
) -> None:
    writer = Journal.open(tmp_path / "j.db", check_same_thread=False)  # the listener's side
    gated = GatedJournal(Journal.open(tmp_path / "j.db", check_same_thread=False))
    lane = JournalLane(lambda: gated)  # type: ignore[arg-type,return-value]
    tracker = Tracker(lane, deadline=600)
    announced: list[TrackerEvent] = []
    journaled_when_announced: list[bool] = []

    def hear(event: TrackerEvent) -> None:
        announced.append(event)
        if isinstance(event, RequestChanged) and event.request_id == "rq-gate":
            journaled_when_announced.append(writer.get_request("rq-gate") is not None)

    tracker.subscribe(hear)
    await lane.open()
    # A failure that beat the synchronous answer: in the journal before the request.
    early = _record(writer, "rq-gate", MDN, ok=False)

    gated.open_gate.clear()
    ticker = Ticker()
    ticker.start()
    submit = asyncio.create_task(
        tracker.asubmitted("restore", ACCOUNT, "rq-gate", devices=[MDN, MDN2])
    )
    await eventually(gated.waiting.is_set)
    # While it is being recorded: the other device answers (journaled, then announced).
    late = _record(writer, "rq-gate", MDN2, ok=True)
    tracker.callback(_accepted(late, "rq-gate", MDN2, True))
    await asyncio.sleep(0.3)  # the loop runs on meanwhile: the timer's ticks are counted
    assert not submit.done() and not announced, "announced before it was journaled"
    gated.open_gate.set()
    request = await asyncio.wait_for(submit, 5)
    assert await ticker.stop() < 0.2

    assert journaled_when_announced and all(journaled_when_announced)
    # Both callbacks applied, the early failure with its fault read from its body.
    await eventually(lambda: request.finished)
    assert request.state is RequestState.COMPLETED  # 1 of 2 failed: completed, with a failure
    assert request.failures == 1 and request.received == 2
    assert request.last_error_code == "X.DeviceAlreadyActive"
    received = [e for e in announced if isinstance(e, CallbackReceived)]
    assert [(e.record_id, e.ours) for e in received] == [(late, True)]
    assert early in request.applied and late in request.applied
    await tracker.stop()
    await lane.aclose()
    writer.close()


async def test_a_failure_waits_for_its_body_off_the_loop_and_keeps_its_place(
    tmp_path: Path,
) -> None:
    """The listener's event carries no body; the fault is read on the lane, and the callbacks
    behind it wait for it rather than overtaking it."""
    writer = Journal.open(tmp_path / "j.db", check_same_thread=False)
    gated = GatedJournal(Journal.open(tmp_path / "j.db", check_same_thread=False))
    lane = JournalLane(lambda: gated)  # type: ignore[arg-type,return-value]
    tracker = Tracker(lane, deadline=600)
    received: list[int] = []
    tracker.subscribe(
        lambda e: received.append(e.record_id) if isinstance(e, CallbackReceived) else None
    )
    request = await tracker.asubmitted("restore", ACCOUNT, "rq-f", filter={"groupName": "g"})

    gated.open_gate.clear()
    failed = _record(writer, "rq-f", MDN, ok=False)
    tracker.callback(_accepted(failed, "rq-f", MDN, False))
    again = _record(writer, "rq-f", MDN2, ok=True)
    tracker.callback(_accepted(again, "rq-f", MDN2, True))
    await eventually(gated.waiting.is_set)
    ticker = Ticker()
    ticker.start()
    await asyncio.sleep(0.3)
    assert received == [] and request.received == 0  # both wait for the failure's body
    gated.open_gate.set()
    await eventually(lambda: request.received == 2)
    assert await ticker.stop() < 0.2
    assert received == [failed, again]
    assert request.last_error_code == "X.DeviceAlreadyActive"
    assert request.last_error_message == "active"
    await tracker.stop()
    await lane.aclose()
    writer.close()


async def test_stopping_does_not_wait_for_a_database_that_hangs(
    proxied: tuple[TcpProxy, str],
) -> None:
    """Quitting the app must not hang on a dead database: the lane gives up after its close
    timeout, and its thread does not keep the process alive."""
    proxy, url = proxied
    lane = JournalLane(lambda: PgJournal(url), close_timeout=0.5)
    await lane.open()
    assert lane._thread.daemon
    proxy.pause(until=HANG + 5)
    lane.post(lambda journal: journal.add_poll("rq-x", "Pending"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await lane.aclose()
    assert loop.time() - started < 2.0
    proxy.open()
