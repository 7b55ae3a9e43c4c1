"""The journal on PostgreSQL: the same reads and writes as :class:`.sqlite.Journal`, for a team.

A :class:`PgJournal` holds a small connection pool (psycopg-pool), so unlike the sqlite journal
it may be used from several threads at once (the tracker on the event loop, queries in worker
threads). Reads retry once on a broken connection (a restarted server, a failover: the pool
then hands out a new one); a write whose connection broke raises JournalError, since whether
it committed cannot be known. Every transaction that adds callbacks, rejections or changes a
request sends a NOTIFY with a small payload (:mod:`.pg_follow` listens).

Import it through :func:`.open.open_journal`: psycopg is loaded only for a URL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from m2m_tui.tracking.journal import pg_schema as schema
from m2m_tui.tracking.journal.attempts import archive_attempt
from m2m_tui.tracking.journal.dialect import (
    POSTGRES,
    REQUEST_COLUMNS,
    request_changes,
)
from m2m_tui.tracking.journal.interface import safe_location
from m2m_tui.tracking.journal.pg_store import (
    lock_appends,
    notify,
    rejection_totals,
    store_callbacks,
    store_rejections,
)
from m2m_tui.tracking.journal.shared import SharedJournal
from m2m_tui.tracking.records import (
    CallbackRecord,
    CallbackRecordId,
    JournalCounts,
    JournalError,
    JournalRecordError,
    RejectionRecord,
    RequestRow,
    UnknownRequest,
)

log = logging.getLogger(__name__)
Row = tuple[Any, ...]
T = TypeVar("T")


class PgJournal(SharedJournal):
    """One journal in a PostgreSQL database; see the module docstring.

    The reads and add_request are :class:`~.shared.SharedJournal`'s (sqlite's too); here the
    rest of the writes.
    """

    _dialect = POSTGRES

    def __init__(
        self,
        url: str,
        *,
        readonly: bool = False,
        max_connections: int = 4,
        timeout: float = 5.0,
    ) -> None:
        """Connect, create or migrate the schema (or, ``readonly``, check it), open the pool.

        ``timeout``: how long a call waits for a pooled connection before JournalError (the
        tracker calls from the event loop: an unreachable server must not hang it for long).
        """
        self._url = url
        self._readonly = readonly
        self._timeout = timeout
        with schema.connect(url) as conn:
            try:
                before = schema.ensure_schema(conn, readonly=readonly)
            except JournalError as exc:
                raise JournalError(f"{self.location}: {exc}") from None
            except psycopg.Error as exc:
                raise schema.failure(url, "prepare the journal", exc) from None
            name = schema.current_schema(conn)
        #: What opening did to the schema ("created ...", "migrated ..."), None if nothing.
        self.schema_change = schema.describe_change(before)
        if self.schema_change:
            log.info("journal %s: %s", self.location, self.schema_change)
        self._channel = schema.channel_for(name)
        self._append_key = schema.lock_key(name, "append")
        self._pool: ConnectionPool[psycopg.Connection[Row]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, max_connections),
            kwargs={"autocommit": True},
            configure=self._configure,
            name="m2m-tui-journal",
            open=False,
            timeout=timeout,
        )
        self._pool.open()

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        if self._readonly:
            conn.execute("SET default_transaction_read_only = on")
        elif conn.execute("SHOW synchronous_commit").fetchone() == ("off",):
            conn.execute("SET synchronous_commit = on")  # a commit is durable when it returns

    @property
    def location(self) -> str:
        return safe_location(self._url)

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def channel(self) -> str:
        """The LISTEN/NOTIFY channel this journal's writes notify."""
        return self._channel

    def __repr__(self) -> str:
        return f"PgJournal({self.location!r}, readonly={self._readonly})"

    def close(self) -> None:
        self._pool.close()

    # --- plumbing ------------------------------------------------------------------------

    def _error(self, action: str, exc: BaseException) -> JournalError:
        return schema.failure(self._url, action, exc)

    def _read(self, use: Callable[[psycopg.Connection[Row]], T]) -> T:
        """Run a read; once more on a fresh connection if the first one was broken."""
        for attempt in (1, 2):
            try:
                with self._pool.connection() as conn:
                    return use(conn)
            except psycopg.OperationalError as exc:
                if attempt == 2:
                    raise self._error("read the journal", exc) from None
                self._pool.check()  # the others idle in the pool may be cut too: drop them
            except PoolTimeout as exc:
                raise self._error("read the journal", exc) from None
            except psycopg.Error as exc:
                raise self._error("read the journal", exc) from None
        raise AssertionError("unreachable")

    def _all(self, query: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._read(lambda conn: conn.execute(query, params).fetchall())

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Row]]:
        """One transaction on a pooled connection (rolled back on any error)."""
        try:
            with self._pool.connection() as conn, conn.transaction():
                yield conn
        except (JournalRecordError, UnknownRequest):
            raise
        except (psycopg.Error, PoolTimeout) as exc:
            raise self._error("write the journal", exc) from None

    # --- requests ------------------------------------------------------------------------

    def _insert_request(self, row: tuple[Any, ...]) -> bool:
        """INSERT the new request's row; False when its id is recorded already."""
        with self.transaction() as conn:
            inserted = conn.execute(
                f"INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ({POSTGRES.values(len(row))})"
                " ON CONFLICT (request_id) DO NOTHING RETURNING request_id",
                row,
            ).fetchone()
            if inserted is not None:
                notify(conn, self._channel, "q:" + row[0])
        return inserted is not None

    def supersede_request(self, request_id: str, *, before: float, note: str) -> RequestRow | None:
        """Move the recorded ``request_id`` aside in one transaction (:mod:`.attempts`)."""
        with self.transaction() as conn:
            lock_appends(conn, self._append_key)  # no callback lands for the id mid-move
            alias = archive_attempt(conn, POSTGRES, request_id, before=before, note=note)
            if alias is not None:
                notify(conn, self._channel, "q:" + alias)
                notify(conn, self._channel, "q:" + request_id)
        return None if alias is None else self.get_request(alias)

    def update_request(self, request_id: str, **fields: Any) -> RequestRow:
        """Change some of :data:`~.dialect.UPDATABLE_FIELDS`; returns the row as stored."""
        fields = request_changes(fields)
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = %s").format(sql.Identifier(name)) for name in fields
        )
        query = sql.SQL("UPDATE requests SET {} WHERE request_id = %s RETURNING {}").format(
            assignments, sql.SQL(REQUEST_COLUMNS)
        )
        with self.transaction() as conn:
            row = conn.execute(query, (*fields.values(), request_id)).fetchone()
            if row is None:
                raise UnknownRequest(f"{self.location}: no request {request_id}")
            notify(conn, self._channel, "q:" + request_id)
        return RequestRow(*row)

    # --- polls ---------------------------------------------------------------------------

    def add_poll(
        self, request_id: str, status: str, *, changed: bool = True, polled_at: float | None = None
    ) -> int:
        when = time.time() if polled_at is None else polled_at
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO polls (request_id, polled_at, status, changed)"
                " VALUES (%s, %s, %s, %s) RETURNING id",
                (request_id, when, status, bool(changed)),
            ).fetchone()
        return int(row[0]) if row else 0

    # --- callbacks and rejections --------------------------------------------------------

    def append_callbacks(self, records: Sequence[CallbackRecord]) -> list[CallbackRecordId]:
        """Store callbacks in one transaction, all or none (the listener uses the writer)."""
        if not records:
            return []
        with self.transaction() as conn:
            lock_appends(conn, self._append_key)
            stored: list[CallbackRecordId] = []
            for result in store_callbacks(conn, records):
                if isinstance(result, JournalRecordError):
                    raise result  # all or nothing: the transaction is rolled back
                stored.append(result)
            notify(conn, self._channel, f"c:{max(r.id for r in stored)}")
        return stored

    def append_rejections(self, records: Sequence[RejectionRecord]) -> list[int]:
        if not records:
            return []
        with self.transaction() as conn:
            lock_appends(conn, self._append_key)
            ids = store_rejections(conn, records)
            notify(conn, self._channel, f"x:{max(ids)}")
        return ids

    # --- totals --------------------------------------------------------------------------

    def counts(self) -> JournalCounts:
        """Totals for a status line (full scans: call it now and then, not per callback)."""

        def read(conn: psycopg.Connection[Row]) -> JournalCounts:
            by_dup: dict[bool, int] = dict(
                conn.execute("SELECT duplicate, count(*) FROM callbacks GROUP BY duplicate")
            )
            rejections = rejection_totals(conn)
            requests: dict[str, int] = dict(
                conn.execute("SELECT state, count(*) FROM requests GROUP BY state")
            )
            return JournalCounts(
                callbacks_accepted=int(by_dup.get(False, 0)),
                callbacks_duplicate=int(by_dup.get(True, 0)),
                rejections={k: int(v) for k, v in rejections.items()},
                requests={k: int(v) for k, v in requests.items()},
            )

        return self._read(read)
