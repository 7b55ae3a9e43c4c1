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
serialises every listener of the team, the usual batch (:func:`append_pipelined`) is one
statement sent in one go: the lock, the whole batch (:data:`APPEND_BATCH`, arrays unnested,
each record decided first copy or duplicate as :data:`INSERT_CALLBACK` decides one) and the
NOTIFY, which the server runs as a transaction of its own and commits. The lock is held only
while the server works. Sent as a pipeline of statements (lock, then each insert as psycopg
adapted it, then NOTIFY and COMMIT) the holder spent most of its time waiting for its own
client, a Python thread sharing the GIL with the listener's event loop (``pg_stat_activity``:
ClientRead in 79% of the samples taken while the other listener waited on the lock), a wait
that grows with the listener's load: bench/team.py's p99.
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


#: A whole batch in one statement, after the append lock (taken before any row is produced,
#: so before any id is drawn), with its NOTIFY. ``candidate``: the first record of its message in the batch
#: (the client knows the keys); each candidate is stored as the result unless a first copy
#: exists (``ON CONFLICT``, as :data:`INSERT_CALLBACK`), and every other record as a
#: duplicate, in batch order. Rows: (copy, id, request_id, body_hash); the ids of copies grow
#: in batch order.
APPEND_BATCH = (
    "WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock(%(key)s) AS held),"
    " input AS MATERIALIZED (SELECT t.* FROM locked, unnest(%(received_at)s::float8[],"
    " %(request_id)s::text[], %(kind)s::text[], %(device_key)s::text[], %(body)s::text[],"
    " %(body_hash)s::text[], %(callback_count)s::int8[], %(source)s::text[],"
    " %(candidate)s::bool[]) WITH ORDINALITY AS t(received_at, request_id, kind, device_key,"
    " body, body_hash, callback_count, source, candidate, n)),"
    f" first AS (INSERT INTO callbacks ({_COLUMNS}) SELECT received_at, request_id, kind,"
    f" device_key, body, body_hash, callback_count, false, '{Verdict.ACCEPTED.value}', source"
    " FROM input WHERE candidate ORDER BY n"
    " ON CONFLICT (request_id, body_hash) WHERE NOT duplicate DO NOTHING"
    " RETURNING id, request_id, body_hash),"
    f" copy AS (INSERT INTO callbacks ({_COLUMNS}) SELECT i.received_at, i.request_id, i.kind,"
    " i.device_key, i.body, i.body_hash, i.callback_count, true,"
    f" '{Verdict.DUPLICATE.value}', i.source FROM input i WHERE NOT i.candidate OR NOT EXISTS"
    " (SELECT FROM first f WHERE f.request_id = i.request_id AND f.body_hash = i.body_hash)"
    " ORDER BY i.n RETURNING id),"
    " note AS (SELECT pg_notify(%(channel)s, 'c:' || (SELECT max(id) FROM"
    " (SELECT id FROM first UNION ALL SELECT id FROM copy) AS ids)))"
    " SELECT false, id, request_id, body_hash FROM first"
    " UNION ALL SELECT true, id, NULL, NULL FROM copy"
    " UNION ALL SELECT NULL, NULL, NULL, NULL FROM note"  # a NULL row: NOTIFY sent, ignored
)
_ARRAYS = (
    "received_at", "request_id", "kind", "device_key", "body", "body_hash", "callback_count",
    "source",
)  # fmt: skip


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
    with conn.cursor() as cursor:
        cursor.executemany(INSERT_CALLBACK, params, returning=True)
        return _stored(cursor)


def _stored(cursor: psycopg.Cursor[Any]) -> list[CallbackRecordId]:
    """The (id, duplicate) of each insert of an ``executemany(..., returning=True)``."""
    stored: list[CallbackRecordId] = []
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
    """The hot path: one transaction in one message, or None when a record failed.

    The lock, the batch and the NOTIFY are one statement (arrays bound in binary), sent in
    one go; in autocommit mode the server runs it as a transaction of its own and commits
    before it answers: the append lock is held only while the server works, never while it
    waits for this client (module docstring). ``committing`` is called before it is sent. On
    a record error (one that slipped past the checks) the server rolls it back and None says
    to redo the batch the careful way.
    """
    values: dict[str, Any] = {name: [p[name] for p in params] for name in _ARRAYS}
    seen: set[tuple[str, str]] = set()
    candidate = []
    for p in params:
        message = (p["request_id"], p["body_hash"])
        candidate.append(message not in seen)
        seen.add(message)
    values.update(key=key, channel=channel, candidate=candidate)
    committing()
    try:
        rows = conn.execute(APPEND_BATCH, values).fetchall()
    except RECORD_ERRORS:
        if conn.broken:
            raise
        return None  # the implicit transaction ended with the message: nothing to undo
    first = {(rid, digest): int(id_) for copy, id_, rid, digest in rows if copy is False}
    copies = iter(sorted(int(id_) for copy, id_, _, _ in rows if copy))
    stored = []
    for p, is_candidate in zip(params, candidate, strict=True):
        found = first.get((p["request_id"], p["body_hash"])) if is_candidate else None
        if found is not None:
            stored.append(CallbackRecordId(found, False))
        else:
            stored.append(CallbackRecordId(next(copies), True))
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
