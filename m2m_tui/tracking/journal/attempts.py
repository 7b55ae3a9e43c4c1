"""A requestId given out again: the recorded attempt moves aside, its history kept.

ThingSpace's ids are unique, but a simulator restarted with the same seed (before issue 8) or
any other source of repeats could hand out an id the journal already holds. The new attempt
must own the id (its polls and callbacks carry it), so the old one moves to ``<id>~N`` with
its polls and the callbacks received before the new POST was sent, and is closed if it was
still open. Nothing is deleted: the old attempt stays visible in every view and export.
Both backends run the same move (:func:`archive_attempt`), each in its own dialect.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from m2m_tui.tracking.journal.dialect import Dialect
from m2m_tui.tracking.records import UNFINISHED_STATES, RequestState, Verdict


class Connection(Protocol):
    """What the move needs of a connection: sqlite3's and psycopg's both fit."""

    def execute(self, query: str, params: Any = ..., /) -> Any: ...


#: Joins a superseded attempt's id and its number: ``<requestId>~1``.
ATTEMPT_SEPARATOR = "~"


def attempt_id(request_id: str, number: int) -> str:
    return f"{request_id}{ATTEMPT_SEPARATOR}{number}"


def attempt_base(request_id: str) -> str:
    """The id an attempt was moved aside from: ``abc`` for ``abc~2``; any other id as it is."""
    head, sep, number = request_id.rpartition(ATTEMPT_SEPARATOR)
    return head if sep and head and number.isdigit() else request_id


def current_attempt(given: str, matches: list[str]) -> str | None:
    """The one id of ``matches`` (ids starting with ``given``) that ``given`` names: the id
    itself, case aside; else the current attempt when all the others are its earlier ones
    (``abc`` over ``abc~1``). None: ``given`` fits several requests."""
    exact = [m for m in matches if m.casefold() == given.casefold()]
    if len(exact) == 1:
        return exact[0]
    bases = {attempt_base(m) for m in matches}
    if len(bases) == 1 and (base := bases.pop()) in matches:
        return base
    return None


def _free_attempt_id(conn: Connection, request_id: str, p: str) -> str:
    number = 1
    while conn.execute(
        f"SELECT 1 FROM requests WHERE request_id = {p}", (attempt_id(request_id, number),)
    ).fetchone():
        number += 1
    return attempt_id(request_id, number)


def archive_attempt(
    conn: Connection, dialect: Dialect, request_id: str, *, before: float, note: str
) -> str | None:
    """Move the request recorded as ``request_id`` aside; returns its new id (None: none).

    Run inside the caller's transaction (on PostgreSQL with the appends lock held, so no
    listener adds a callback for the id half-way through). Callbacks received at or after
    ``before`` stay: they may be the new attempt's, having beaten its synchronous answer. Of
    those, the first copy of each body is un-marked as a duplicate, since the copy it repeated
    now belongs to the old attempt.
    """
    p = dialect.param
    found = conn.execute(
        f"SELECT state, last_error_message FROM requests WHERE request_id = {p}"
        + dialect.for_update,
        (request_id,),
    ).fetchone()
    if found is None:
        return None
    state, message = found
    alias = _free_attempt_id(conn, request_id, p)
    still_open = state in {s.value for s in UNFINISHED_STATES}
    closed = RequestState.TIMED_OUT.value if still_open else state
    text = note if not message else f"{note}; before that: {message}"
    conn.execute(
        f"UPDATE requests SET request_id = {p}, state = {p}, last_error_message = {p},"
        f" updated_at = {p} WHERE request_id = {p}",
        (alias, closed, text, time.time(), request_id),
    )
    conn.execute(f"UPDATE polls SET request_id = {p} WHERE request_id = {p}", (alias, request_id))
    conn.execute(
        f"UPDATE callbacks SET request_id = {p} WHERE request_id = {p} AND received_at < {p}",
        (alias, request_id, before),
    )
    conn.execute(
        f"UPDATE callbacks SET duplicate = false, verdict = {p} WHERE request_id = {p}"
        f" AND duplicate AND id IN (SELECT min(id) FROM callbacks WHERE request_id = {p}"
        " GROUP BY body_hash)",
        (Verdict.ACCEPTED.value, request_id, request_id),
    )
    return alias
