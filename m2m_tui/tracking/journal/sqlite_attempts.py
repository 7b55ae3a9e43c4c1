"""A requestId given out again: the recorded attempt moves aside, its history kept.

ThingSpace's ids are unique, but a simulator restarted with the same seed (before issue 8) or
any other source of repeats could hand out an id the journal already holds. The new attempt
must own the id (its polls and callbacks carry it), so the old one moves to ``<id>~N`` with
its polls and the callbacks received before the new POST was sent, and is closed if it was
still open. Nothing is deleted: the old attempt stays visible in every view and export.
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING

from m2m_tui.tracking.records import UNFINISHED_STATES, RequestRow, RequestState, Verdict

if TYPE_CHECKING:
    from m2m_tui.tracking.journal.sqlite import Journal


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


def _free_attempt_id(conn: sqlite3.Connection, request_id: str) -> str:
    number = 1
    while conn.execute(
        "SELECT 1 FROM requests WHERE request_id = ?", (attempt_id(request_id, number),)
    ).fetchone():
        number += 1
    return attempt_id(request_id, number)


def archive_attempt(
    conn: sqlite3.Connection,
    request_id: str,
    *,
    before: float,
    note: str,
) -> str | None:
    """Move the request recorded as ``request_id`` aside; returns its new id (None: none).

    Callbacks received at or after ``before`` stay: they may be the new attempt's, having
    beaten its synchronous answer. Of those, the first copy of each body is un-marked as a
    duplicate, since the copy it repeated now belongs to the old attempt.
    """
    found = conn.execute(
        "SELECT state, last_error_message FROM requests WHERE request_id = ?", (request_id,)
    ).fetchone()
    if found is None:
        return None
    state, message = found
    alias = _free_attempt_id(conn, request_id)
    still_open = state in {s.value for s in UNFINISHED_STATES}
    closed = RequestState.TIMED_OUT.value if still_open else state
    text = note if not message else f"{note}; before that: {message}"
    conn.execute(
        "UPDATE requests SET request_id = ?, state = ?, last_error_message = ?, updated_at = ?"
        " WHERE request_id = ?",
        (alias, closed, text, time.time(), request_id),
    )
    conn.execute("UPDATE polls SET request_id = ? WHERE request_id = ?", (alias, request_id))
    conn.execute(
        "UPDATE callbacks SET request_id = ? WHERE request_id = ? AND received_at < ?",
        (alias, request_id, before),
    )
    conn.execute(
        "UPDATE callbacks SET duplicate = 0, verdict = ? WHERE request_id = ? AND duplicate = 1"
        " AND id IN (SELECT min(id) FROM callbacks WHERE request_id = ? GROUP BY body_hash)",
        (Verdict.ACCEPTED.value, request_id, request_id),
    )
    return alias


def supersede_request(
    journal: Journal, request_id: str, *, before: float, note: str
) -> RequestRow | None:
    """Move the recorded ``request_id`` aside in one transaction; returns the moved row.

    The sqlite journal's :meth:`Journal.supersede_request`; PostgreSQL has its own SQL in
    :mod:`.pg_attempts`."""
    with journal.transaction() as conn:
        alias = archive_attempt(conn, request_id, before=before, note=note)
    return None if alias is None else journal.get_request(alias)
