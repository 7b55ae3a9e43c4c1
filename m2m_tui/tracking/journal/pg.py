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

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from m2m_tui.tracking.journal import pg_schema as schema
from m2m_tui.tracking.journal.interface import Target, safe_location
from m2m_tui.tracking.journal.pg_attempts import archive_attempt_pg
from m2m_tui.tracking.journal.pg_queries import (
    BY_ID_TEXT,
    CALLBACK_COLUMNS,
    CALLBACKS_AFTER,
    DEVICE_COLUMNS,
    REJECTION_COLUMNS,
    REJECTIONS_AFTER,
    REQUEST_COLUMNS,
    UNFINISHED,
    request_filter,
)
from m2m_tui.tracking.journal.pg_store import (
    lock_appends,
    notify,
    rejection_totals,
    store_callbacks,
    store_rejections,
)
from m2m_tui.tracking.journal.sqlite import UPDATABLE_FIELDS
from m2m_tui.tracking.records import (
    CallbackRecord,
    CallbackRecordId,
    CallbackRow,
    CompletedBy,
    DeviceRow,
    JournalCounts,
    JournalError,
    JournalRecordError,
    PollRow,
    RejectionRecord,
    RejectionRow,
    RequestAction,
    RequestAlreadyRecorded,
    RequestRow,
    RequestState,
    UnknownRequest,
)
from m2m_tui.tracking.results import ResultTally

log = logging.getLogger(__name__)
Row = tuple[Any, ...]
T = TypeVar("T")


class PgJournal:
    """One journal in a PostgreSQL database; see the module docstring."""

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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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

    def _all(self, query: str | sql.Composed, params: Sequence[Any] = ()) -> list[Row]:
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

    def add_request(
        self,
        request_id: str,
        *,
        action: RequestAction | str,
        account: str,
        target: Target,
        pollable: bool,
        deadline: float,
        expected_results: int | None = None,
        submitted_at: float | None = None,
        state: RequestState | str = RequestState.SUBMITTED,
        profile: str | None = None,
    ) -> RequestRow:
        """Record a request the moment its requestId is known; raises JournalError if known."""
        action = RequestAction(action)
        state = RequestState(state)
        now = time.time()
        row = (
            request_id,
            action.value,
            account,
            json.dumps(target, separators=(",", ":")),
            expected_results,
            bool(pollable),
            now if submitted_at is None else submitted_at,
            state.value,
            None,
            deadline,
            now,
            None,
            None,
            profile,
        )
        with self.transaction() as conn:
            inserted = conn.execute(
                f"INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ({', '.join(['%s'] * 14)})"
                " ON CONFLICT (request_id) DO NOTHING RETURNING request_id",
                row,
            ).fetchone()
            if inserted is not None:
                notify(conn, self._channel, "q:" + request_id)
        if inserted is None:  # the tracker decides: the same request, or a new attempt
            raise RequestAlreadyRecorded(self.location, self.get_request(request_id))
        return RequestRow(*row)

    def supersede_request(self, request_id: str, *, before: float, note: str) -> RequestRow | None:
        """Move the recorded ``request_id`` aside in one transaction (:mod:`.sqlite_attempts`)."""
        with self.transaction() as conn:
            lock_appends(conn, self._append_key)  # no callback lands for the id mid-move
            alias = archive_attempt_pg(conn, request_id, before=before, note=note)
            if alias is not None:
                notify(conn, self._channel, "q:" + alias)
                notify(conn, self._channel, "q:" + request_id)
        return None if alias is None else self.get_request(alias)

    def update_request(self, request_id: str, **fields: Any) -> RequestRow:
        """Change some of :data:`.sqlite.UPDATABLE_FIELDS`; returns the row as stored."""
        unknown = set(fields) - UPDATABLE_FIELDS
        if unknown:
            raise ValueError(f"cannot update request field(s): {', '.join(sorted(unknown))}")
        if "state" in fields:
            fields["state"] = RequestState(fields["state"]).value
        if fields.get("completed_by") is not None:
            fields["completed_by"] = CompletedBy(fields["completed_by"]).value
        if "pollable" in fields:
            fields["pollable"] = bool(fields["pollable"])
        fields["updated_at"] = time.time()
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

    def get_request(self, request_id: str) -> RequestRow | None:
        rows = self._all(
            f"SELECT {REQUEST_COLUMNS} FROM requests WHERE request_id = %s", (request_id,)
        )
        return RequestRow(*rows[0]) if rows else None

    def list_requests(
        self,
        states: Iterable[RequestState | str] | None = None,
        limit: int = 50,
        offset: int = 0,
        text: str | None = None,
    ) -> list[RequestRow]:
        """One page of requests, newest first; ``text`` matches id, account, action, devices."""
        where, params = request_filter(states, text)
        rows = self._all(
            f"SELECT {REQUEST_COLUMNS} FROM requests{where}"
            f" ORDER BY submitted_at DESC, {BY_ID_TEXT} LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        return [RequestRow(*row) for row in rows]

    def count_requests(
        self, states: Iterable[RequestState | str] | None = None, text: str | None = None
    ) -> int:
        where, params = request_filter(states, text)
        return int(self._all(f"SELECT count(*) FROM requests{where}", params)[0][0])

    def unfinished_requests(self) -> list[RequestRow]:
        """Requests still submitted, pending or partial, oldest first: what to resume."""
        rows = self._all(
            f"SELECT {REQUEST_COLUMNS} FROM requests WHERE state = ANY(%s)"
            f" ORDER BY submitted_at, {BY_ID_TEXT}",
            (UNFINISHED,),
        )
        return [RequestRow(*row) for row in rows]

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

    def polls_for(self, request_id: str) -> list[PollRow]:
        rows = self._all(
            "SELECT id, request_id, polled_at, status, changed FROM polls"
            " WHERE request_id = %s ORDER BY id",
            (request_id,),
        )
        return [PollRow(*row) for row in rows]

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

    def callbacks_for(self, request_id: str) -> list[CallbackRow]:
        """Every callback of a request, duplicates included, in arrival order."""
        rows = self._all(
            f"SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE request_id = %s ORDER BY id",
            (request_id,),
        )
        return [CallbackRow(*row) for row in rows]

    def callbacks_about(
        self, device_keys: Sequence[str], since: float, limit: int = 100
    ) -> list[CallbackRow]:
        """Non-duplicate callbacks naming one of ``device_keys`` received at or after ``since``."""
        if not device_keys:
            return []
        rows = self._all(
            f"SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE received_at >= %s"
            " AND device_key = ANY(%s) AND NOT duplicate ORDER BY id LIMIT %s",
            (since, list(device_keys), limit),
        )
        return [CallbackRow(*row) for row in rows]

    def recent_callbacks(self, limit: int = 100, after_id: int | None = None) -> list[CallbackRow]:
        """Callbacks in id order: the last ``limit`` ones, or the first ``limit`` after ``after_id``."""
        if after_id is None:
            rows = self._all(
                f"SELECT * FROM (SELECT {CALLBACK_COLUMNS} FROM callbacks ORDER BY id DESC"
                " LIMIT %s) AS last ORDER BY id",
                (limit,),
            )
        else:
            rows = self._all(CALLBACKS_AFTER, (after_id, limit))
        return [CallbackRow(*row) for row in rows]

    def result_counts(self, request_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(devices answered, of which failed) per request, by the tracker's rule."""
        tallies = {rid: ResultTally() for rid in request_ids}
        if request_ids:
            rows = self._all(
                "SELECT request_id, id, kind, device_key FROM callbacks"
                " WHERE request_id = ANY(%s) AND NOT duplicate AND kind <> 'completion'"
                " ORDER BY id",
                (list(request_ids),),
            )
            for request_id, record_id, kind, key in rows:
                tallies[request_id].add(record_id, kind, key, False)
        return {rid: tally.counts() for rid, tally in tallies.items()}

    def callback(self, record_id: int) -> CallbackRow | None:
        rows = self._all(f"SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE id = %s", (record_id,))
        return CallbackRow(*rows[0]) if rows else None

    def callbacks_before(self, before_id: int, limit: int = 100) -> list[CallbackRow]:
        rows = self._all(
            f"SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE id < %s ORDER BY id DESC LIMIT %s",
            (before_id, limit),
        )
        return [CallbackRow(*row) for row in rows]

    def last_callback_id(self) -> int:
        return int(self._all("SELECT coalesce(max(id), 0) FROM callbacks")[0][0])

    def rejections(self, limit: int = 100, after_id: int | None = None) -> list[RejectionRow]:
        if after_id is None:
            rows = self._all(
                f"SELECT * FROM (SELECT {REJECTION_COLUMNS} FROM rejections ORDER BY id DESC"
                " LIMIT %s) AS last ORDER BY id",
                (limit,),
            )
        else:
            rows = self._all(REJECTIONS_AFTER, (after_id, limit))
        return [RejectionRow(*row) for row in rows]

    def rejections_before(self, before_id: int, limit: int = 100) -> list[RejectionRow]:
        rows = self._all(
            f"SELECT {REJECTION_COLUMNS} FROM rejections WHERE id < %s ORDER BY id DESC LIMIT %s",
            (before_id, limit),
        )
        return [RejectionRow(*row) for row in rows]

    # --- devices -------------------------------------------------------------------------

    def add_device_lookup(
        self,
        account: str,
        kind: str,
        device_id: str,
        *,
        label: str | None = None,
        summary: Mapping[str, Any] | None = None,
        looked_up_at: float | None = None,
    ) -> None:
        """Remember a device someone looked at (one row per device, refreshed each time)."""
        summary_json = None if summary is None else json.dumps(summary, separators=(",", ":"))
        when = time.time() if looked_up_at is None else looked_up_at
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO devices ({DEVICE_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, 1)"
                " ON CONFLICT (account, kind, device_id) DO UPDATE SET"
                " label = coalesce(excluded.label, devices.label),"
                " summary = coalesce(excluded.summary, devices.summary),"
                " looked_up_at = excluded.looked_up_at, lookups = devices.lookups + 1",
                (account, kind.lower(), device_id, label, summary_json, when),
            )

    def recent_devices(self, limit: int = 20) -> list[DeviceRow]:
        rows = self._all(
            f"SELECT {DEVICE_COLUMNS} FROM devices ORDER BY looked_up_at DESC LIMIT %s",
            (limit,),
        )
        return [DeviceRow(*row) for row in rows]

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
