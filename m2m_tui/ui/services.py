"""What runs beside the screens: the demo simulator (recent devices are the desk's).

It is started inside the app's own event loop (after the first paint) and closed when the
app unmounts. Heavy imports (aiohttp, the simulator) happen here, lazily, never at start-up.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from m2m_tui.sim import RunningSimulator, SimConfig
    from m2m_tui.tracking.records import DeviceRow
    from m2m_tui.tracking.service import TrackingSettings
    from m2m_tui.ui.tracking_link import TrackingLink

log = logging.getLogger("m2m_tui.ui")

DEMO_CALLBACK_USER = "demo-callbacks"
DEMO_CALLBACK_PASSWORD = "demo-callback-secret"
DEMO_SERVICES = ("CarrierService", "DeviceSuspensionStatus")


@dataclass
class DemoSetup:
    """What ``--demo`` runs: a simulator config, a private folder, whether to listen."""

    folder: Path
    sim_config: SimConfig | None = None
    listener: bool = True
    sim_now: datetime | None = None


class DemoServices:
    """The simulator of ``--demo``, and tracking with its callbacks registered to our listener."""

    def __init__(self, setup: DemoSetup) -> None:
        self.setup = setup
        self.sim: RunningSimulator | None = None
        self.ready = asyncio.Event()
        self.error: str | None = None

    @property
    def journal_path(self) -> Path:
        return self.setup.folder / "journal.sqlite3"

    def tracking_settings(self) -> TrackingSettings:
        """A listener on a free loopback port with the demo's callback credentials."""
        from pydantic import SecretStr

        from m2m_tui.tracking.listener_config import ListenerConfig
        from m2m_tui.tracking.service import TrackingSettings

        listener = (
            ListenerConfig(
                host="127.0.0.1",
                port=0,
                username=DEMO_CALLBACK_USER,
                password=SecretStr(DEMO_CALLBACK_PASSWORD),
            )
            if self.setup.listener
            else None
        )
        return TrackingSettings(journal_path=self.journal_path, listener=listener, profile="demo")

    async def start(self, tracking: TrackingLink) -> None:
        from m2m_tui.sim import SimConfig, start_simulator

        # The status turns final 1.5 s after a request, its CarrierService callback 3 s later:
        # a single-device action can then be seen finishing by poll, as it often does live.
        config = self.setup.sim_config or SimConfig(
            processing_delay=1.5, carrier_callback_delay=3.0
        )
        try:
            self.setup.folder.mkdir(parents=True, exist_ok=True)
            self.sim = await start_simulator(config)
            try:
                await tracking.start()
            except Exception as exc:  # the demo still works without callbacks
                log.warning("demo tracking failed: %s", exc)
            else:
                self._register_callbacks(tracking.listener_url)
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.ready.set()

    def _register_callbacks(self, url: str | None) -> None:
        """Point the simulator's callbacks at our listener (as the demo profile would)."""
        from m2m_tui.sim.state import Registration

        assert self.sim is not None
        if url is None:
            return
        for account in self.sim.config.accounts:
            for service in DEMO_SERVICES:
                self.sim.state.registrations[(account.name, service)] = Registration(
                    account.name,
                    service,
                    url.rstrip("/") + "/cb/" + service.lower(),
                    DEMO_CALLBACK_USER,
                    DEMO_CALLBACK_PASSWORD,
                )

    async def close(self) -> None:
        if self.sim is not None:
            await self.sim.close()


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


def demo_device_rows() -> list[DeviceRow]:
    """Rows shaped like recent devices, so a first-time demo user has something to open."""
    import json

    from m2m_tui.sim.wellknown import WELL_KNOWN_DEVICES
    from m2m_tui.tracking.records import DeviceRow

    by_label = {device.label: device for device in WELL_KNOWN_DEVICES}
    rows: list[DeviceRow] = []
    for label, kind in DEMO_PICKS:
        device = by_label[label]
        value = next(v for k, v in device.ids if k.value == kind)
        summary = json.dumps({"state": device.state})
        rows.append(DeviceRow("", kind, value, None, summary, 0.0, 0))
    return rows
