"""Case 3: a request that can only finish by callback, when no callback can arrive.

Before, suspension status and every filter action were accepted silently with the listener
off or failed, then waited 24 minutes for nothing. Now the desk warns (the front end turns the
warning into a confirm) with the reason and what to do, and sends nothing unless accepted.
"""

from __future__ import annotations

from pathlib import Path

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.desk.actions import (
    ActionParams,
    DeviceTarget,
    FilterTarget,
    RequestAction,
    Submitted,
)
from m2m_tui.desk.policy import Allowed, Refused, Warned
from m2m_tui.desk.requests import RequestDesk
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.wellknown import SUSPENDED_MDN
from m2m_tui.tracking.records import RequestState

from ..waiting import eventually
from .desk_helpers import ACCOUNT, port_taken, register, settings

STATUS = RequestAction.SUSPENSION_STATUS
DEVICE = DeviceTarget(ACCOUNT, "mdn", SUSPENDED_MDN)
FIELD_UNITS = FilterTarget(ACCOUNT, group="Field units")


async def test_listener_off_status_and_filter_suspend_are_warned_with_the_reason(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    desk = RequestDesk(journal, client=client, account=ACCOUNT)
    await desk.start_tracking(settings(journal, None))  # the profile names no listener
    try:
        for action, target in ((STATUS, DEVICE), (RequestAction.SUSPEND, FIELD_UNITS)):
            verdict = desk.can(action, target)
            assert isinstance(verdict, Warned)
            assert "finishes only by callback" in verdict.reason
            assert "listener is off" in verdict.reason and "m2m-tui listen" in verdict.reason
            # Not confirmed: nothing is sent.
            refused = await desk.submit(action, target)
            assert isinstance(refused, Refused) and refused.reason == verdict.reason
        assert not sim.state.requests
        # The confirm shows the warning among the consequences.
        lines = desk.consequences(STATUS, DEVICE, params=ActionParams())
        assert any(line.startswith("WARNING: ") for line in lines)
        # How it is followed says no callback can come, and why (not a bare "only by callback").
        assert (
            "Results arrive only by the DeviceSuspensionStatus callback (no polling), and no "
            "callback can reach us: the callback listener is off" in lines[-2]
        )
        suspend = desk.consequences(RequestAction.SUSPEND, DEVICE, params=ActionParams())
        assert suspend[-1].startswith("Tracked by polling only (no callback can reach us: ")
        # Confirmed anyway: sent, and the notice says it cannot finish here.
        sent = await desk.submit(STATUS, DEVICE, accept_warning=True)
        assert isinstance(sent, Submitted)
        assert sent.how.startswith("callback only, and no callback can arrive")
        # A pollable suspend needs no callback: allowed as is.
        assert isinstance(desk.can(RequestAction.SUSPEND, DEVICE), Allowed)
    finally:
        await desk.close()


async def test_listener_failed_says_so(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    with port_taken() as port:
        desk = RequestDesk(journal, client=client, account=ACCOUNT)
        await desk.start_tracking(settings(journal, port))
        try:
            verdict = desk.can(STATUS, DEVICE)
            assert isinstance(verdict, Warned)
            assert "failed to start" in verdict.reason and str(port) in verdict.reason
        finally:
            await desk.close()


async def test_listener_up_status_is_allowed_and_finishes_by_callback(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    desk = RequestDesk(journal, client=client, account=ACCOUNT)
    tracking = await desk.start_tracking(settings(journal, 0))
    try:
        assert tracking.listening and tracking.listener_url is not None
        assert isinstance(desk.can(STATUS, DEVICE), Allowed)
        assert isinstance(desk.can(RequestAction.SUSPEND, FIELD_UNITS), Allowed)
        await register(client, tracking.listener_url + "cb")
        outcome = await desk.submit(STATUS, DEVICE)
        assert isinstance(outcome, Submitted) and outcome.how == "callback only"
        assert tracking.tracker is not None
        tracked = tracking.tracker.get(outcome.request.request_id)
        assert tracked is not None
        await eventually(lambda: tracked.finished)
        assert tracked.state is RequestState.COMPLETED
    finally:
        await desk.close()


async def test_registration_known_to_point_elsewhere_is_warned(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    desk = RequestDesk(journal, client=client, account=ACCOUNT)
    tracking = await desk.start_tracking(settings(journal, 0))
    try:
        assert tracking.listener_url is not None
        desk.registrations_seen(
            ACCOUNT,
            {
                "DeviceSuspensionStatus": "https://customer.example/prod-hook",
                "CarrierService": tracking.listener_url + "cb/carrierservice",
            },
        )
        verdict = desk.can(STATUS, DEVICE)
        assert isinstance(verdict, Warned)
        assert "https://customer.example/prod-hook" in verdict.reason
        assert "Register our URL" in verdict.reason
        # CarrierService does point at us: a filter suspend is fine.
        assert isinstance(desk.can(RequestAction.SUSPEND, FIELD_UNITS), Allowed)
        # A list that does not name the service: nothing is registered for it.
        desk.registrations_seen(ACCOUNT, {"CarrierService": tracking.listener_url})
        verdict = desk.can(STATUS, DEVICE)
        assert isinstance(verdict, Warned)
        assert "no DeviceSuspensionStatus callback URL is registered" in verdict.reason
        # The confirm of a device suspend then promises no callback it cannot get.
        desk.registrations_seen(ACCOUNT, {"CarrierService": "https://customer.example/x"})
        line = desk.consequences(RequestAction.SUSPEND, DEVICE, params=ActionParams())[-1]
        assert line == (
            "Tracked by polling only (no CarrierService callback will reach us: the account's "
            "CarrierService callbacks go to https://customer.example/x, not to this app)."
        )
        # And the notice of the accepted request says so too (not "polling + callback").
        sent = await desk.submit(RequestAction.SUSPEND, DEVICE)
        assert isinstance(sent, Submitted)
        assert sent.how == (
            "polling (no callback can arrive: the account's CarrierService callbacks go to "
            "https://customer.example/x, not to this app)"
        )
    finally:
        await desk.close()
