"""One read-only connection to the journal, shared by every read the UI asks for.

The reads run in worker threads (never on the event loop), one at a time under a lock: a
read-only sqlite connection in WAL mode never blocks the tracker's or the listener's writes,
and keeping it open spares each page the cost of opening and checking the file again. A
team's journal (a ``postgresql://`` URL) is opened the same way, through
:func:`~m2m_tui.tracking.journal.open.open_journal`, as a small read-only pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from m2m_tui.tracking.journal.interface import JournalStore, Location

T = TypeVar("T")


class JournalReader:
    """Opens the journal lazily (it may not exist before the first request) and keeps it."""

    def __init__(self, path: Location) -> None:
        self.path = path
        self._journal: JournalStore | None = None
        self._lock = threading.Lock()
        self._closed = False

    def run(self, read: Callable[[JournalStore], T], empty: T) -> T:
        """Thread side: ``read`` with the shared connection; ``empty`` while no journal exists
        (and after :meth:`close`: a read finishing as the app exits opens nothing).

        Raises :class:`JournalError` (the connection is then dropped and reopened next time).
        """
        with self._lock:
            if self._journal is None:
                # not on the UI's start-up path
                from m2m_tui.tracking.journal.open import journal_missing, open_journal

                if self._closed or journal_missing(self.path):
                    return empty
                self._journal = open_journal(self.path, readonly=True, check_same_thread=False)
            try:
                return read(self._journal)
            except Exception:  # JournalError (damage found late): reopen next time
                self._drop()
                raise

    def _drop(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop()
