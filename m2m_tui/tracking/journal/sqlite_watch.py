"""Noticing that a journal's path no longer leads to the file a writer has open, and recovering.

A deleted sqlite file stays usable through the connections that have it open: the listener
would go on answering 200 into an unlinked file, and after a restart none of those callbacks
would exist (ThingSpace does not resend after a 2xx). So the writer compares, before each
batch, the device and inode of the path (and of its ``-wal``/``-shm``) with the ones it
opened: three ``stat`` calls per group commit, nothing per callback.

When the file is gone, its rows (everything the open connection sees, WAL included) are copied
with sqlite's backup API into a new private file next to it, which is then linked in at the
path: no acknowledged callback is lost. When only the ``-wal``/``-shm`` went, the WAL is
checkpointed into the (still linked) main file first. When another file was put at the path,
that file is opened instead (it is the one readers now see).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.journal.sqlite_schema import create_private

log = logging.getLogger(__name__)

MISSING = "the journal file was deleted while in use"
REPLACED = "the journal file was replaced by another file while in use"
_SIDE = "its {} file was deleted or replaced while in use"
SIDES = ("-wal", "-shm")

FileId = tuple[int, int]


def identity(path: Path | str) -> FileId | None:
    """(device, inode) of the file at ``path``; None when there is none (or it cannot be seen)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class FileWatch:
    """The identities of a journal and its side files as opened, and a cheap comparison."""

    __slots__ = ("_main", "_path", "_sides")

    def __init__(self, path: Path) -> None:
        self._path = path
        self._main = identity(path)
        self._sides: dict[str, FileId | None] = {s: identity(f"{path}{s}") for s in SIDES}

    def _compare(self, learn: bool) -> str | None:
        now = identity(self._path)
        if now != self._main:
            return MISSING if now is None else REPLACED
        for suffix, known in self._sides.items():
            current = identity(f"{self._path}{suffix}")
            if known is None:
                if learn and current is not None:  # sqlite created it after we looked
                    self._sides[suffix] = current
            elif current != known:
                return _SIDE.format(suffix)
        return None

    def changed(self) -> str | None:
        """What happened to the files since they were opened (None: nothing). Writer thread."""
        return self._compare(learn=True)

    def peek(self) -> str | None:
        """The same, without learning side files: safe from another thread (``/healthz``)."""
        return self._compare(learn=False)


def _rescue(conn: sqlite3.Connection, path: Path, group_readable: bool) -> None:
    """Copy what ``conn`` sees into a new file at ``path`` (which must not exist)."""
    spare = path.with_name(f".{path.name}.rescue-{os.getpid()}")
    spare.unlink(missing_ok=True)
    create_private(spare, group_readable=group_readable)
    try:
        target = sqlite3.connect(spare, isolation_level=None)
        try:
            conn.backup(target)
        finally:
            target.close()
        try:
            os.link(spare, path)  # never over a file that appeared meanwhile
        except FileExistsError:
            log.error("journal %s reappeared; the rows of the deleted one are in %s", path, spare)
            return
        spare.unlink()
    except BaseException:
        if spare.exists() and identity(path) is not None:
            spare.unlink(missing_ok=True)
        raise


def release(change: str, journal: Journal, path: Path, *, group_readable: bool) -> None:
    """Save what the open ``journal`` holds where readers will find it, then close it.

    Raises (OSError, sqlite3.Error) with ``journal`` still open when that cannot be done yet
    (the folder is gone, the disk is full): it is then the only copy of those rows.
    """
    conn = journal.connection
    if change == MISSING:
        _rescue(conn, path, group_readable)
    elif change != REPLACED:  # a side file went: put the WAL's rows into the main file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    journal.close()
