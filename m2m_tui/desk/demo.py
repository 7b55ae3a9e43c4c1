"""What ``--demo`` runs beside the screens: the simulator, and tracking with its callbacks
registered to our listener.

Started inside the front end's event loop (after the first paint) and closed with it. The
simulator is reached through its one public entry, :mod:`m2m_tui.sim.demo`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from m2m_tui.desk.tracking import DeskTracking
    from m2m_tui.sim import RunningSimulator, SimConfig
    from m2m_tui.tracking.records import DeviceRow
    from m2m_tui.tracking.service import TrackingSettings

log = logging.getLogger("m2m_tui.desk")

DEMO_CALLBACK_USER = "demo-callbacks"
DEMO_CALLBACK_PASSWORD = "demo-callback-secret"
DEMO_SERVICES = ("CarrierService", "DeviceSuspensionStatus")


@dataclass(frozen=True)
class DemoLogin:
    """What the demo profile logs in with: the simulator's own credentials (not secrets)."""

    base_url: str
    account: str
    app_key: str
    app_secret: str
    username: str
    password: str


def demo_account() -> str:
    """The demo's account, known before the simulator runs (for the first frame)."""
    from m2m_tui.sim.demo import PRIMARY_ACCOUNT

    return PRIMARY_ACCOUNT


@dataclass
class DemoSetup:
    """What ``--demo`` runs: a simulator config, a private folder, whether to listen."""

    folder: Path
    sim_config: SimConfig | None = None
    listener: bool = True
    sim_now: datetime | None = None


class DemoServices:
    """The simulator of ``--demo``; tracking whose listener its callbacks are pointed at."""

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

    async def start(self, tracking: DeskTracking) -> None:
        from m2m_tui.sim.demo import start_demo_simulator

        try:
            self.setup.folder.mkdir(parents=True, exist_ok=True)
            self.sim = await start_demo_simulator(self.setup.sim_config)
            try:
                await tracking.start()
            except Exception as exc:  # the demo still works without tracking
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
        from m2m_tui.sim.demo import point_callbacks

        if self.sim is None or url is None:
            return
        point_callbacks(self.sim, url, DEMO_CALLBACK_USER, DEMO_CALLBACK_PASSWORD, DEMO_SERVICES)

    def login(self) -> DemoLogin:
        """The credentials the demo simulator accepts (its defaults when not started yet)."""
        from m2m_tui.sim.demo import PRIMARY_ACCOUNT, SimConfig

        config = self.setup.sim_config or SimConfig()
        return DemoLogin(
            base_url=self.sim.base_url if self.sim is not None else "http://127.0.0.1",
            account=config.primary_account or PRIMARY_ACCOUNT,
            app_key=config.app_key,
            app_secret=config.app_secret,
            username=config.username,
            password=config.password,
        )

    async def close(self) -> None:
        if self.sim is not None:
            await self.sim.close()


def demo_device_rows() -> list[DeviceRow]:
    """Rows shaped like recent devices, so a first-time demo user has something to open."""
    import json

    from m2m_tui.sim.demo import demo_devices
    from m2m_tui.tracking.records import DeviceRow

    return [
        DeviceRow("", kind, value, None, json.dumps({"state": state}), 0.0, 0)
        for kind, value, state in demo_devices()
    ]
