"""Open a journal from where it is: a path (sqlite) or a ``postgresql://`` URL (PostgreSQL).

The one place that chooses the backend, so ``listen``, ``export`` and follow mode can take
either. PostgreSQL's modules (and psycopg) are imported only when a URL is given: sqlite
users and the start-up path never load them.
"""

from __future__ import annotations

from pathlib import Path

from m2m_tui.tracking.journal_interface import (
    CallbackWriter,
    JournalStore,
    Location,
    is_postgres,
)
from m2m_tui.tracking.journal_schema import Synchronous
from m2m_tui.tracking.records import JournalError

_NO_DRIVER = (
    "a PostgreSQL journal needs the postgres extra: pip install 'm2m-tui[postgres]' "
    "(psycopg and psycopg-pool)"
)


def open_journal(
    location: Location, *, readonly: bool = False, check_same_thread: bool = True
) -> JournalStore:
    """The journal at ``location``, created or migrated as needed (checked when ``readonly``).

    ``check_same_thread`` concerns sqlite only (a PostgreSQL journal is thread-safe).
    """
    if is_postgres(location):
        try:
            from m2m_tui.tracking.journal_pg import PgJournal
        except ImportError as exc:
            raise JournalError(_NO_DRIVER) from exc
        return PgJournal(str(location), readonly=readonly)
    from m2m_tui.tracking.journal import Journal

    return Journal.open(Path(location), readonly=readonly, check_same_thread=check_same_thread)


def open_writer(
    location: Location,
    *,
    max_batch: int = 500,
    linger: float = 0.0,
    synchronous: Synchronous = "NORMAL",
) -> CallbackWriter:
    """A group-committing writer for ``location`` (not started: call ``start()``).

    ``synchronous`` concerns sqlite only; PostgreSQL commits with ``synchronous_commit`` on.
    """
    if is_postgres(location):
        try:
            from m2m_tui.tracking.journal_pg_writer import PgJournalWriter
        except ImportError as exc:
            raise JournalError(_NO_DRIVER) from exc
        return PgJournalWriter(str(location), max_batch=max_batch, linger=linger)
    from m2m_tui.tracking.journal_writer import JournalWriter

    return JournalWriter(
        Path(location), synchronous=synchronous, max_batch=max_batch, linger=linger
    )
