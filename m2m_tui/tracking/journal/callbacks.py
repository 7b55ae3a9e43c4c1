"""Storing callbacks and rejections: redaction, the duplicate key, the INSERTs.

Shared by the group-committing writer thread and the synchronous :class:`.sqlite.Journal`, so both
store exactly the same thing. The caller owns the transaction.

Rejections are counted, every one, in the ``meta`` table (``rejected:<reason>``), but only the
last :data:`REJECTION_SAMPLES` bodies per reason are kept: a flood of refused posts must not
fill the disk and starve genuine callbacks (the freed pages are reused, so the file stops
growing).
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from m2m_tui.tracking.records import (
    CallbackRecord,
    CallbackRecordId,
    JournalRecordError,
    RejectionRecord,
    Verdict,
)
from m2m_tui.tracking.redact import REDACTED, redact_body, redact_secrets, redact_text

EXCERPT_CHARS = 500
#: Refused bodies kept per reason (the counts in ``meta`` cover all of them).
REJECTION_SAMPLES = 100
TOTAL_KEY = "rejected:"
_SQLITE_MAX_INT = 2**63 - 1
_REDACTED_MEMBER = f'"password":"{REDACTED}"'
_ACCEPTED = Verdict.ACCEPTED.value
_DUPLICATE = Verdict.DUPLICATE.value

_FIND_DUPLICATE = "SELECT 1 FROM callbacks WHERE request_id = ? AND body_hash = ? LIMIT 1"
_INSERT_CALLBACK = (
    "INSERT INTO callbacks (received_at, request_id, kind, device_key, body, body_hash,"
    " callback_count, duplicate, verdict, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# What AUTOINCREMENT starts from: the larger of the highest id ever used and the highest now.
_NEXT_ID = (
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'callbacks'), 0),"
    " coalesce((SELECT max(id) FROM callbacks), 0))"
)
_INSERT_REJECTION = (
    "INSERT INTO rejections (received_at, reason, detail, source, excerpt) VALUES (?, ?, ?, ?, ?)"
)

#: Errors that concern one record only; anything else from sqlite fails the whole batch.
RECORD_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    OverflowError,
    RecursionError,
    sqlite3.InterfaceError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.ProgrammingError,
)


#: ``json.dumps(value, sort_keys=True, separators=(",", ":"))`` without building an encoder
#: per call (stateless: safe from several writer threads).
_dump_sorted = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


@functools.lru_cache(maxsize=16)
def _in_json(secret: str) -> str:
    """How ``secret`` reads inside dumped JSON text; computed once, not per callback."""
    return json.dumps(secret)[1:-1]


def encode_callback(
    request_id: str,
    device_key: str | None,
    body: Mapping[str, Any],
    secrets: Sequence[str] = (),
) -> tuple[str, str]:
    """The stored JSON text (password redacted) and the duplicate key of one callback body.

    The duplicate key hashes (requestId, device, body without callbackCount and password):
    resends of one message differ only in ``callbackCount`` (``thingspace-api.md`` §4.3). The
    request id and device key are hashed too, so equal hashes mean an equal triple; the
    ``(request_id, body_hash)`` index finds it. Nothing secret is hashed.

    One ``json.dumps`` serves both (the hot path of the listener's writer thread): the body
    minus those members is dumped with sorted keys, hashed, and the stored text is that same
    text with the redacted password and the count put back in front.
    """
    front: list[str] = []
    core: dict[str, Any] = {}
    for key, value in body.items():
        if key == "password" and value:
            front.append(_REDACTED_MEMBER)
        elif key.lower() == "password":
            shown = value if value is None or value == "" else REDACTED
            front.append(f"{json.dumps(key)}:{json.dumps(shown)}")
        elif key == "callbackCount" and type(value) is int:
            front.append(f'"callbackCount":{value}')
        else:
            core[key] = value
    text = _dump_sorted(core)
    if '"password"' in text.lower():  # a password deeper down (rare): redact it first
        text = _dump_sorted(redact_body(core))
    found: list[str] = []
    for secret in secrets:  # the configured password quoted in free text (rare)
        if secret and _in_json(secret) in text:
            found.append(secret)
    if found:
        text = _dump_sorted(redact_secrets(redact_body(core), found))
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{request_id}\x00{device_key or ''}\x00".encode("utf-8", "surrogatepass"))
    digest.update(text.encode("ascii"))
    if len(text) > 2:
        front.append(text[1:-1])
    return "{" + ",".join(front) + "}", digest.hexdigest()


def body_hash(request_id: str, device_key: str | None, body: Mapping[str, Any]) -> str:
    """The duplicate key alone (see :func:`encode_callback`)."""
    return encode_callback(request_id, device_key, body)[1]


def _count(value: int | None) -> int | None:
    return value if value is not None and 0 <= value <= _SQLITE_MAX_INT else None


def _row(record: CallbackRecord, text: str, digest: str, duplicate: bool) -> tuple[Any, ...]:
    return (
        record.received_at,
        record.request_id,
        record.kind,
        record.device_key,
        text,
        digest,
        _count(record.callback_count),
        int(duplicate),
        _DUPLICATE if duplicate else _ACCEPTED,
        record.source,
    )


def _check_text(*values: str | None) -> None:
    """Raise UnicodeEncodeError now for text sqlite could not store (lone surrogates)."""
    for value in values:
        if value is not None and not value.isascii():
            value.encode("utf-8")


def insert_callback(
    conn: sqlite3.Connection, record: CallbackRecord, secrets: Sequence[str] = ()
) -> CallbackRecordId:
    """Store one callback (password redacted) and say whether it is a duplicate."""
    try:
        text, digest = encode_callback(record.request_id, record.device_key, record.body, secrets)
        duplicate = (
            conn.execute(_FIND_DUPLICATE, (record.request_id, digest)).fetchone() is not None
        )
        cursor = conn.execute(_INSERT_CALLBACK, _row(record, text, digest, duplicate))
    except RECORD_ERRORS as exc:
        raise JournalRecordError(f"callback cannot be stored: {exc}") from exc
    return CallbackRecordId(int(cursor.lastrowid or 0), duplicate)


def _known_keys(conn: sqlite3.Connection, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (request_id, body_hash) pairs are already stored: one indexed query per 400."""
    known: set[tuple[str, str]] = set()
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        values = ",".join("(?,?)" for _ in chunk)
        sql = (
            f"WITH batch(request_id, body_hash) AS (VALUES {values})"
            " SELECT c.request_id, c.body_hash FROM batch CROSS JOIN callbacks AS c"
            " ON c.request_id = batch.request_id AND c.body_hash = batch.body_hash"
        )
        params = [item for key in chunk for item in key]
        known.update((row[0], row[1]) for row in conn.execute(sql, params))
    return known


def store_callbacks(
    conn: sqlite3.Connection, records: Sequence[CallbackRecord], secrets: Sequence[str] = ()
) -> list[CallbackRecordId | JournalRecordError]:
    """Store a batch inside the caller's transaction; one result per record, in order.

    The batch path keeps the writer thread's time holding the GIL short (the event loop
    needs it): one query finds earlier duplicates, one ``executemany`` inserts, and ids are
    read back from ``last_insert_rowid()`` (the rows are consecutive: the transaction holds
    the write lock). A record that cannot be stored gets a JournalRecordError; if one slips
    past the checks, the batch is redone row by row under a savepoint.
    """
    results: list[CallbackRecordId | JournalRecordError | None] = [None] * len(records)
    prepared: list[tuple[int, CallbackRecord, str, str]] = []
    for index, record in enumerate(records):
        try:
            _check_text(record.request_id, record.kind, record.device_key, record.source)
            text, digest = encode_callback(
                record.request_id, record.device_key, record.body, secrets
            )
        except RECORD_ERRORS as exc:
            results[index] = JournalRecordError(f"callback cannot be stored: {exc}")
        else:
            prepared.append((index, record, text, digest))
    if prepared:
        known = _known_keys(
            conn, [(record.request_id, digest) for _, record, _, digest in prepared]
        )
        rows = []
        for _, record, text, digest in prepared:
            key = (record.request_id, digest)
            duplicate = key in known
            known.add(key)
            rows.append(_row(record, text, digest, duplicate))
        first = conn.execute(_NEXT_ID).fetchone()[0] + 1
        conn.execute("SAVEPOINT batch")
        try:
            conn.executemany(_INSERT_CALLBACK, rows)
            last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            if last - first + 1 != len(rows):
                raise sqlite3.DataError("callback ids are not consecutive")
        except RECORD_ERRORS:
            conn.execute("ROLLBACK TO batch")
            conn.execute("RELEASE batch")
            for index, record, _, _ in prepared:
                try:
                    results[index] = insert_callback(conn, record, secrets)
                except JournalRecordError as exc:
                    results[index] = exc
        else:
            conn.execute("RELEASE batch")
            for offset, (index, _, _, _) in enumerate(prepared):
                results[index] = CallbackRecordId(first + offset, bool(rows[offset][7]))
    return [result for result in results if result is not None]


def insert_rejection(conn: sqlite3.Connection, record: RejectionRecord) -> int:
    """Store one rejection; excerpt and detail are redacted and the excerpt cut to 500 chars."""
    excerpt = redact_text(record.excerpt[:EXCERPT_CHARS])[:EXCERPT_CHARS]
    detail = redact_text(record.detail[:EXCERPT_CHARS])
    values = (record.received_at, record.reason, detail, record.source, excerpt)
    try:
        cursor = conn.execute(_INSERT_REJECTION, values)
    except RECORD_ERRORS:
        # A lone surrogate cannot be encoded for sqlite: keep the row with escaped text.
        safe = tuple(
            v.encode("utf-8", "backslashreplace").decode("utf-8") if isinstance(v, str) else v
            for v in values
        )
        try:
            cursor = conn.execute(_INSERT_REJECTION, safe)
        except RECORD_ERRORS as exc:
            raise JournalRecordError(f"rejection cannot be stored: {exc}") from exc
    return int(cursor.lastrowid or 0)


def account_rejections(
    conn: sqlite3.Connection, reasons: Iterable[str], keep: int | None = REJECTION_SAMPLES
) -> None:
    """Add the rejections just inserted to the totals, then drop bodies past ``keep`` per reason.

    Call it inside the transaction that inserted them, once per batch (``reasons`` holds one
    entry per rejection). ``keep=None`` keeps every body. The first count of a reason starts
    from the rows already there (a journal from before the totals existed).
    """
    for reason, added in Counter(reasons).items():
        key = TOTAL_KEY + reason
        cursor = conn.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = ?", (added, key)
        )
        if cursor.rowcount == 0:
            conn.execute(
                "INSERT INTO meta (key, value) SELECT ?, count(*) FROM rejections WHERE reason = ?",
                (key, reason),
            )
        if keep is not None:
            # Bounded by the pruning itself, so this scan is short.
            conn.execute(
                "DELETE FROM rejections WHERE reason = ? AND id <= (SELECT id FROM rejections"
                " WHERE reason = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (reason, reason, keep),
            )


def rejection_totals(conn: sqlite3.Connection) -> dict[str, int]:
    """Every rejection ever counted, per reason (kept bodies or not)."""
    totals = dict(conn.execute("SELECT reason, count(*) FROM rejections GROUP BY reason"))
    for key, value in conn.execute(
        "SELECT key, value FROM meta WHERE key > ? AND key < ?", (TOTAL_KEY, TOTAL_KEY + "\uffff")
    ):
        reason = key[len(TOTAL_KEY) :]
        totals[reason] = max(int(value), totals.get(reason, 0))
    return totals
