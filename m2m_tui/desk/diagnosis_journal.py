"""Each diagnosis the card computes goes into the journal, beside the device's lookup.

The request detail's summary reads the in-memory shelf; ``m2m-tui export`` runs in another
process and has only the journal, so every picture shelved has its diagnosis written there
(in a thread, off the event loop: the card never waits for it).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from m2m_tui.desk.picture_shelf import ShelvedPicture
    from m2m_tui.desk.queries.devices import RecentDevices


def diagnosis_entry(shelved: ShelvedPicture) -> dict[str, Any]:
    """What is journaled: the diagnosis's markdown and rule, when, and the device's ids."""
    return {
        "markdown": shelved.diagnosis.markdown(),
        "rule": shelved.diagnosis.rule,
        "identifiers": sorted(shelved.identity),
        "at": shelved.picture.now.timestamp(),
    }


class DiagnosisJournal:
    """Writes shelved diagnoses through ``recent`` (the lookups' journal connection)."""

    def __init__(self, recent: RecentDevices) -> None:
        self.recent = recent
        self._pending: set[asyncio.Task[None]] = set()

    def kept(self, shelved: ShelvedPicture) -> None:
        """A picture was shelved: journal its diagnosis (a device not found has no row)."""
        device = shelved.picture.device.value
        if device is None:
            return
        typed = shelved.picture.identifier
        account = device.accountName or shelved.picture.account
        write = self.recent.diagnosed(account, typed.kind.value, typed.id, diagnosis_entry(shelved))
        task = asyncio.get_running_loop().create_task(write)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        """Wait for the diagnoses still being written (closing, or a test)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
