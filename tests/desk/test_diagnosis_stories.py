"""Each story device of the simulator (thingspace-diagnostics.md §10) gets the expected diagnosis,
headless, through device_picture (real HTTP to the simulator) and the rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.credentials import ClientSettings
from m2m_tui.api.history import DiagnosticsReads
from m2m_tui.api.models import DeviceId
from m2m_tui.desk.device_picture import DevicePicture, fetch_picture
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.stories import MOVED_FROM_IMEI, MOVED_TO_IMEI, STORY_BY_LETTER
from m2m_tui.sim.wellknown import DEMO_IMEI, PREACTIVE_IMEI

from ..conftest import credentials_for

PRIMARY = "0000123456-00001"


@pytest.fixture
async def reads(client: ThingSpaceClient) -> DiagnosticsReads:
    return DiagnosticsReads(client, unexpected_retry_delay=0.01)


async def picture_of(reads: DiagnosticsReads, letter: str) -> DevicePicture:
    mdn = STORY_BY_LETTER[letter].mdn
    picture = await fetch_picture(reads, PRIMARY, DeviceId(id=mdn, kind="mdn"))
    for section in (picture.device, picture.connections, picture.provisioning, picture.plans):
        assert section.ok, section.error_text
    return picture


async def test_story_a_healthy_is_no_conclusion_until_the_ticket_says_when(
    reads: DiagnosticsReads,
) -> None:
    picture = await picture_of(reads, "A")
    diagnosis = picture.diagnosis()
    assert diagnosis.headline is None
    assert diagnosis.line.startswith("No conclusion: the line is active and still carries data")
    report = datetime.now(UTC) - timedelta(days=4)
    with_ticket = picture.diagnosis(ticket_last_report=report)
    assert with_ticket.rule == "R11"
    assert "look at the customer's server/ingest" in with_ticket.line


async def test_story_b_suspended_by_another_user(reads: DiagnosticsReads) -> None:
    diagnosis = (await picture_of(reads, "B")).diagnosis()
    assert diagnosis.rule == "R2"
    assert diagnosis.line.startswith("Suspended by jdoe at ")
    assert "(6 days ago)" in diagnosis.line
    assert "auto-resume date: request suspension status" in diagnosis.line
    assert "Request suspension status" in diagnosis.next_step


async def test_story_c_active_not_attaching(reads: DiagnosticsReads) -> None:
    diagnosis = (await picture_of(reads, "C")).diagnosis()
    assert diagnosis.rule == "R7"
    assert "(12 days ago)" in diagnosis.line
    assert not diagnosis.secondary


async def test_story_d_attaches_without_data(reads: DiagnosticsReads) -> None:
    diagnosis = (await picture_of(reads, "D")).diagnosis()
    assert diagnosis.rule == "R7"  # as the reference's scenario D: R7 headline, R8 secondary
    assert [f.rule for f in diagnosis.secondary] == ["R8"]
    assert "10.77.4." in diagnosis.secondary[0].text


async def test_story_e_deactivated(reads: DiagnosticsReads) -> None:
    diagnosis = (await picture_of(reads, "E")).diagnosis()
    assert diagnosis.rule == "R1"
    assert diagnosis.line.startswith("Line deactivated by UWS API at ")
    assert "new activation" in diagnosis.line


async def test_story_f_sim_moved_to_another_imei(reads: DiagnosticsReads) -> None:
    picture = await picture_of(reads, "F")
    diagnosis = picture.diagnosis(ticket_imei=MOVED_FROM_IMEI)
    assert diagnosis.rule == "R6"
    assert MOVED_TO_IMEI in diagnosis.line
    assert any("changeIMEI" in e for e in diagnosis.headline.evidence)  # type: ignore[union-attr]
    assert picture.diagnosis().rule is None  # without the ticket's IMEI: no guess
    assert picture.diagnosis(ticket_imei=MOVED_TO_IMEI).rule is None


async def test_story_g_reconnect_loop(reads: DiagnosticsReads, sim: RunningSimulator) -> None:
    diagnosis = (await picture_of(reads, "G")).diagnosis()
    assert diagnosis.rule == "R9"
    assert "reconnect loop since" in diagnosis.line
    assert "R8" in [f.rule for f in diagnosis.secondary]
    assert sim.state.calls["POST /api/m2m/v1/devices/connections/actions/listHistory"] >= 3


async def test_story_h_open_session_without_traffic(reads: DiagnosticsReads) -> None:
    diagnosis = (await picture_of(reads, "H")).diagnosis()
    assert diagnosis.rule == "R10"
    assert "(8 days ago)" in diagnosis.line


async def test_story_i_stopped_after_a_plan_change(reads: DiagnosticsReads) -> None:
    picture = await picture_of(reads, "I")
    assert picture.plan is not None and picture.plan.code == "M2MLTEBASIC"
    diagnosis = picture.diagnosis()
    assert diagnosis.rule == "R5"
    assert diagnosis.line.startswith("Stopped right after Change Service Plan by mlee at ")
    assert "R7" in [f.rule for f in diagnosis.secondary]


async def test_unknown_device_and_preactive_line(reads: DiagnosticsReads) -> None:
    unknown = await fetch_picture(reads, PRIMARY, DeviceId(id="5550000000", kind="mdn"))
    assert unknown.diagnosis().rule == "R0"
    assert unknown.plans.ok  # one failing section does not stop the others
    preactive = await fetch_picture(reads, PRIMARY, DeviceId(id=PREACTIVE_IMEI, kind="imei"))
    assert preactive.diagnosis().rule == "R3"


async def test_suspending_through_the_sim_changes_the_diagnosis(
    reads: DiagnosticsReads, client: ThingSpaceClient, sim: RunningSimulator
) -> None:
    from m2m_tui.api.models import SuspendRequest

    device = DeviceId(id=DEMO_IMEI, kind="imei")
    await client.suspend(SuspendRequest.model_validate({"devices": [{"deviceIds": [device]}]}))
    await sim.state.drain()
    diagnosis = (await fetch_picture(reads, PRIMARY, device)).diagnosis()
    assert diagnosis.rule == "R2"
    assert diagnosis.line.startswith(f"Suspended by {sim.config.username} at ")
    assert "(0 min ago)" in diagnosis.line or "min ago" in diagnosis.line


class Recording(httpx.AsyncBaseTransport):
    """Passes calls to the simulator, recording how many were in flight at once and in what
    order they started and ended; optionally fails one path with a 500."""

    def __init__(self, fail: str | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.fail = fail
        self.in_flight = 0
        self.most = 0
        self.log: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.log.append(("start", path))
        try:
            if self.fail and self.fail in path:
                return httpx.Response(500, json={"errorCode": "x.REQUEST_FAILED.Boom"})
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1
            self.log.append(("end", path))


@pytest.fixture
async def recorded(sim: RunningSimulator) -> AsyncIterator[tuple[DiagnosticsReads, Recording]]:
    transport = Recording()
    client = ThingSpaceClient(
        credentials_for(sim.config), ClientSettings(base_url=sim.base_url), transport=transport
    )
    await client.login()
    sim.config.faults.latency = 0.2  # every call takes a while: overlaps become certain
    async with client:
        yield DiagnosticsReads(client), transport


async def test_sections_are_fetched_together_when_the_kind_is_certain(
    recorded: tuple[DiagnosticsReads, Recording],
) -> None:
    reads, transport = recorded
    landed: list[str] = []
    mdn = STORY_BY_LETTER["C"].mdn
    await fetch_picture(
        reads, PRIMARY, DeviceId(id=mdn, kind="mdn"), on_section=lambda s: landed.append(s.name)
    )
    assert transport.most == 5  # lookup, plans and the three histories all in flight at once
    assert sorted(landed) == ["connections", "device", "plans", "provisioning", "usage"]


async def test_histories_wait_for_the_lookup_when_the_kind_is_not_certain(
    recorded: tuple[DiagnosticsReads, Recording],
) -> None:
    reads, transport = recorded
    mdn = STORY_BY_LETTER["C"].mdn
    picture = await fetch_picture(reads, PRIMARY, DeviceId(id=mdn, kind="mdn"), kind_certain=False)
    assert picture.diagnosis().rule == "R7"
    lookup_end = transport.log.index(("end", "/api/m2m/v1/devices/actions/list"))
    history_starts = [
        i
        for i, (what, path) in enumerate(transport.log)
        if what == "start" and "history" in path.lower()
    ]
    assert history_starts and min(history_starts) > lookup_end


async def test_a_failing_section_leaves_the_others_and_the_diagnosis(
    sim: RunningSimulator,
) -> None:
    transport = Recording(fail="/devices/usage/")
    client = ThingSpaceClient(
        credentials_for(sim.config), ClientSettings(base_url=sim.base_url), transport=transport
    )
    async with client:
        client.retry = client.retry.__class__(attempts=0)
        reads = DiagnosticsReads(client)
        mdn = STORY_BY_LETTER["B"].mdn
        picture = await fetch_picture(reads, PRIMARY, DeviceId(id=mdn, kind="mdn"))
    assert picture.usage.error is not None and picture.usage.done
    assert picture.device.ok and picture.connections.ok and picture.provisioning.ok
    assert picture.diagnosis().rule == "R2"
