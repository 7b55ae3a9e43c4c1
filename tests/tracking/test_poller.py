"""The poller against the simulator over loopback: adaptive schedule, stop rules, back-off."""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.models import (
    DeviceId,
    RequestStatus,
    RequestStatusResponse,
    SuspendRequest,
    SuspensionStatusRequest,
)
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.wellknown import DEMO_MDN
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.poller import Poller, PollSchedule
from m2m_tui.tracking.records import RequestState
from m2m_tui.tracking.tracker import Tracker
from m2m_tui.tracking.tracker_events import PollerStatus

from ..api.hostile import client_for, hostile_server, json_answer
from ..waiting import eventually

ACCOUNT = "0000123456-00001"
FAST = PollSchedule(first=0.1, growth=1.5, longest=0.4, jitter=0.1, pause=0.3, tick=0.05)


class BentClock:
    """The poller's clock: monotonic time plus what the test moved it forward by."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


def count_rounds(tracker: Tracker) -> list[int]:
    """A counter of the poller's rounds: each starts with the tracker's deadline check."""
    rounds = [0]
    check = tracker.check_deadlines

    def counted() -> list[str]:
        rounds[0] += 1
        return check()

    tracker.check_deadlines = counted  # type: ignore[method-assign]
    return rounds


async def rounds_later(poller: Poller, clock: BentClock, rounds: list[int]) -> None:
    """Move the clock a minute on (anything the poller holds is long due) and wait for two
    more rounds: whatever it would poll, it has polled by then."""
    clock.offset += 60.0
    at = rounds[0]
    poller.wake()
    await eventually(lambda: rounds[0] >= at + 2)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite") as opened:
        yield opened


async def test_single_device_suspend_completed_by_poll(
    client: ThingSpaceClient, journal: Journal
) -> None:
    tracker = Tracker(journal)
    clock, rounds = BentClock(), count_rounds(tracker)
    poller = Poller(
        tracker, client.request_status, schedule=FAST, clock=clock, rng=random.Random(1)
    )
    poller.start()
    try:
        device = DeviceId(id=DEMO_MDN, kind="mdn")
        answer = await client.suspend(SuspendRequest.for_devices(ACCOUNT, device))
        request = tracker.submitted("suspend", ACCOUNT, answer.requestId, devices=[device.wire()])
        await eventually(lambda: request.finished)
        assert request.state is RequestState.COMPLETED
        assert request.completed_by is not None and request.completed_by.value == "poll"
        statuses = [p.status for p in journal.polls_for(answer.requestId)]
        assert statuses[-1] == "Success" and statuses.count("Success") == 1
        polls_at_finish = poller.polls
        await rounds_later(poller, clock, rounds)
        assert poller.polls == polls_at_finish  # stopped polling a finished request
    finally:
        await poller.stop()


async def test_callback_only_requests_are_never_polled(
    client: ThingSpaceClient, journal: Journal, sim: RunningSimulator
) -> None:
    tracker = Tracker(journal)
    clock, rounds = BentClock(), count_rounds(tracker)
    poller = Poller(tracker, client.request_status, schedule=FAST, clock=clock)
    poller.start()
    try:
        device = DeviceId(id=DEMO_MDN, kind="mdn")
        answer = await client.suspension_status(
            SuspensionStatusRequest(accountName=ACCOUNT, deviceIds=[device])
        )
        tracker.submitted("suspension_status", ACCOUNT, answer.requestId, devices=[device.wire()])
        await rounds_later(poller, clock, rounds)
        assert poller.polls == 0
        assert not any("/requests/" in key for key in sim.state.calls)
    finally:
        await poller.stop()


def test_interval_grows_to_the_ceiling_with_jitter() -> None:
    schedule = PollSchedule(first=2, growth=1.5, longest=30, jitter=0.2)
    rng = random.Random(3)
    interval = None
    seen = []
    for _ in range(15):
        interval = schedule.next_interval(interval, rng)
        seen.append(interval)
    assert 1.6 <= seen[0] <= 2.4
    assert max(seen) <= 30 * 1.2 and seen[-1] >= 30 * 0.8
    assert len({round(v, 6) for v in seen}) == len(seen)  # jittered, never in lock-step


async def test_backs_off_on_429_then_carries_on(
    client: ThingSpaceClient, journal: Journal, sim: RunningSimulator
) -> None:
    tracker = Tracker(journal)
    statuses: list[PollerStatus] = []
    poller = Poller(tracker, client.request_status, schedule=FAST, on_status=statuses.append)
    client.retry = type(client.retry)(attempts=0)
    device = DeviceId(id=DEMO_MDN, kind="mdn")
    answer = await client.suspend(SuspendRequest.for_devices(ACCOUNT, device))
    request = tracker.submitted("suspend", ACCOUNT, answer.requestId, devices=[device.wire()])
    sim.config.faults.rate_429 = 1.0
    sim.config.faults.retry_after = 0
    poller.start()
    try:
        await eventually(lambda: any(s.paused_until for s in statuses))
        assert statuses[-1].last_error is not None and "throttl" in statuses[-1].last_error
        sim.config.faults.rate_429 = 0.0
        await eventually(lambda: request.finished)
        assert request.state is RequestState.COMPLETED
    finally:
        await poller.stop()


async def test_gives_up_on_a_request_thingspace_does_not_track(
    client: ThingSpaceClient, journal: Journal
) -> None:
    tracker = Tracker(journal)
    poller = Poller(tracker, client.request_status, schedule=FAST)
    request = tracker.submitted(
        "suspend",
        ACCOUNT,
        "00000000-0000-0000-0000-000000000000",
        devices=[{"id": DEMO_MDN, "kind": "mdn"}],
    )
    poller.start()
    try:
        await eventually(lambda: not request.pollable)
        assert request.last_error_message is not None
        assert "awaiting callbacks" in request.last_error_message
        assert not request.finished
    finally:
        await poller.stop()


async def test_survives_session_expiry_through_the_client(
    client: ThingSpaceClient, journal: Journal, sim: RunningSimulator
) -> None:
    tracker = Tracker(journal)
    poller = Poller(tracker, client.request_status, schedule=FAST)
    device = DeviceId(id=DEMO_MDN, kind="mdn")
    answer = await client.suspend(SuspendRequest.for_devices(ACCOUNT, device))
    request = tracker.submitted("suspend", ACCOUNT, answer.requestId, devices=[device.wire()])
    sim.state.expire_sessions()
    poller.start()
    try:
        await eventually(lambda: request.finished)
        assert request.state is RequestState.COMPLETED
        assert sim.state.logins == 2
    finally:
        await poller.stop()


# ---------------------------------------------------------------- issue 9, points 13 and 14


async def test_undecodable_and_too_deep_answers_do_not_stop_polling(journal: Journal) -> None:
    answers = iter(
        [
            web.Response(
                body=b'{"status": "Pending"}',
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            ),
            web.Response(body=b"[" * 200_000 + b"]" * 200_000, content_type="application/json"),
        ]
    )

    async def status(request: web.Request) -> web.Response:
        request_id = request.match_info["tail"].split("/")[-2]
        return next(answers, None) or json_answer({"requestId": request_id, "status": "Success"})

    tracker = Tracker(journal)
    async with hostile_server(status) as url, client_for(url) as client:
        poller = Poller(tracker, client.request_status, schedule=FAST)
        request = tracker.submitted("suspend", ACCOUNT, "req-13", devices=[{"id": DEMO_MDN}])
        poller.start()
        try:
            await eventually(lambda: request.finished)
            assert poller.running
        finally:
            await poller.stop()
    assert request.state is RequestState.COMPLETED
    assert poller.errors == 2 and poller.polls == 3


async def test_any_exception_from_a_status_call_is_counted_and_backed_off(
    journal: Journal, caplog: pytest.LogCaptureFixture
) -> None:
    failures = [RuntimeError("secret-ish text"), KeyError("x"), ValueError("y")]

    async def status_call(account: str, request_id: str) -> RequestStatusResponse:
        if failures:
            raise failures.pop(0)
        return RequestStatusResponse(requestId=request_id, status=RequestStatus.SUCCESS)

    tracker = Tracker(journal)
    poller = Poller(tracker, status_call, schedule=FAST)
    request = tracker.submitted("suspend", ACCOUNT, "req-14", devices=[{"id": DEMO_MDN}])
    poller.start()
    try:
        await eventually(lambda: request.finished)
        assert poller.running
    finally:
        await poller.stop()
    assert request.state is RequestState.COMPLETED
    assert poller.errors == 3
    assert "RuntimeError" in caplog.text and "secret-ish text" not in caplog.text


async def test_a_failing_round_is_waited_out(journal: Journal) -> None:
    tracker = Tracker(journal)
    statuses: list[PollerStatus] = []
    poller = Poller(tracker, _success, schedule=FAST, on_status=statuses.append)
    real_check = tracker.check_deadlines
    broken = [sqlite3.OperationalError("database is locked")] * 2

    def check_deadlines() -> list[str]:
        if broken:
            raise broken.pop()
        return real_check()

    tracker.check_deadlines = check_deadlines  # type: ignore[method-assign]
    request = tracker.submitted("suspend", ACCOUNT, "req-round", devices=[{"id": DEMO_MDN}])
    poller.start()
    try:
        await eventually(lambda: request.finished)
        assert poller.running
    finally:
        await poller.stop()
    assert poller.errors == 2
    assert any(s.last_error and "OperationalError" in s.last_error for s in statuses)


async def test_stopping_a_poller_that_died_does_not_raise(journal: Journal) -> None:
    poller = Poller(Tracker(journal), _success, schedule=FAST)

    async def dies() -> None:
        raise RuntimeError("ended")

    poller.run = dies  # type: ignore[method-assign]
    task = poller.start()
    await eventually(task.done)
    await poller.stop()
    assert not poller.running


async def _success(account: str, request_id: str) -> RequestStatusResponse:
    return RequestStatusResponse(requestId=request_id, status=RequestStatus.SUCCESS)
