"""Issue 8 case 4, as the user met it: suspend every device of a group from the filter screen.

CarrierService answers each device and sends no completion message, so before, the request
sat unfinished (no final state, no FAILED notice) until its 25-minute deadline even though
every device had answered. Now the matched count, known from listing the filter's devices,
settles it as soon as all have answered: failed when all failed, completed with the count
when some did.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.models import DeviceListRequest, RegisterCallbackRequest, SuspendRequest
from m2m_tui.desk.actions import FilterTarget, RequestAction, Submitted
from m2m_tui.desk.requests import RequestDesk
from m2m_tui.sim import RunningSimulator
from m2m_tui.tracking.listener_config import ListenerConfig
from m2m_tui.tracking.records import RequestState
from m2m_tui.tracking.service import TrackingService, TrackingSettings
from m2m_tui.tracking.tracker import DEFAULT_DEADLINE, TrackedRequest
from m2m_tui.tracking.tracker_events import RequestChanged, TrackerEvent

from ..waiting import eventually
from .desk_helpers import register, settings

ACCOUNT = "0000123456-00001"


@pytest.fixture
async def tracking(
    client: ThingSpaceClient, tmp_path: Path
) -> AsyncIterator[tuple[TrackingService, list[TrackerEvent]]]:
    settings = TrackingSettings(
        journal_path=tmp_path / "journal.sqlite3",
        listener=ListenerConfig(port=0, username="tui", password=SecretStr("cb-secret")),
        deadline=DEFAULT_DEADLINE,  # 25 minutes: settling must not wait for it
    )
    events: list[TrackerEvent] = []
    async with TrackingService(settings, client.request_status) as service:
        service.subscribe(events.append)
        assert service.listener is not None
        await client.register_callback(
            ACCOUNT,
            RegisterCallbackRequest(
                name="CarrierService",
                url=service.listener.url + "cb",
                username="tui",
                password="cb-secret",
            ),
        )
        yield service, events


async def matched(client: ThingSpaceClient, group: str) -> int:
    """What the filter screen does before offering an action: list every matching device."""
    count = 0
    async for page in client.iter_device_pages(
        DeviceListRequest(accountName=ACCOUNT, groupName=group)
    ):
        count += len(page)
    return count


async def suspend_group(
    client: ThingSpaceClient, service: TrackingService, group: str
) -> TrackedRequest:
    expected = await matched(client, group)
    answer = await client.suspend(SuspendRequest(accountName=ACCOUNT, groupName=group))
    return service.tracker.submitted(
        "suspend",
        ACCOUNT,
        answer.requestId,
        filter={"groupName": group},
        expected_devices=expected,
        sent_at=time.time(),
    )


def last_change(events: list[TrackerEvent], request_id: str) -> RequestChanged:
    return [e for e in events if isinstance(e, RequestChanged) and e.request_id == request_id][-1]


async def test_a_group_that_all_fails_settles_failed_at_once(
    client: ThingSpaceClient,
    sim: RunningSimulator,
    tracking: tuple[TrackingService, list[TrackerEvent]],
) -> None:
    service, events = tracking
    group = "suspended devices"  # every one already suspended: each suspend fails
    devices = [d for d in sim.state.account_devices(ACCOUNT) if group in d.groups]
    assert devices and all(d.state == "suspend" for d in devices)

    request = await suspend_group(client, service, group)
    await eventually(lambda: request.finished, within=10)

    assert request.state is RequestState.FAILED
    assert request.expected == request.received == request.failures == len(devices)
    change = last_change(events, request.request_id)
    assert change.state == "failed"
    assert change.outcome == f"all {len(devices)} devices failed"
    assert request.last_error_code is not None and "DeviceState.Invalid" in request.last_error_code
    stored = service.journal.get_request(request.request_id)
    assert stored is not None and stored.state == "failed"


async def test_a_group_where_some_fail_completes_with_the_count(
    client: ThingSpaceClient,
    sim: RunningSimulator,
    tracking: tuple[TrackingService, list[TrackerEvent]],
) -> None:
    service, events = tracking
    group = "Field units"
    devices = [d for d in sim.state.account_devices(ACCOUNT) if group in d.groups]
    bad = sum(1 for d in devices if d.state != "active")
    assert 0 < bad < len(devices)

    request = await suspend_group(client, service, group)
    await eventually(lambda: request.finished, within=10)

    assert request.state is RequestState.COMPLETED
    assert (request.received, request.failures) == (len(devices), bad)
    change = last_change(events, request.request_id)
    assert change.state == "completed" and change.completed_by == "callback"
    assert change.outcome == f"{bad} of {len(devices)} devices failed"


async def test_the_desk_passes_the_listed_count_so_the_group_settles_at_once(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    """The whole path: the filter screen listed every match, the desk submits and tracks."""
    group = "suspended devices"
    listed = await matched(client, group)
    journal = tmp_path / "desk.sqlite3"
    desk = RequestDesk(journal, client=client, account=ACCOUNT)
    tracking = await desk.start_tracking(settings(journal, 0))
    try:
        assert tracking.listener_url is not None and tracking.tracker is not None
        await register(client, tracking.listener_url + "cb")
        target = FilterTarget(ACCOUNT, group=group, loaded=listed, more=False)
        outcome = await desk.submit(RequestAction.SUSPEND, target, accept_warning=True)
        assert isinstance(outcome, Submitted)
        tracked = tracking.tracker.get(outcome.request.request_id)
        assert tracked is not None and tracked.expected == listed
        await eventually(lambda: tracked.finished, within=10)
        assert tracked.state is RequestState.FAILED
        assert tracked.outcome == f"all {listed} devices failed"
    finally:
        await desk.close()
