"""The simulator as ``m2m-tui --demo`` runs it: the one public entry the desk wires.

The demo needs three things from the simulator and nothing else: start it with demo clocks,
point an account's callbacks at our listener (as a demo profile's registration would), and
the fixed devices offered to a first-time user.
"""

from __future__ import annotations

from collections.abc import Iterable

from m2m_tui.sim.config import PRIMARY_ACCOUNT, SimConfig
from m2m_tui.sim.server import RunningSimulator, start_simulator
from m2m_tui.sim.state import Registration
from m2m_tui.sim.wellknown import WELL_KNOWN_DEVICES

__all__ = [
    "DEMO_PICKS",
    "PRIMARY_ACCOUNT",
    "SimConfig",
    "demo_devices",
    "point_callbacks",
    "start_demo_simulator",
]

#: The simulator's fixed devices offered on a fresh demo, each by a different identifier kind
#: so the first lookups also show the kind being recognised.
DEMO_PICKS = (
    ("demo-active", "imei"),
    ("demo-suspended", "mdn"),
    ("demo-preactive", "iccid"),
    ("demo-esn", "esn"),
    ("demo-meid", "meid"),
    ("demo-euicc", "eid"),
    ("demo-deactive", "mdn"),
)


async def start_demo_simulator(config: SimConfig | None = None) -> RunningSimulator:
    """The demo's simulator. By default the status turns final 1.5 s after a request and its
    CarrierService callback 3 s later: a single-device action is seen finishing by poll."""
    return await start_simulator(
        config or SimConfig(processing_delay=1.5, carrier_callback_delay=3.0)
    )


def point_callbacks(
    sim: RunningSimulator, url: str, username: str, password: str, services: Iterable[str]
) -> None:
    """Register ``url`` (plus ``/cb/<service>``) for every account and service."""
    for account in sim.config.accounts:
        for service in services:
            sim.state.registrations[(account.name, service)] = Registration(
                account.name,
                service,
                url.rstrip("/") + "/cb/" + service.lower(),
                username,
                password,
            )


def demo_devices() -> list[tuple[str, str, str | None]]:
    """(kind, identifier, line state) of each device in :data:`DEMO_PICKS`."""
    by_label = {device.label: device for device in WELL_KNOWN_DEVICES}
    picks: list[tuple[str, str, str | None]] = []
    for label, kind in DEMO_PICKS:
        device = by_label[label]
        value = next(v for k, v in device.ids if k.value == kind)
        picks.append((kind, value, device.state))
    return picks
