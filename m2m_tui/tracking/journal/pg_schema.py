"""The PostgreSQL journal's tables, its versions, and how a connection to it is made.

The tables and their meanings are the sqlite journal's (:mod:`.sqlite_schema`), in the schema
the URL's ``search_path`` names (``public`` by default). Differences are of type only (booleans
are ``boolean``, ids are identities), plus one that carries meaning: a partial unique index
``(request_id, body_hash) WHERE NOT duplicate`` lets the database itself decide, between any
number of listeners, which copy of a resent callback is the result (see
:mod:`.pg_store`).

``schema_version`` holds one row per migration applied. ``MIGRATIONS[n]`` brings version ``n``
to ``n + 1``; a new database is migrated from 0, inside one transaction holding an advisory
lock, so two processes opening a new database at once create it once.

The URL goes to libpq whole (multi-host URLs, ``sslmode``, ``PGPASSWORD``, ``~/.pgpass`` and
service files all work by themselves); every error names it by :func:`safe_location` and has
the password scrubbed, whatever libpq put in its message.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from m2m_tui.tracking.journal.dialect import describe_change as describe_change_to
from m2m_tui.tracking.journal.interface import HIDDEN, safe_location
from m2m_tui.tracking.records import JournalError

APPLICATION = "m2m-tui journal"
#: The LISTEN/NOTIFY channel's prefix; the schema's name follows (one journal per schema).
CHANNEL_PREFIX = "m2m_tui."

# Version 1: the sqlite journal's layout at its version 2, in PostgreSQL types.
_V1 = (
    """CREATE TABLE meta (
        key text PRIMARY KEY,
        value text NOT NULL
    )""",
    """CREATE TABLE requests (
        request_id text PRIMARY KEY,
        action text NOT NULL,
        account text NOT NULL,
        target text NOT NULL,
        expected_results integer,
        pollable boolean NOT NULL DEFAULT false,
        submitted_at double precision NOT NULL,
        state text NOT NULL,
        completed_by text,
        deadline double precision NOT NULL,
        updated_at double precision NOT NULL,
        last_error_code text,
        last_error_message text,
        profile text
    )""",
    "CREATE INDEX requests_by_time ON requests (submitted_at DESC)",
    "CREATE INDEX requests_by_state ON requests (state, submitted_at DESC)",
    """CREATE TABLE callbacks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at double precision NOT NULL,
        request_id text NOT NULL,
        kind text NOT NULL,
        device_key text,
        body text NOT NULL,
        body_hash text NOT NULL,
        callback_count bigint,
        duplicate boolean NOT NULL DEFAULT false,
        verdict text NOT NULL,
        source text
    )""",
    "CREATE INDEX callbacks_by_request ON callbacks (request_id, id)",
    # The first copy of a message is the only non-duplicate row with its key.
    "CREATE UNIQUE INDEX callbacks_first_copy ON callbacks (request_id, body_hash)"
    " WHERE NOT duplicate",
    "CREATE INDEX callbacks_by_time ON callbacks (received_at)",
    """CREATE TABLE rejections (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at double precision NOT NULL,
        reason text NOT NULL,
        detail text NOT NULL,
        source text,
        excerpt text NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX rejections_by_reason ON rejections (reason, id)",
    """CREATE TABLE polls (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id text NOT NULL,
        polled_at double precision NOT NULL,
        status text NOT NULL,
        changed boolean NOT NULL DEFAULT true
    )""",
    "CREATE INDEX polls_by_request ON polls (request_id, id)",
    """CREATE TABLE devices (
        account text NOT NULL,
        kind text NOT NULL,
        device_id text NOT NULL,
        label text,
        summary text,
        looked_up_at double precision NOT NULL,
        lookups integer NOT NULL DEFAULT 1,
        PRIMARY KEY (account, kind, device_id)
    )""",
    "CREATE INDEX devices_by_time ON devices (looked_up_at DESC)",
)

# Version 2: who submitted a request (``user@host``), and an index for "mine".
_V2 = (
    "ALTER TABLE requests ADD COLUMN submitted_by text",
    "CREATE INDEX requests_by_submitter ON requests (submitted_by, submitted_at DESC)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)
_OUR_TABLES = ("meta", "requests", "callbacks", "rejections", "polls", "devices")


def scrub(text: str, url: str) -> str:
    """``text`` with the URL's password (wherever libpq read it from the URL) removed."""
    secret = password_of(url)
    out = text.replace(url, safe_location(url))
    return out.replace(secret, HIDDEN) if secret else out


def password_of(url: str) -> str | None:
    """The password written in the URL (libpq's parser reads it), for scrubbing only."""
    try:
        value = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        return None
    return str(value) if value else None


def failure(url: str, action: str, exc: BaseException) -> JournalError:
    """A JournalError naming the journal safely and saying why, the password scrubbed."""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return JournalError(f"{safe_location(url)}: cannot {action} ({scrub(detail, url)})")


def connect(url: str, **kwargs: Any) -> psycopg.Connection[tuple[Any, ...]]:
    """A connection in autocommit mode (callers open transactions), errors made safe."""
    try:
        return psycopg.connect(url, autocommit=True, **kwargs)
    except psycopg.Error as exc:
        raise failure(url, "connect to the journal", exc) from None


def lock_key(schema: str, purpose: str) -> int:
    """A signed 64-bit advisory-lock key for one journal (schema) and purpose."""
    digest = hashlib.blake2b(f"m2m-tui:{schema}:{purpose}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def current_schema(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    if row is None or row[0] is None:
        raise JournalError("no schema to create the journal in (search_path is empty)")
    return str(row[0])


def channel_for(schema: str) -> str:
    """The LISTEN/NOTIFY channel of the journal in ``schema`` (at most 63 bytes)."""
    name = CHANNEL_PREFIX + schema
    if len(name.encode()) > 63:
        name = CHANNEL_PREFIX + hashlib.blake2b(schema.encode(), digest_size=16).hexdigest()
    return name


def _version(conn: psycopg.Connection[Any]) -> int | None:
    """The journal's version; None when the schema holds none of our tables yet."""
    found = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relname = ANY(%s)",
        (["schema_version", *_OUR_TABLES],),
    ).fetchall()
    names = {row[0] for row in found}
    if "schema_version" not in names:
        if names:
            raise JournalError(
                f"the schema holds table(s) {', '.join(sorted(names))} but no m2m-tui "
                "schema_version: not an m2m-tui journal; it was left untouched"
            )
        return None
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def describe_change(before: int) -> str | None:
    """What opening did to the schema, in words (None: it was current)."""
    return describe_change_to(before, SCHEMA_VERSION)


def ensure_schema(conn: psycopg.Connection[Any], *, readonly: bool = False) -> int:
    """Create or migrate the journal (unless ``readonly``); returns the version it had before.

    Safe against a concurrent creator: the check and the migration run in one transaction
    holding a transaction-level advisory lock, so a second process waits and then finds the
    work done. Refuses a schema of another program and a journal of a newer m2m-tui.
    """
    schema = current_schema(conn)
    with conn.transaction():
        if not readonly:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(schema, "schema"),))
        version = _version(conn)
        before = 0 if version is None else version
        if before > SCHEMA_VERSION:
            raise JournalError(
                f"written by a newer m2m-tui (schema version {before}; this one knows up to "
                f"{SCHEMA_VERSION})"
            )
        if readonly:
            if version is None:
                raise JournalError("no journal here yet (nothing to read)")
            if before != SCHEMA_VERSION:
                raise JournalError(
                    f"schema version {before} is older than {SCHEMA_VERSION}; open it once "
                    "read-write (e.g. `m2m-tui listen`) to migrate it"
                )
            return before
        if version is None:
            conn.execute(
                "CREATE TABLE schema_version (version integer PRIMARY KEY,"
                " applied_at double precision NOT NULL, applied_by text NOT NULL)"
            )
        by = f"{socket.gethostname()} pid {os.getpid()}"
        for number, statements in enumerate(MIGRATIONS[before:], start=before + 1):
            for statement in statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, applied_at, applied_by) VALUES (%s, %s, %s)",
                (number, time.time(), by),
            )
        if version is None:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('application', %s), ('created_at', %s)",
                (APPLICATION, repr(time.time())),
            )
    return before
