"""What runs beside the screens: the demo simulator, the callback listener, the journal.

Each is started inside the app's own event loop (after the first paint) and closed when the
app unmounts. Heavy imports (aiohttp, the simulator) happen here, lazily, never at start-up.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2m_tui.ui.widgets.bars import ListenerState

if TYPE_CHECKING:
    from m2m_tui.sim import RunningSimulator, SimConfig
    from m2m_tui.tracking.journal import Journal
    from m2m_tui.tracking.records import DeviceRow

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


class ListenerService:
    """The callback listener and its journal writer, as one start/stop unit."""

    def __init__(
        self,
        host: str,
        port: int,
        journal: Path,
        *,
        username: str | None = None,
        password: str | None = None,
        public_url: str | None = None,
        on_event: Callable[[Any], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.journal = journal
        self.username = username
        self.password = password
        self.public_url = public_url
        self.on_event = on_event
        self.events: deque[Any] = deque(maxlen=1000)
        self._listener: Any = None
        self._writer: Any = None
        self.error: str | None = None

    async def start(self) -> None:
        from pydantic import SecretStr

        from m2m_tui.tracking.journal_writer import JournalWriter
        from m2m_tui.tracking.listener import CallbackListener
        from m2m_tui.tracking.listener_config import ListenerConfig

        config = ListenerConfig(
            host=self.host,
            port=self.port,
            username=self.username,
            password=SecretStr(self.password) if self.password else None,
        )
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        writer = JournalWriter(self.journal)
        await asyncio.to_thread(writer.start)
        listener = CallbackListener(config, writer, on_event=self._event)
        try:
            await listener.start()
        except BaseException:
            await writer.aclose()
            raise
        self._writer, self._listener = writer, listener

    def _event(self, event: Any) -> None:
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    @property
    def url(self) -> str | None:
        return None if self._listener is None else str(self._listener.url)

    def state(self) -> ListenerState:
        if self._listener is None:
            return ListenerState("failed" if self.error else "starting", detail=self.error)
        status = self._listener.status()
        address = f"{self.host}:{self._listener.port}"
        return ListenerState(
            "listening" if status.running else "stopped",
            address=address,
            public_url=self.public_url or status.url,
            accepted=status.accepted,
            rejected=status.rejected,
        )

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        writer, self._writer = self._writer, None
        if listener is not None:
            await listener.stop()
        if writer is not None:
            await writer.aclose()


class DemoServices:
    """The simulator (and the listener) of ``--demo``, with callbacks registered."""

    def __init__(self, setup: DemoSetup) -> None:
        self.setup = setup
        self.sim: RunningSimulator | None = None
        self.listener: ListenerService | None = None
        self.ready = asyncio.Event()
        self.error: str | None = None

    @property
    def journal_path(self) -> Path:
        return self.setup.folder / "journal.sqlite3"

    async def start(self) -> None:
        from m2m_tui.sim import SimConfig, start_simulator

        config = self.setup.sim_config or SimConfig(processing_delay=1.5)
        try:
            self.setup.folder.mkdir(parents=True, exist_ok=True)
            self.sim = await start_simulator(config)
            if self.setup.listener:
                self.listener = ListenerService(
                    "127.0.0.1",
                    0,
                    self.journal_path,
                    username=DEMO_CALLBACK_USER,
                    password=DEMO_CALLBACK_PASSWORD,
                )
                try:
                    await self.listener.start()
                except Exception as exc:  # the demo still works without callbacks
                    self.listener.error = str(exc)
                    log.warning("demo listener failed: %s", exc)
                else:
                    self._register_callbacks()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.ready.set()

    def _register_callbacks(self) -> None:
        """Point the simulator's callbacks at our listener (as the demo profile would)."""
        from m2m_tui.sim.state import Registration

        assert self.sim is not None and self.listener is not None
        url = self.listener.url
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
        if self.listener is not None:
            await self.listener.close()
        if self.sim is not None:
            await self.sim.close()


@dataclass
class RecentDevices:
    """Devices looked at, kept in the journal; every call runs in a thread."""

    path: Path
    _journal: Journal | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    broken: str | None = None

    def _open(self) -> Journal | None:
        if self._journal is None and self.broken is None:
            from m2m_tui.tracking.journal import Journal
            from m2m_tui.tracking.records import JournalError

            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._journal = Journal.open(self.path, check_same_thread=False)
            except (JournalError, OSError) as exc:
                self.broken = str(exc)
        return self._journal

    def _remember(self, account: str, kind: str, value: str, label: str, summary: Any) -> None:
        with self._lock:
            journal = self._open()
            if journal is not None:
                journal.add_device_lookup(account, kind, value, label=label, summary=summary)

    def _recent(self, limit: int) -> list[DeviceRow]:
        with self._lock:
            journal = self._open()
            return [] if journal is None else journal.recent_devices(limit)

    async def remember(
        self, account: str | None, kind: str, value: str, label: str, summary: Any
    ) -> None:
        await asyncio.to_thread(self._remember, account or "", kind, value, label, summary)

    async def recent(self, limit: int = 15) -> list[DeviceRow]:
        return await asyncio.to_thread(self._recent, limit)

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
