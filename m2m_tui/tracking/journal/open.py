"""Open a journal from where it is: a path (sqlite) or a ``postgresql://`` URL (PostgreSQL).

The one place that chooses the backend, so ``listen``, ``export`` and follow mode can take
either. PostgreSQL's modules (and psycopg) are imported only when a URL is given: sqlite
users and the start-up path never load them.
"""

from __future__ import annotations

from pathlib import Path

from m2m_tui.tracking.journal.callbacks import REJECTION_SAMPLES
from m2m_tui.tracking.journal.interface import (
    CallbackWriter,
    JournalStore,
    Location,
    is_postgres,
)
from m2m_tui.tracking.journal.sqlite_schema import Synchronous
from m2m_tui.tracking.records import JournalError

_NO_DRIVER = (
    "a PostgreSQL journal needs the postgres extra: pip install 'm2m-tui[postgres]' "
    "(psycopg and psycopg-pool)"
)


def open_journal(
    location: Location,
    *,
    readonly: bool = False,
    check_same_thread: bool = True,
    create: bool = True,
) -> JournalStore:
    """The journal at ``location``, created or migrated as needed (checked when ``readonly``).

    ``check_same_thread`` and ``create`` (False: a missing file is an error, not a new empty
    journal) concern sqlite only: a PostgreSQL journal is thread-safe, and a mistyped URL
    fails to connect rather than creating anything.
    """
    if is_postgres(location):
        try:
            from m2m_tui.tracking.journal.pg import PgJournal
        except ImportError as exc:
            raise JournalError(_NO_DRIVER) from exc
        return PgJournal(str(location), readonly=readonly)
    from m2m_tui.tracking.journal.sqlite import Journal

    return Journal.open(
        Path(location), readonly=readonly, check_same_thread=check_same_thread, create=create
    )


def journal_missing(location: Location) -> bool:
    """True when ``location`` is a path with no file behind it (a URL is never "missing":
    whether its database answers is for opening to say)."""
    return not is_postgres(location) and not Path(location).exists()


def open_writer(
    location: Location,
    *,
    max_batch: int = 500,
    linger: float = 0.0,
    synchronous: Synchronous = "NORMAL",
    keep_rejections: int | None = REJECTION_SAMPLES,
    group_readable: bool = False,
) -> CallbackWriter:
    """A group-committing writer for ``location`` (not started: call ``start()``).

    ``synchronous`` and ``group_readable`` (a new file 0640) concern sqlite only; PostgreSQL
    commits with ``synchronous_commit`` on and its access is the database's grants.
    ``keep_rejections``: refused bodies kept per reason (None: all; all are counted).
    """
    if is_postgres(location):
        try:
            from m2m_tui.tracking.journal.pg_writer import PgJournalWriter
        except ImportError as exc:
            raise JournalError(_NO_DRIVER) from exc
        return PgJournalWriter(
            str(location), max_batch=max_batch, linger=linger, keep_rejections=keep_rejections
        )
    from m2m_tui.tracking.journal.sqlite_writer import JournalWriter

    return JournalWriter(
        Path(location),
        synchronous=synchronous,
        max_batch=max_batch,
        linger=linger,
        keep_rejections=keep_rejections,
        group_readable=group_readable,
    )
