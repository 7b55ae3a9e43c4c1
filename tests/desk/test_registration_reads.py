"""The registration view's read, headless, against the simulator over loopback: what the
account has registered, which of it reaches our listener, and no pydantic model kept."""

from __future__ import annotations

import dataclasses

import pytest

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.desk.queries.registration import WANTED, read_registrations
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.state import Registration

OUR_URL = "https://tui.example.net:8443/cb"
CUSTOMER_URL = "https://hooks.customer.example/thingspace"


async def test_registrations_say_which_service_reaches_us(
    sim: RunningSimulator, client: ThingSpaceClient
) -> None:
    account = sim.config.primary_account
    sim.state.registrations[(account, "CarrierService")] = Registration(
        account, "CarrierService", CUSTOMER_URL, "cust-user", "cust-pass"
    )
    sim.state.registrations[(account, "DeviceSuspensionStatus")] = Registration(
        account, "DeviceSuspensionStatus", OUR_URL + "/devicesuspensionstatus", "tui", "pw"
    )
    sim.state.registrations[(account, "DeviceUsage")] = Registration(
        account, "DeviceUsage", CUSTOMER_URL + "/usage", None, None
    )

    found = await read_registrations(client, account, OUR_URL)

    assert found.names() == [*WANTED, "DeviceUsage"]
    assert found.reaches_us("DeviceSuspensionStatus")
    assert not found.reaches_us("CarrierService")  # a customer's listener, not ours
    carrier = found.get("CarrierService")
    assert carrier is not None and carrier.url == CUSTOMER_URL
    assert carrier.username == "cust-user"
    assert carrier.password is not None and carrier.password.get_secret_value() == "cust-pass"
    assert "cust-pass" not in repr(carrier)  # kept for putting it back, never shown
    with pytest.raises(dataclasses.FrozenInstanceError):
        carrier.url = OUR_URL  # type: ignore[misc]


async def test_nothing_registered_or_no_url_of_ours_reaches_nobody(
    sim: RunningSimulator, client: ThingSpaceClient
) -> None:
    account = sim.config.primary_account
    sim.state.registrations.clear()
    found = await read_registrations(client, account, OUR_URL)
    assert found.services == () and found.get("CarrierService") is None
    assert not found.reaches_us("CarrierService")
    assert found.names() == list(WANTED)

    sim.state.registrations[(account, "CarrierService")] = Registration(
        account, "CarrierService", OUR_URL, None, None
    )
    without_ours = await read_registrations(client, account, None)
    assert not without_ours.reaches_us("CarrierService")
