"""The journal's tables, its migrations, and the checks made before a file is touched.

A journal is an sqlite file in WAL mode marked as ours twice: ``PRAGMA application_id`` in the
file header and a ``meta`` row. Anything else (another program's database, a damaged or
non-sqlite file) is refused with a :class:`JournalError` naming the path, and the file is left
byte-for-byte as it was: it is inspected through a read-only connection before any writing
connection is opened.

The file is created private (0600, or 0640 when a team asks for it): it holds account numbers
and device identifiers; sqlite gives the ``-wal`` and ``-shm`` the same mode. An existing
journal that others can read is tightened when opened for writing. Creating is safe against a
concurrent creator: the file is created with ``O_EXCL``, inspected in one read transaction, and
migrated under the write lock.

A reader that cannot create the ``-shm`` sqlite needs (a read-only mount, another user's
folder) opens a journal without a ``-wal`` as immutable, and otherwise is told what is wrong
(permissions, unfinished writes), never "damaged".

``PRAGMA user_version`` is the schema version. ``MIGRATIONS[n]`` brings version ``n`` to
``n + 1``; a new file is simply migrated from version 0, so creating and upgrading are one
code path, run in one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Literal

from m2m_tui.tracking.journal.dialect import describe_change
from m2m_tui.tracking.records import JournalError

log = logging.getLogger(__name__)

APPLICATION_ID = 0x4D324D54  # "M2MT"
MAGIC = "m2m-tui journal"

Synchronous = Literal["NORMAL", "FULL"]

# Version 1: the first layout (requests, callbacks, rejections, polls).
_V1 = (
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE requests (
        request_id TEXT PRIMARY KEY,
        action TEXT NOT NULL,
        account TEXT NOT NULL,
        target TEXT NOT NULL,
        expected_results INTEGER,
        pollable INTEGER NOT NULL DEFAULT 0,
        submitted_at REAL NOT NULL,
        state TEXT NOT NULL,
        completed_by TEXT,
        deadline REAL NOT NULL,
        updated_at REAL NOT NULL,
        last_error_code TEXT,
        last_error_message TEXT
    )""",
    "CREATE INDEX requests_by_time ON requests (submitted_at DESC)",
    "CREATE INDEX requests_by_state ON requests (state, submitted_at DESC)",
    """CREATE TABLE callbacks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at REAL NOT NULL,
        request_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        device_key TEXT,
        body TEXT NOT NULL,
        body_hash TEXT NOT NULL,
        callback_count INTEGER,
        duplicate INTEGER NOT NULL DEFAULT 0,
        verdict TEXT NOT NULL,
        source TEXT
    )""",
    "CREATE INDEX callbacks_by_request ON callbacks (request_id, id)",
    "CREATE INDEX callbacks_dedup ON callbacks (request_id, body_hash)",
    """CREATE TABLE rejections (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at REAL NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        source TEXT,
        excerpt TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE polls (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL,
        polled_at REAL NOT NULL,
        status TEXT NOT NULL,
        changed INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX polls_by_request ON polls (request_id, id)",
)

# Version 2: the profile a request was made under, devices looked up, callbacks by time.
_V2 = (
    "ALTER TABLE requests ADD COLUMN profile TEXT",
    """CREATE TABLE devices (
        account TEXT NOT NULL,
        kind TEXT NOT NULL,
        device_id TEXT NOT NULL,
        label TEXT,
        summary TEXT,
        looked_up_at REAL NOT NULL,
        lookups INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (account, kind, device_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX devices_by_time ON devices (looked_up_at DESC)",
    "CREATE INDEX callbacks_by_time ON callbacks (received_at)",
)

# Version 3: who submitted a request (``user@host``), and an index for "mine".
_V3 = (
    "ALTER TABLE requests ADD COLUMN submitted_by TEXT",
    "CREATE INDEX requests_by_submitter ON requests (submitted_by, submitted_at DESC)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)


def _uri(path: Path, mode: str) -> str:
    return f"{path.resolve().as_uri()}?mode={mode}"


#: sqlite's primary result codes for "cannot open" and "read-only" (extended codes share them).
_CANTOPEN, _READONLY, _NOTADB = 14, 8, 26
_IMMUTABLE = "ro&immutable=1"


def create_private(path: Path, *, group_readable: bool = False) -> bool:
    """Create ``path`` empty, readable by its owner only (and its group when asked).

    ``O_EXCL``: of two processes creating a journal at once, one creates the file and the
    other finds it; returns whether this call created it.
    """
    mode = 0o640 if group_readable else 0o600
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def tighten(path: Path, *, group_readable: bool = False) -> None:
    """Take access away from others on a journal and its side files, and give its group read
    access when asked (best effort: a file of another owner is left as it is)."""
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
            wanted = (mode & ~0o007) | (0o040 if group_readable else 0)
            if wanted != mode:
                os.chmod(name, wanted)
        except OSError:
            continue


def _cannot_read(path: Path, exc: sqlite3.Error) -> str | None:
    """What really stops a read-only open (permissions, a read-only folder), or None.

    Returns ``_IMMUTABLE`` when the journal can be read as immutable instead: the ``-shm``
    cannot be created and there is no WAL, so the main file holds every committed row.
    """
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code not in (_CANTOPEN, _READONLY):
        return None
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if shm.exists() and not os.access(shm, os.R_OK):
        return f"no permission to read {shm.name}, which sqlite needs to read the journal"
    if wal.exists() and not os.access(wal, os.R_OK):
        return f"no permission to read {wal.name}, which holds the journal's latest rows"
    if not shm.exists() and not os.access(path.parent, os.W_OK):
        if not wal.exists() or wal.stat().st_size == 0:
            return _IMMUTABLE
        return (
            f"it has unfinished writes in {wal.name} and this user cannot create {shm.name} "
            f"in {path.parent} (a read-only folder, or no write permission there); open it "
            "once as its owner, or copy it with its -wal somewhere writable"
        )
    return None


def _refuse(path: Path, problem: str) -> JournalError:
    return JournalError(f"{path}: {problem}; the file was left untouched")


def _read_marks(path: Path, mode: str) -> tuple[int, int, set[str], str | None]:
    """application_id, user_version, object names and magic, read in ONE read transaction:
    read one by one, a concurrent creator's commit could fall between them."""
    conn = sqlite3.connect(_uri(path, mode), uri=True, isolation_level=None)
    try:
        conn.execute("BEGIN")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        objects = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        magic = None
        if app_id == APPLICATION_ID and "meta" in objects:
            row = conn.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
            magic = row[0] if row else None
        conn.execute("COMMIT")
    finally:
        conn.close()
    return int(app_id), int(version), objects, magic


def inspect_journal(path: Path) -> int | None:
    """The schema version of the journal at ``path``; ``None`` when it is new or empty.

    Raises JournalError, without writing anything, when the file is not an m2m-tui journal,
    is damaged, or was written by a newer version of the program.
    """
    return _inspect(path)[0]


def _inspect(path: Path) -> tuple[int | None, str]:
    """:func:`inspect_journal`, plus the URI mode a reader must use (``ro`` or immutable)."""
    # Never open() the file here: this process may already hold sqlite connections to it, and
    # closing any other descriptor of the file drops every POSIX lock the process holds on it.
    # Another process closing its last connection could then delete the -wal and -shm that
    # ours still write to (two UIs on one journal lost their rows that way). sqlite reads the
    # header itself and says "not a database".
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return None, "ro"
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if size == 0:
        return None, "ro"
    if not os.access(path, os.R_OK):
        raise JournalError(f"{path}: cannot read the file (Permission denied)")
    mode = "ro"
    while True:
        try:
            app_id, version, objects, magic = _read_marks(path, mode)
            break
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF == _NOTADB:
                raise _refuse(
                    path, "not an SQLite database (no SQLite header), so not an m2m-tui journal"
                ) from exc
            problem = _cannot_read(path, exc) if mode == "ro" else None
            if problem == _IMMUTABLE:
                mode = _IMMUTABLE
                continue
            if problem is not None:
                raise JournalError(f"{path}: cannot be read: {problem}") from exc
            raise _refuse(path, f"damaged or not a database ({exc})") from exc
    if app_id == 0 and version == 0 and not objects:
        return None, mode  # a valid but empty database, e.g. left by a crash while creating it
    if app_id != APPLICATION_ID:
        raise _refuse(
            path,
            f"an SQLite database of another program (application_id {app_id:#010x}), "
            "not an m2m-tui journal",
        )
    if magic != MAGIC:
        raise _refuse(path, "marked as an m2m-tui journal but its meta table is missing or wrong")
    if version > SCHEMA_VERSION:
        raise _refuse(
            path,
            f"written by a newer m2m-tui (schema version {version}; this one knows up to "
            f"{SCHEMA_VERSION})",
        )
    return int(version), mode


def _migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the open database to SCHEMA_VERSION in one transaction; the version it had."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Read again under the write lock: another process may have migrated meanwhile.
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if version == SCHEMA_VERSION and app_id == APPLICATION_ID:
            conn.execute("ROLLBACK")
            return version
        if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise _refuse(path, "not empty, but carries no m2m-tui schema version")
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('application', ?), ('created_at', ?)",
            (MAGIC, repr(time.time())),
        )
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('migrated_at', ?)",
            (repr(time.time()),),
        )
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return version


_BUSY, _LOCKED = 5, 6


def _switch_to_wal(conn: sqlite3.Connection, busy_timeout: float) -> str:
    """``PRAGMA journal_mode = WAL``, retried while another creator holds the file: sqlite
    answers "database is locked" at once there, without waiting for the busy timeout."""
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            if code not in (_BUSY, _LOCKED) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def connect(
    path: str | Path,
    *,
    readonly: bool = False,
    synchronous: Synchronous = "NORMAL",
    busy_timeout: float = 5.0,
    check_same_thread: bool = True,
    create: bool = True,
    group_readable: bool = False,
) -> sqlite3.Connection:
    """:func:`connect_describing` without the words (the change is logged all the same)."""
    return connect_describing(
        path,
        readonly=readonly,
        synchronous=synchronous,
        busy_timeout=busy_timeout,
        check_same_thread=check_same_thread,
        create=create,
        group_readable=group_readable,
    )[0]


def connect_describing(
    path: str | Path,
    *,
    readonly: bool = False,
    synchronous: Synchronous = "NORMAL",
    busy_timeout: float = 5.0,
    check_same_thread: bool = True,
    create: bool = True,
    group_readable: bool = False,
) -> tuple[sqlite3.Connection, str | None]:
    """Open (creating or migrating as needed) the journal at ``path``: a connection, and
    what opening did to the schema in words (None: nothing), as PostgreSQL's journal says.

    The connection is in autocommit mode (``isolation_level=None``): callers open their own
    transactions with ``BEGIN``, so a batch is exactly one commit. ``create=False`` refuses a
    path with no journal (following one that another process writes); ``group_readable``
    creates a new journal 0640 rather than 0600.
    """
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
    path = Path(path)
    version, read_mode = _inspect(path)
    if readonly:
        if version is None:
            raise JournalError(f"{path}: no journal here yet (nothing to read)")
        if version != SCHEMA_VERSION:
            raise JournalError(
                f"{path}: schema version {version} is older than {SCHEMA_VERSION}; "
                "open it once read-write (e.g. `m2m-tui listen`) to migrate it"
            )
    if not readonly:
        if not create and not path.exists():
            raise JournalError(f"{path}: no journal here (it is not created when only following)")
        if version is None:
            try:
                create_private(path, group_readable=group_readable)
            except OSError as exc:
                raise JournalError(
                    f"{path}: cannot create the journal ({exc.strerror or exc})"
                ) from exc
        else:
            tighten(path, group_readable=group_readable)
    mode = read_mode if readonly else ("rwc" if version is None else "rw")
    try:
        conn = sqlite3.connect(
            _uri(path, mode),
            uri=True,
            isolation_level=None,
            timeout=busy_timeout,
            check_same_thread=check_same_thread,
        )
    except sqlite3.Error as exc:
        raise JournalError(f"{path}: cannot open the journal ({exc})") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if readonly:
            conn.execute("PRAGMA query_only = ON")
            return conn, None
        mode_now = _switch_to_wal(conn, busy_timeout)
        if str(mode_now).lower() != "wal":
            raise JournalError(f"{path}: cannot switch the journal to WAL mode (got {mode_now})")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        change = None
        if version != SCHEMA_VERSION:
            change = describe_change(_migrate(conn, path), SCHEMA_VERSION)
            if change:
                log.info("journal %s: %s", path, change)
        return conn, change
    except sqlite3.Error as exc:
        conn.close()
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        hint = (
            f"; this user may not write it, or create its -wal/-shm in {path.parent}"
            if code in (_CANTOPEN, _READONLY)
            else ""
        )
        raise JournalError(f"{path}: cannot prepare the journal ({exc}){hint}") from exc
    except BaseException:
        conn.close()
        raise
