"""A requestId given out again, on PostgreSQL: :mod:`.sqlite_attempts`' move in psycopg's SQL.

The same rules as the sqlite journal: the recorded attempt becomes ``<id>~N`` with its polls and
the callbacks received before ``before``, closed if still open; of the callbacks that stay, the
first copy of each body is un-marked as a duplicate. Run inside the caller's transaction, with
the appends lock held so no listener adds a callback for the id half-way through.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from m2m_tui.tracking.journal.sqlite_attempts import attempt_id
from m2m_tui.tracking.records import UNFINISHED_STATES, RequestState, Verdict


def _free_attempt_id(conn: psycopg.Connection[Any], request_id: str) -> str:
    number = 1
    while conn.execute(
        "SELECT 1 FROM requests WHERE request_id = %s", (attempt_id(request_id, number),)
    ).fetchone():
        number += 1
    return attempt_id(request_id, number)


def archive_attempt_pg(
    conn: psycopg.Connection[Any], request_id: str, *, before: float, note: str
) -> str | None:
    """Move the request recorded as ``request_id`` aside; returns its new id (None: none)."""
    found = conn.execute(
        "SELECT state, last_error_message FROM requests WHERE request_id = %s FOR UPDATE",
        (request_id,),
    ).fetchone()
    if found is None:
        return None
    state, message = found
    alias = _free_attempt_id(conn, request_id)
    still_open = state in {s.value for s in UNFINISHED_STATES}
    closed = RequestState.TIMED_OUT.value if still_open else state
    text = note if not message else f"{note}; before that: {message}"
    conn.execute(
        "UPDATE requests SET request_id = %s, state = %s, last_error_message = %s,"
        " updated_at = %s WHERE request_id = %s",
        (alias, closed, text, time.time(), request_id),
    )
    conn.execute("UPDATE polls SET request_id = %s WHERE request_id = %s", (alias, request_id))
    conn.execute(
        "UPDATE callbacks SET request_id = %s WHERE request_id = %s AND received_at < %s",
        (alias, request_id, before),
    )
    conn.execute(
        "UPDATE callbacks SET duplicate = false, verdict = %s WHERE request_id = %s AND duplicate"
        " AND id IN (SELECT min(id) FROM callbacks WHERE request_id = %s GROUP BY body_hash)",
        (Verdict.ACCEPTED.value, request_id, request_id),
    )
    return alias
