"""End to end over loopback: the simulator sends real callbacks to our listener, the poller
asks the simulator for status, and the tracker brings both requests to ``completed``."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.models import (
    CallbackKind,
    DeviceId,
    RegisterCallbackRequest,
    SuspendRequest,
    SuspensionStatusRequest,
)
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.wellknown import DEMO_MDN, ESN_DEVICE_MDN, SUSPENDED_MDN
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.listener_config import ListenerConfig
from m2m_tui.tracking.poller import PollSchedule
from m2m_tui.tracking.records import RequestState
from m2m_tui.tracking.service import TrackingService, TrackingSettings
from m2m_tui.tracking.tracker_events import RequestChanged, TrackerEvent

from ..waiting import eventually

ACCOUNT = "0000123456-00001"
FAST = PollSchedule(first=0.1, growth=1.5, longest=0.4, jitter=0.1, pause=0.3, tick=0.05)


async def register(client: ThingSpaceClient, url: str) -> None:
    for service in ("CarrierService", "DeviceSuspensionStatus"):
        await client.register_callback(
            ACCOUNT,
            RegisterCallbackRequest(name=service, url=url, username="tui", password="cb-secret"),
        )


def settings(tmp_path: Path) -> TrackingSettings:
    return TrackingSettings(
        journal_path=tmp_path / "journal.sqlite",
        listener=ListenerConfig(port=0, username="tui", password=SecretStr("cb-secret")),
        schedule=FAST,
    )


async def test_suspension_status_by_callback_and_suspend_by_poll(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    events: list[TrackerEvent] = []
    async with TrackingService(settings(tmp_path), client.request_status) as tracking:
        tracking.subscribe(events.append)
        assert tracking.listener is not None
        await register(client, tracking.listener.url + "cb")
        tracker = tracking.tracker

        devices = [DeviceId(id=mdn, kind="mdn") for mdn in (DEMO_MDN, SUSPENDED_MDN)]
        status_answer = await client.suspension_status(
            SuspensionStatusRequest(accountName=ACCOUNT, deviceIds=devices)
        )
        status_request = tracker.submitted(
            "suspension_status",
            ACCOUNT,
            status_answer.requestId,
            devices=[d.wire() for d in devices],
        )
        target = DeviceId(id=ESN_DEVICE_MDN, kind="mdn")
        suspend_answer = await client.suspend(SuspendRequest.for_devices(ACCOUNT, target))
        suspend_request = tracker.submitted(
            "suspend", ACCOUNT, suspend_answer.requestId, devices=[target.wire()]
        )

        await eventually(lambda: status_request.finished and suspend_request.finished)

        assert status_request.state is RequestState.COMPLETED
        assert status_request.completed_by is not None
        assert status_request.completed_by.value == "callback"
        assert status_request.completion_seen
        assert set(status_request.results) == {f"mdn:{DEMO_MDN}", f"mdn:{SUSPENDED_MDN}"}
        assert all(
            r.kind == CallbackKind.SUSPENSION_STATUS for r in status_request.results.values()
        )

        assert suspend_request.pollable
        assert suspend_request.state is RequestState.COMPLETED
        # Poll or the CarrierService callback, whichever came first: both are legitimate; the
        # simulator answers the poll as soon as it has processed the request.
        assert suspend_request.completed_by is not None

        journal: Journal = tracking.journal
        bodies = [row.body_dict() for row in journal.callbacks_for(status_answer.requestId)]
        suspended = next(
            b
            for b in bodies
            if "deviceSuspensionStatusResponse" in b.get("deviceResponse", {})
            and b["deviceResponse"]["deviceSuspensionStatusResponse"][0]["deviceIds"][0]["id"]
            == SUSPENDED_MDN
        )
        entry = suspended["deviceResponse"]["deviceSuspensionStatusResponse"][0]
        assert entry["state"] == "suspend" and entry["daysRemainingAutoResume"] == "61"
        assert all(b["password"] != "cb-secret" for b in bodies)
        changed = [e for e in events if isinstance(e, RequestChanged)]
        assert changed[-1].state == "completed"


async def test_completed_by_poll_when_no_callback_is_registered(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    async with TrackingService(settings(tmp_path), client.request_status) as tracking:
        target = DeviceId(id=DEMO_MDN, kind="mdn")
        answer = await client.suspend(SuspendRequest.for_devices(ACCOUNT, target))
        request = tracking.tracker.submitted(
            "suspend", ACCOUNT, answer.requestId, devices=[target.wire()]
        )
        await eventually(lambda: request.finished)
        assert request.state is RequestState.COMPLETED
        assert request.completed_by is not None and request.completed_by.value == "poll"


async def test_early_duplicated_reordered_callbacks(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    sim.config.faults.early_callbacks = True
    sim.config.faults.duplicate_rate = 1.0
    sim.config.faults.reorder = True
    async with TrackingService(settings(tmp_path), client.request_status) as tracking:
        assert tracking.listener is not None
        await register(client, tracking.listener.url)
        devices = [DeviceId(id=m, kind="mdn") for m in (DEMO_MDN, SUSPENDED_MDN, ESN_DEVICE_MDN)]
        answer = await client.suspension_status(
            SuspensionStatusRequest(accountName=ACCOUNT, deviceIds=devices)
        )
        # The callbacks were sent before the answer: they are already in the journal.
        assert tracking.journal.callbacks_for(answer.requestId)
        request = tracking.tracker.submitted(
            "suspension_status", ACCOUNT, answer.requestId, devices=[d.wire() for d in devices]
        )
        await eventually(lambda: request.finished)
        assert request.state is RequestState.COMPLETED
        assert request.received == 3
        assert request.duplicates >= 3


async def test_follow_mode_reads_a_journal_another_listener_writes(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    shared = settings(tmp_path)
    async with TrackingService(shared, None) as listening:
        assert listening.listener is not None
        await register(client, listening.listener.url)
        follower_settings = TrackingSettings(
            journal_path=shared.journal_path, listener=None, follow=True, follow_interval=0.05
        )
        async with TrackingService(follower_settings, client.request_status) as follower:
            devices = [DeviceId(id=DEMO_MDN, kind="mdn")]
            answer = await client.suspension_status(
                SuspensionStatusRequest(accountName=ACCOUNT, deviceIds=devices)
            )
            request = follower.tracker.submitted(
                "suspension_status", ACCOUNT, answer.requestId, devices=[d.wire() for d in devices]
            )
            await eventually(lambda: request.finished)
            assert request.state is RequestState.COMPLETED and request.received == 1
