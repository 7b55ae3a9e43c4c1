"""Issue 8 case 2, as the user met it: quit, restart the demo (the simulator, same seed), and
suspend again. ThingSpace accepted it, so it must be tracked, never "JournalError: request ...
is already recorded".

Run 1 and run 2 share one journal file, as two sessions of the app do; each run has its own
simulator (same seed), its own tracking (listener, poller, tracker) and its own client.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.credentials import ClientSettings
from m2m_tui.api.models import DeviceId, RegisterCallbackRequest, SuspendRequest
from m2m_tui.api.retry import RetryPolicy
from m2m_tui.desk.actions import DeviceTarget, RequestAction, Submitted
from m2m_tui.desk.requests import RequestDesk
from m2m_tui.sim import SimConfig, start_simulator
from m2m_tui.sim.wellknown import DEMO_MDN
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.listener_config import ListenerConfig
from m2m_tui.tracking.poller import PollSchedule
from m2m_tui.tracking.records import RequestState
from m2m_tui.tracking.service import TrackingService, TrackingSettings
from m2m_tui.tracking.tracker import TrackedRequest

from ..conftest import FAST, credentials_for
from ..waiting import eventually
from .desk_helpers import register, settings

ACCOUNT = "0000123456-00001"
SCHEDULE = PollSchedule(first=0.1, growth=1.5, longest=0.4, jitter=0.1, pause=0.3, tick=0.05)
TARGET = DeviceId(id=DEMO_MDN, kind="mdn")


@dataclass
class Session:
    """One run of the app against one run of the simulator."""

    client: ThingSpaceClient
    tracking: TrackingService

    async def suspend_demo_device(self) -> TrackedRequest:
        sent_at = time.time()
        answer = await self.client.suspend(SuspendRequest.for_devices(ACCOUNT, TARGET))
        return self.tracking.tracker.submitted(
            "suspend", ACCOUNT, answer.requestId, devices=[TARGET.wire()], sent_at=sent_at
        )


@asynccontextmanager
async def app_run(journal: Path, config: SimConfig) -> AsyncIterator[Session]:
    sim = await start_simulator(config)
    client = ThingSpaceClient(
        credentials_for(config),
        ClientSettings(base_url=sim.base_url),
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
    )
    settings = TrackingSettings(
        journal_path=journal,
        listener=ListenerConfig(port=0, username="tui", password=SecretStr("cb-secret")),
        schedule=SCHEDULE,
    )
    try:
        await client.login()
        async with TrackingService(settings, client.request_status) as tracking:
            assert tracking.listener is not None
            await client.register_callback(
                ACCOUNT,
                RegisterCallbackRequest(
                    name="CarrierService",
                    url=tracking.listener.url + "cb",
                    username="tui",
                    password="cb-secret",
                ),
            )
            yield Session(client, tracking)
    finally:
        await client.aclose()
        await sim.close()


def settled_by_callback(request: TrackedRequest, session: Session) -> Callable[[], bool]:
    """Finished, and its CarrierService callback counted (not taken for a resend)."""
    return lambda: request.finished and request.received == 1


async def test_suspend_after_restarting_the_simulator_is_tracked(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    async with app_run(journal, SimConfig(seed=1, **FAST)) as first:  # type: ignore[arg-type]
        before = await first.suspend_demo_device()
        await eventually(settled_by_callback(before, first))
    async with app_run(journal, SimConfig(seed=1, **FAST)) as second:  # type: ignore[arg-type]
        after = await second.suspend_demo_device()
        await eventually(settled_by_callback(after, second))

    assert after.request_id != before.request_id  # ids stay unique across restarts
    assert after.state is RequestState.COMPLETED
    with Journal.open(journal, readonly=True) as read:
        assert {r.request_id for r in read.list_requests()} == {
            before.request_id,
            after.request_id,
        }


async def test_an_id_given_out_again_is_tracked_as_a_new_attempt(tmp_path: Path) -> None:
    """Should ids repeat anyway (a fixed salt repeats them exactly), the journal takes it."""
    journal = tmp_path / "journal.sqlite3"
    same_ids = SimConfig(seed=1, request_id_salt=7, **FAST)  # type: ignore[arg-type]
    async with app_run(journal, same_ids) as first:
        before = await first.suspend_demo_device()
        await eventually(settled_by_callback(before, first))
    async with app_run(journal, same_ids) as second:
        after = await second.suspend_demo_device()
        assert after.request_id == before.request_id
        await eventually(settled_by_callback(after, second))

    assert after.state is RequestState.COMPLETED and after.duplicates == 0
    request_id = after.request_id
    with Journal.open(journal, readonly=True) as read:
        current, earlier = read.get_request(request_id), read.get_request(f"{request_id}~1")
        assert current is not None and current.state == "completed"
        assert earlier is not None and earlier.state == "completed"
        assert earlier.last_error_message is not None
        assert earlier.last_error_message.startswith("superseded")
        assert len(read.callbacks_for(request_id)) == 1
        assert len(read.callbacks_for(f"{request_id}~1")) == 1


@asynccontextmanager
async def desk_run(journal: Path, config: SimConfig) -> AsyncIterator[RequestDesk]:
    """One run of the app as the desk sees it: its simulator, client and tracking."""
    sim = await start_simulator(config)
    client = ThingSpaceClient(
        credentials_for(config),
        ClientSettings(base_url=sim.base_url),
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
    )
    desk = RequestDesk(journal, client=client, account=ACCOUNT)
    try:
        await client.login()
        tracking = await desk.start_tracking(settings(journal, 0))
        assert tracking.listener_url is not None
        await register(client, tracking.listener_url + "cb")
        yield desk
    finally:
        await desk.close()
        await client.aclose()
        await sim.close()


async def suspend_through_the_desk(desk: RequestDesk) -> TrackedRequest:
    outcome = await desk.submit(RequestAction.SUSPEND, DeviceTarget(ACCOUNT, "mdn", DEMO_MDN))
    assert isinstance(outcome, Submitted)
    assert outcome.journaled and outcome.problem is None, outcome.how  # never "NOT tracked"
    assert desk.tracking is not None and desk.tracking.tracker is not None
    tracked = desk.tracking.tracker.get(outcome.request.request_id)
    assert tracked is not None
    await eventually(lambda: tracked.finished and tracked.received == 1)
    return tracked


async def test_the_desk_tracks_a_reused_id_as_a_new_attempt(tmp_path: Path) -> None:
    journal = tmp_path / "desk.sqlite3"
    same_ids = SimConfig(seed=1, request_id_salt=7, **FAST)  # type: ignore[arg-type]
    async with desk_run(journal, same_ids) as first:
        before = await suspend_through_the_desk(first)
    async with desk_run(journal, same_ids) as second:
        after = await suspend_through_the_desk(second)
    assert after.request_id == before.request_id
    assert after.state is RequestState.COMPLETED
    with Journal.open(journal, readonly=True) as read:
        assert read.get_request(f"{after.request_id}~1") is not None
