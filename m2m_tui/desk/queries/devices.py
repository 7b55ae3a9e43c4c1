"""Recent devices: the lookups a user made, remembered in the journal and offered again.

The one journal write behind the desk's reads: a lookup is written through its own
read-write connection (opened on first use, creating the journal if needed), in a thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from m2m_tui.tracking.journal.interface import JournalStore, Location
    from m2m_tui.tracking.records import DeviceRow

T = TypeVar("T")


class RecentDevices:
    """Devices looked at, kept in the journal; every call runs in a thread."""

    def __init__(self, path: Location, *, create: bool = True) -> None:
        self.path = path
        #: False when following another process's journal: a mistyped path is not created.
        self.create = create
        self._journal: JournalStore | None = None
        self._lock = threading.Lock()
        #: Why the journal cannot be used (then lookups are not remembered); None when fine.
        self.broken: str | None = None
        #: Why the last use failed (a team's database down); None once it works again.
        self.unreachable: str | None = None
        #: The diagnosis last journaled per device row, merged into a later lookup's summary.
        self._diagnoses: dict[tuple[str, str, str], dict[str, Any]] = {}
        #: Device rows this session wrote: a diagnosis of another waits for its lookup's row.
        self._remembered: set[tuple[str, str, str]] = set()

    def _open(self) -> JournalStore | None:
        if self._journal is None and self.broken is None:
            # not on the UI's start-up path
            from m2m_tui.tracking.journal.interface import is_postgres
            from m2m_tui.tracking.journal.open import open_journal
            from m2m_tui.tracking.records import JournalError

            try:
                if self.create and not is_postgres(self.path):
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._journal = open_journal(self.path, check_same_thread=False, create=self.create)
            except (JournalError, OSError) as exc:
                if not is_postgres(self.path):  # a file stays broken; a database comes back
                    self.broken = str(exc)
                self.unreachable = str(exc)
        return self._journal

    def _use(self, use: Callable[[JournalStore], T], empty: T) -> T:
        """``use`` with the journal; ``empty`` when it cannot be had. A team's database that
        is down costs the lookup nothing but its memory: the next call tries again."""
        from m2m_tui.tracking.records import JournalError

        with self._lock:
            journal = self._open()
            if journal is None:
                return empty
            try:
                result = use(journal)
            except JournalError as exc:
                self.unreachable = str(exc)
                return empty
            self.unreachable = None
            return result

    def _remember(self, account: str, kind: str, value: str, label: str, summary: Any) -> None:
        key = (account, kind.lower(), value)
        kept = self._diagnoses.get(key)
        if kept is not None and isinstance(summary, dict | None):
            from m2m_tui.tracking.journal.diagnoses import DIAGNOSIS_KEY

            summary = {**(summary or {}), DIAGNOSIS_KEY: kept}  # the lookup must not drop it
        self._remembered.add(key)
        self._use(
            lambda j: j.add_device_lookup(account, kind, value, label=label, summary=summary),
            None,
        )

    def _diagnosed(self, account: str, kind: str, value: str, entry: dict[str, Any]) -> None:
        from m2m_tui.tracking.journal.diagnoses import record_diagnosis

        key = (account, kind.lower(), value)
        self._diagnoses[key] = entry
        if key not in self._remembered:
            # A first lookup: its row, written next, carries the diagnosis (one write, and
            # one wait, not two, when a team's database is down).
            return
        self._use(lambda j: record_diagnosis(j, account, kind, value, **entry), None)

    def _recent(self, limit: int) -> list[DeviceRow]:
        return self._use(lambda j: j.recent_devices(limit), [])

    async def remember(
        self, account: str | None, kind: str, value: str, label: str, summary: Any
    ) -> None:
        """Record a lookup (one row per device, refreshed each time)."""
        await asyncio.to_thread(self._remember, account or "", kind, value, label, summary)

    async def diagnosed(
        self, account: str | None, kind: str, value: str, entry: dict[str, Any]
    ) -> None:
        """Journal a device's diagnosis (``markdown``, ``rule``, ``identifiers``, ``at``) in
        its lookup's row, so ``m2m-tui export`` can add it to the requests about the device.

        Before the device's first :meth:`remember` of this session it is only kept: that
        lookup writes it with the row."""
        await asyncio.to_thread(self._diagnosed, account or "", kind, value, entry)

    async def recent(self, limit: int = 15) -> list[DeviceRow]:
        """The devices looked up, most recent first."""
        return await asyncio.to_thread(self._recent, limit)

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
