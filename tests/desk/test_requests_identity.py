"""Case 7: requests are matched to devices by identity, not by the label they were typed with.

Before, a suspend made on the MDN was not shown on the same device's card when the device was
found by its IMEI (the card compared ``"MDN 5551234567" != "IMEI 359876543210987"``).
"""

from __future__ import annotations

from pathlib import Path

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.models import DeviceId
from m2m_tui.desk.actions import DeviceTarget, RequestAction, Submitted, device_target
from m2m_tui.desk.requests import RequestDesk
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.wellknown import DEMO_ICCID, DEMO_IMEI, DEMO_MDN, SUSPENDED_IMEI

from .desk_helpers import ACCOUNT, settings


async def found_by(client: ThingSpaceClient, kind: str, value: str) -> DeviceTarget:
    """Look the device up as the card does, and keep every identifier the answer carries."""
    device = await client.get_device(ACCOUNT, DeviceId(id=value, kind=kind))
    return device_target(device, kind, value, ACCOUNT)


async def test_a_suspend_made_on_the_mdn_is_listed_on_the_device_found_by_imei(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    desk = RequestDesk(journal, client=client, account=ACCOUNT)
    await desk.start_tracking(settings(journal, None))
    try:
        by_mdn = await found_by(client, "mdn", DEMO_MDN)
        outcome = await desk.submit(RequestAction.SUSPEND, by_mdn)
        assert isinstance(outcome, Submitted)

        # Later the engineer finds the same device by its IMEI (or ICCID).
        by_imei = await found_by(client, "imei", DEMO_IMEI)
        assert by_imei.description == f"IMEI {DEMO_IMEI}"  # another label...
        assert desk.requests_about(by_imei) == [outcome.request]  # ...the same device
        assert desk.requests_about(await found_by(client, "iccid", DEMO_ICCID)) == [outcome.request]
        assert outcome.request.concerns(by_imei.identity)
        # It counts against that line's daily limit whichever identifier is used.
        assert desk.actions_today(by_imei) == 1

        # Another device does not list it.
        other = await found_by(client, "imei", SUSPENDED_IMEI)
        assert desk.requests_about(other) == []
        assert desk.actions_today(other) == 0
    finally:
        await desk.close()


def test_a_typed_identifier_alone_still_matches_itself() -> None:
    """Without the device list answer, the identifier typed is the identity."""
    typed = DeviceTarget(ACCOUNT, "MDN", f" {DEMO_MDN}")
    assert typed.identity == frozenset({f"mdn:{DEMO_MDN}"})
    # known_ids never change what a target is equal to (the card compares targets).
    assert typed == DeviceTarget(ACCOUNT, "MDN", f" {DEMO_MDN}", known_ids=(("imei", "1"),))
