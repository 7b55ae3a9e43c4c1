"""The diagnostics reads (api/history.py) against the simulator over loopback HTTP: every call,
its paging, its errors, and the windows refused before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.credentials import ClientSettings
from m2m_tui.api.errors import ApiError, NotFoundError, RateLimited
from m2m_tui.api.history import DateRangeError, DiagnosticsReads, Window
from m2m_tui.api.models import DeviceId
from m2m_tui.api.retry import RetryPolicy
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.stories import STORY_BY_LETTER

from ..conftest import credentials_for

PRIMARY = "0000123456-00001"
SECONDARY = "0000654321-00001"


def story(letter: str) -> DeviceId:
    return DeviceId(id=STORY_BY_LETTER[letter].mdn, kind="mdn")


def calls_to(sim: RunningSimulator, fragment: str) -> int:
    return sum(n for key, n in sim.state.calls.items() if fragment in key)


@pytest.fixture
def reads(client: ThingSpaceClient) -> DiagnosticsReads:
    return DiagnosticsReads(client, unexpected_retry_delay=0.01)


def last(days: float) -> tuple[datetime, datetime]:
    now = datetime.now(UTC) + timedelta(minutes=1)
    return now - timedelta(days=days), now


async def test_connection_history_reads_sessions(reads: DiagnosticsReads) -> None:
    events = await reads.connection_history(story("C"), *last(30))
    assert events and events[0].event in ("Start", "Stop")
    stops = [e for e in events if e.event == "Stop"]
    assert stops and all((e.bytes_used or 0) > 0 for e in stops)
    times = [e.when for e in events]
    assert times == sorted(t for t in times if t is not None)


async def test_connection_history_follows_202_pages_without_duplicates(
    reads: DiagnosticsReads, sim: RunningSimulator
) -> None:
    window = last(30)
    whole = await reads.connection_history(story("G"), *window)
    pages = calls_to(sim, "listHistory")
    assert len(whole) > 1000 and pages >= 3  # 500 per page
    sim.config.diagnostics.history_page_size = 97
    small = await reads.connection_history(story("G"), *window)
    assert calls_to(sim, "listHistory") - pages > pages
    assert [e.identity() for e in small] == [e.identity() for e in whole]


async def test_provisioning_history_in_both_shapes(
    reads: DiagnosticsReads, sim: RunningSimulator
) -> None:
    events = await reads.provisioning_history(story("B"), *last(365))
    assert [(e.eventType, e.eventBy, e.kind) for e in events] == [
        ("Activation Confirmed", "UWS API", "activate"),
        ("Suspend", "jdoe", "suspend"),
    ]
    assert all(e.succeeded for e in events)
    sim.config.diagnostics.provisioning_bare_object = True
    again = await reads.provisioning_history(story("B"), *last(365))
    assert [e.identity() for e in again] == [e.identity() for e in events]


async def test_usage_history_matches_the_sessions(reads: DiagnosticsReads) -> None:
    window = last(30)
    usage = await reads.usage_history(story("C"), *window)
    events = await reads.connection_history(story("C"), *window)
    stops = sum(e.bytes_used or 0 for e in events if e.event == "Stop")
    assert sum(r.bytesUsed or 0 for r in usage) == stops
    assert all(r.mo_sms is not None for r in usage)


async def test_windows_are_refused_before_sending(
    reads: DiagnosticsReads, sim: RunningSimulator
) -> None:
    before = sum(sim.state.calls.values())
    now = datetime.now(UTC)
    with pytest.raises(DateRangeError):
        await reads.connection_history(story("A"), now, now - timedelta(days=1))
    with pytest.raises(DateRangeError):
        await reads.provisioning_history(story("A"), now, now)
    with pytest.raises(DateRangeError):
        await reads.connection_history(story("A"), datetime(2024, 5, 1), now)
    with pytest.raises(DateRangeError, match="12 months"):
        await reads.usage_history(story("A"), now - timedelta(days=400), now)
    assert sum(sim.state.calls.values()) == before
    assert Window.last(3).latest - Window.last(3).earliest >= timedelta(days=3) - timedelta(
        seconds=1
    )


async def test_unknown_device_is_not_found(reads: DiagnosticsReads) -> None:
    for call in (reads.connection_history, reads.provisioning_history, reads.usage_history):
        with pytest.raises(NotFoundError) as info:
            await call(DeviceId(id="5550000000", kind="mdn"), *last(30))
        assert info.value.code is not None and info.value.code.endswith("DeviceNotFound")


async def test_unexpected_error_is_resent_once(
    reads: DiagnosticsReads, sim: RunningSimulator
) -> None:
    sim.config.diagnostics.unexpected_error_once = True
    events = await reads.connection_history(story("A"), *last(7))
    assert events
    assert calls_to(sim, "listHistory") == 2


async def test_throttled_reads_are_retried(
    reads: DiagnosticsReads, client: ThingSpaceClient, sim: RunningSimulator
) -> None:
    client.retry = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
    sim.config.faults.rate_429 = 1.0
    sim.config.faults.retry_after = 0
    with pytest.raises(RateLimited):
        await reads.service_plans(PRIMARY)
    assert calls_to(sim, "/plans/") == 3  # the first try and two retries: reads are retried


async def test_service_plans_and_account(reads: DiagnosticsReads) -> None:
    plans = await reads.service_plans(PRIMARY)
    plan = plans.find("m2mplan4g")
    assert plan is not None and plan.sizeKb == 5120
    account = await reads.account_info(PRIMARY)
    assert account.accountName == PRIMARY and account.has_feature("static ip")
    assert [p.isDefaultPool for p in account.ipPools] == [True, False]
    with pytest.raises(NotFoundError) as info:
        await reads.service_plans("0000999999-00001")
    assert (info.value.code or "").endswith("AccountNotFound")


async def test_account_pools_under_either_key(
    reads: DiagnosticsReads, sim: RunningSimulator
) -> None:
    sim.config.diagnostics.pools_key = "ipPools"
    account = await reads.account_info(PRIMARY)
    assert len(account.ipPools) == 2


async def test_states_and_services_falls_back_to_the_doc_path(
    sim: RunningSimulator,
) -> None:
    """A gateway that knows only the singular path (the doc's) answers 404 on the SDK's."""
    inner = httpx.AsyncHTTPTransport()

    class OnlyDocPath(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/statesandservices"):
                return httpx.Response(404, json={"fault": {"code": "900906", "message": "x"}})
            return await inner.handle_async_request(request)

    client = ThingSpaceClient(
        credentials_for(sim.config),
        ClientSettings(base_url=sim.base_url),
        transport=OnlyDocPath(),
    )
    async with client:
        reads = DiagnosticsReads(client)
        states = await reads.states_and_services(PRIMARY)
    assert states.engagement and calls_to(sim, "stateandservices") == 1
    assert calls_to(sim, "statesandservices") == 0


async def test_states_and_services_not_enabled(reads: DiagnosticsReads) -> None:
    states = await reads.states_and_services(PRIMARY)
    assert states.state_for_plan("4d4090c0f2d48814c94d") is not None
    with pytest.raises(ApiError) as info:
        await reads.states_and_services(SECONDARY)
    assert (info.value.code or "").endswith("FeatureNotEnabled")


async def test_device_groups_and_paged_detail(
    reads: DiagnosticsReads, sim: RunningSimulator
) -> None:
    groups = await reads.device_groups(PRIMARY)
    assert [g.name for g in groups if g.isDefaultGroup] == [f"Default: {PRIMARY}"]
    sim.config.diagnostics.group_page_size = 2
    detail, devices = await reads.group_devices(PRIMARY, "Tank Monitors West", limit=20)
    assert detail.name == "Tank Monitors West" and len(devices) == 9
    assert calls_to(sim, "/name/") == 5
    _, capped = await reads.group_devices(PRIMARY, "Tank Monitors West", limit=3)
    assert len(capped) == 3
    with pytest.raises(NotFoundError):
        await reads.group_devices(PRIMARY, "No Such Group")


async def test_a_window_that_keeps_timing_out_is_halved(
    reads: DiagnosticsReads, sim: RunningSimulator
) -> None:
    window = last(30)
    whole = await reads.connection_history(story("C"), *window)
    sim.config.diagnostics.max_window_days = 8  # longer windows always time out
    halved = await reads.connection_history(story("C"), *window)
    assert [e.identity() for e in halved] == [e.identity() for e in whole]
    sim.config.diagnostics.max_window_days = 0.25  # even 12 hours is too long: give up
    with pytest.raises(ApiError) as info:
        await reads.connection_history(story("C"), *last(2))
    assert (info.value.code or "").endswith("UnexpectedError")
