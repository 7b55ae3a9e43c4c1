"""What runs beside the screens: the recent-devices journal (the demo is desk/demo.py).

Started inside the app's own event loop (after the first paint) and closed when the app
unmounts. Heavy imports happen here, lazily, never at start-up.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2m_tui.desk.demo import DemoSetup

if TYPE_CHECKING:
    from m2m_tui.tracking.journal import Journal
    from m2m_tui.tracking.records import DeviceRow

__all__ = ["DemoSetup", "RecentDevices"]


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
