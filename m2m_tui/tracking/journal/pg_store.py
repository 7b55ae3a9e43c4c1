"""Storing callbacks and rejections in PostgreSQL, inside the caller's transaction.

What is stored is exactly what the sqlite journal stores (:func:`.callbacks.encode_callback`
redacts and computes the duplicate key). What differs is who decides a duplicate: here the
database does, so two listeners receiving two copies of one message at the same moment still
count it once. Each callback is one statement: insert it as the result ``ON CONFLICT DO
NOTHING`` against the partial unique index of first copies; if a first copy exists (committed,
earlier in this batch, or in another transaction, which the insert waits for), insert it
flagged duplicate instead. The statements of a batch go in one pipelined ``executemany``.

Ids must grow in commit order, or a follower reading "after the last id I saw" would skip the
rows of a transaction that committed after a later one. So every transaction that appends
callbacks or rejections first takes one advisory lock (:func:`lock_appends`), held until its
commit; the NOTIFY that tells followers is sent in that same transaction. Since that lock
serialises every listener of the team, the usual batch (:func:`append_pipelined`) holds it for
as few round trips as possible: BEGIN, the lock and the inserts in one, NOTIFY and COMMIT in
the next (it was eight, one a statement).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg

from m2m_tui.tracking.journal.callbacks import EXCERPT_CHARS, encode_callback
from m2m_tui.tracking.records import (
    CallbackRecord,
    CallbackRecordId,
    JournalRecordError,
    RejectionRecord,
    Verdict,
)
from m2m_tui.tracking.redact import REDACTED, redact_text

_MAX_BIGINT = 2**63 - 1
#: Refused bodies kept per reason (every refusal is counted in ``meta`` all the same).
REJECTION_SAMPLES = 100
TOTAL_KEY = "rejected:"
_COLUMNS = (
    "received_at, request_id, kind, device_key, body, body_hash, callback_count, duplicate,"
    " verdict, source"
)
_VALUES = (
    "%(received_at)s::float8, %(request_id)s::text, %(kind)s::text, %(device_key)s::text,"
    " %(body)s::text, %(body_hash)s::text, %(callback_count)s::int8"
)
INSERT_CALLBACK = (
    f"WITH first AS (INSERT INTO callbacks ({_COLUMNS})"
    f" VALUES ({_VALUES}, false, '{Verdict.ACCEPTED.value}', %(source)s::text)"
    " ON CONFLICT (request_id, body_hash) WHERE NOT duplicate DO NOTHING"
    " RETURNING id, duplicate),"
    f" copy AS (INSERT INTO callbacks ({_COLUMNS})"
    f" SELECT {_VALUES}, true, '{Verdict.DUPLICATE.value}', %(source)s::text"
    " WHERE NOT EXISTS (SELECT FROM first) RETURNING id, duplicate)"
    " SELECT id, duplicate FROM first UNION ALL SELECT id, duplicate FROM copy"
)
INSERT_REJECTION = (
    "INSERT INTO rejections (received_at, reason, detail, source, excerpt)"
    " VALUES (%s, %s, %s, %s, %s) RETURNING id"
)
#: Errors that concern one record; anything else fails the whole batch.
RECORD_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    OverflowError,
    RecursionError,
    psycopg.DataError,
    psycopg.IntegrityError,
)


def lock_appends(conn: psycopg.Connection[Any], key: int) -> None:
    """Serialise appending transactions so ids grow in commit order (module docstring)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))


def notify(conn: psycopg.Connection[Any], channel: str, payload: str) -> None:
    """Tell followers, at this transaction's commit (a small payload: a kind and an id)."""
    conn.execute("SELECT pg_notify(%s, %s)", (channel, payload[:1000]))


def _check_text(*values: str | None) -> None:
    """PostgreSQL text holds no NUL and no lone surrogate: refuse such a record up front."""
    for value in values:
        if value is not None and not value.isascii():
            value.encode("utf-8")
        if value is not None and "\x00" in value:
            raise ValueError("text contains a NUL character")


def _scrub(value: Any, secrets: Sequence[str]) -> Any:
    """``value`` with every literal secret inside its strings replaced (nested too)."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, secrets) for item in value]
    return value


def callback_params(record: CallbackRecord, secrets: Sequence[str] = ()) -> dict[str, Any]:
    """One record's statement parameters (password and ``secrets`` redacted)."""
    _check_text(record.request_id, record.kind, record.device_key, record.source)
    body = record.body
    if secrets:
        body = _scrub(body, [s for s in secrets if s])
    text, digest = encode_callback(record.request_id, record.device_key, body)
    count = record.callback_count
    return {
        "received_at": record.received_at,
        "request_id": record.request_id,
        "kind": record.kind,
        "device_key": record.device_key,
        "body": text,
        "body_hash": digest,
        "callback_count": count if count is not None and 0 <= count <= _MAX_BIGINT else None,
        "source": record.source,
    }


def _insert_one(conn: psycopg.Connection[Any], params: dict[str, Any]) -> CallbackRecordId:
    row = conn.execute(INSERT_CALLBACK, params).fetchone()
    if row is None:  # cannot happen: one of the two inserts returns a row
        raise JournalRecordError("callback was not stored")
    return CallbackRecordId(int(row[0]), bool(row[1]))


def _insert_many(
    conn: psycopg.Connection[Any], params: list[dict[str, Any]]
) -> list[CallbackRecordId]:
    stored: list[CallbackRecordId] = []
    with conn.cursor() as cursor:
        cursor.executemany(INSERT_CALLBACK, params, returning=True)
        while True:
            row = cursor.fetchone()
            if row is None:
                raise JournalRecordError("callback was not stored")
            stored.append(CallbackRecordId(int(row[0]), bool(row[1])))
            if not cursor.nextset():
                break
    return stored


def prepare_callbacks(
    records: Sequence[CallbackRecord], secrets: Sequence[str] = ()
) -> tuple[list[dict[str, Any] | JournalRecordError], bool]:
    """Each record's parameters, or the error that keeps it out; True if any was refused."""
    prepared: list[dict[str, Any] | JournalRecordError] = []
    refused = False
    for record in records:
        try:
            prepared.append(callback_params(record, secrets))
        except RECORD_ERRORS as exc:
            prepared.append(JournalRecordError(f"callback cannot be stored: {exc}"))
            refused = True
    return prepared, refused


def append_pipelined(
    conn: psycopg.Connection[Any],
    key: int,
    channel: str,
    params: list[dict[str, Any]],
    committing: Callable[[], None],
) -> list[CallbackRecordId] | None:
    """The hot path: one transaction in two round trips, or None when a record failed.

    Lock, inserts (BEGIN before them) go in one round trip; notify and COMMIT in the next, so
    the append lock is held for one round trip plus the inserts. ``committing`` is called just
    before COMMIT is sent. On a record error (one that slipped past the checks) the
    transaction is rolled back and None says to redo the batch the careful way.
    """
    try:
        with conn.pipeline():
            conn.execute("BEGIN")  # the connection is in autocommit mode
            lock_appends(conn, key)
            stored = _insert_many(conn, params)
            notify(conn, channel, f"c:{max(r.id for r in stored)}")
            committing()
            conn.execute("COMMIT")  # sent, and its result read, as the pipeline closes
    except RECORD_ERRORS:
        if conn.broken:
            raise
        conn.rollback()
        return None
    except BaseException:
        # BEGIN was ours, not psycopg's: end the failed transaction so the next batch can run.
        if not conn.broken and not conn.closed:
            conn.rollback()
        raise
    return stored


def store_callbacks(
    conn: psycopg.Connection[Any],
    records: Sequence[CallbackRecord],
    secrets: Sequence[str] = (),
) -> list[CallbackRecordId | JournalRecordError]:
    """Store a batch inside the caller's transaction; one result per record, in order.

    A record that cannot be stored gets a JournalRecordError and the others are stored: checks
    catch the known cases up front; if one slips past them the batch is redone row by row,
    each under its own savepoint.
    """
    results: list[CallbackRecordId | JournalRecordError | None] = [None] * len(records)
    prepared: list[tuple[int, dict[str, Any]]] = []
    for index, record in enumerate(records):
        try:
            prepared.append((index, callback_params(record, secrets)))
        except RECORD_ERRORS as exc:
            results[index] = JournalRecordError(f"callback cannot be stored: {exc}")
    if prepared:
        try:
            with conn.transaction():
                stored = _insert_many(conn, [params for _, params in prepared])
        except RECORD_ERRORS:
            for index, params in prepared:
                try:
                    with conn.transaction():
                        results[index] = _insert_one(conn, params)
                except RECORD_ERRORS as exc:
                    results[index] = JournalRecordError(f"callback cannot be stored: {exc}")
        else:
            for (index, _), result in zip(prepared, stored, strict=True):
                results[index] = result
    return [result for result in results if result is not None]


def _safe_text(value: str) -> str:
    """Text PostgreSQL can hold: lone surrogates and NULs escaped, the rest as it is."""
    if not value.isascii():
        value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value.replace("\x00", "\\x00")


def rejection_params(record: RejectionRecord) -> tuple[Any, ...]:
    """Excerpt and detail redacted, the excerpt cut to 500 characters (as sqlite does)."""
    excerpt = redact_text(record.excerpt[:EXCERPT_CHARS])[:EXCERPT_CHARS]
    detail = redact_text(record.detail[:EXCERPT_CHARS])
    source = None if record.source is None else _safe_text(record.source)
    return (
        record.received_at,
        _safe_text(record.reason),
        _safe_text(detail),
        source,
        _safe_text(excerpt),
    )


def store_rejections(
    conn: psycopg.Connection[Any],
    records: Sequence[RejectionRecord],
    keep: int | None = REJECTION_SAMPLES,
) -> list[int]:
    """Store rejections inside the caller's transaction; their ids, in order.

    Every one is counted (``meta``: ``rejected:<reason>``), but only the newest ``keep``
    bodies per reason stay (None: all): a flood of refused posts must not fill the database
    that every listener of the team writes to.
    """
    ids: list[int] = []
    with conn.cursor() as cursor:
        for record in records:
            row = cursor.execute(INSERT_REJECTION, rejection_params(record)).fetchone()
            ids.append(int(row[0]) if row else 0)
        for reason, added in Counter(_safe_text(r.reason) for r in records).items():
            # The first count of a reason starts from the rows there (this batch's included).
            cursor.execute(
                "INSERT INTO meta (key, value) SELECT %s, count(*)::text FROM rejections"
                " WHERE reason = %s ON CONFLICT (key) DO UPDATE"
                " SET value = (meta.value::bigint + %s)::text",
                (TOTAL_KEY + reason, reason, added),
            )
            if keep is not None:
                cursor.execute(
                    "DELETE FROM rejections WHERE reason = %s AND id <= (SELECT id FROM"
                    " rejections WHERE reason = %s ORDER BY id DESC LIMIT 1 OFFSET %s)",
                    (reason, reason, keep),
                )
    return ids


def rejection_totals(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Every rejection ever counted, per reason (bodies kept or not)."""
    totals = {
        str(reason): int(count)
        for reason, count in conn.execute("SELECT reason, count(*) FROM rejections GROUP BY reason")
    }
    for key, value in conn.execute(
        "SELECT key, value FROM meta WHERE starts_with(key, %s)", (TOTAL_KEY,)
    ):
        reason = str(key)[len(TOTAL_KEY) :]
        totals[reason] = max(int(value), totals.get(reason, 0))
    return totals
