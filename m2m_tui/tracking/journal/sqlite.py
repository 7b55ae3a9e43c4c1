"""The journal: one durable timeline of requests, polls, callbacks, rejections and lookups.

A :class:`Journal` wraps one sqlite connection and is used from one thread (the tracker on the
event loop, where each indexed query or request update takes well under a millisecond; an
export; a reader following another process). Several processes may open the
same file: one writer (the listener, through :class:`~m2m_tui.tracking.journal.sqlite_writer.JournalWriter`,
plus the tracker's request rows) and any number of ``readonly=True`` readers, which never block
the writer in WAL mode.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from m2m_tui.tracking.journal import sqlite_schema
from m2m_tui.tracking.journal.callbacks import (
    account_rejections,
    insert_rejection,
    rejection_totals,
    store_callbacks,
)
from m2m_tui.tracking.records import (
    UNFINISHED_STATES,
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

_REQUEST_COLUMNS = (
    "request_id, action, account, target, expected_results, pollable, submitted_at, state,"
    " completed_by, deadline, updated_at, last_error_code, last_error_message, profile"
)
_CALLBACK_COLUMNS = (
    "id, received_at, request_id, kind, device_key, body, body_hash, callback_count,"
    " duplicate, verdict, source"
)
_REJECTION_COLUMNS = "id, received_at, reason, detail, source, excerpt"
_DEVICE_COLUMNS = "account, kind, device_id, label, summary, looked_up_at, lookups"
#: Request fields the tracker may change after submission (``updated_at`` is set for it).
UPDATABLE_FIELDS = frozenset(
    {
        "state",
        "completed_by",
        "deadline",
        "expected_results",
        "pollable",
        "last_error_code",
        "last_error_message",
        "profile",
    }
)
_UNFINISHED = tuple(sorted(state.value for state in UNFINISHED_STATES))

Target = Sequence[Mapping[str, Any]] | Mapping[str, Any]


def _request(row: tuple[Any, ...]) -> RequestRow:
    values = list(row)
    values[5] = bool(values[5])
    return RequestRow(*values)


def _callback(row: tuple[Any, ...]) -> CallbackRow:
    values = list(row)
    values[8] = bool(values[8])
    return CallbackRow(*values)


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


class Journal:
    """One connection to a journal file; see the module docstring for who uses which."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
        self._conn = conn
        self._path = path
        self._readonly = readonly

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        readonly: bool = False,
        synchronous: sqlite_schema.Synchronous = "NORMAL",
        busy_timeout: float = 5.0,
        check_same_thread: bool = True,
        create: bool = True,
        group_readable: bool = False,
    ) -> Journal:
        """Open, creating or migrating as needed; refuse anything that is not a journal.

        ``synchronous="NORMAL"`` (the default) in WAL mode survives a crash of the process
        (SIGKILL included) but a power loss may drop the last commits; ``"FULL"`` syncs the
        WAL on every commit and survives that too, at a cost per commit. ``create=False``
        refuses a path without a journal; a new one is created 0600 (0640 ``group_readable``).
        """
        conn = sqlite_schema.connect(
            path,
            readonly=readonly,
            synchronous=synchronous,
            busy_timeout=busy_timeout,
            check_same_thread=check_same_thread,
            create=create,
            group_readable=group_readable,
        )
        return cls(conn, Path(path), readonly=readonly)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def readonly(self) -> bool:
        return self._readonly

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection, for the writer thread and tests; do not share it."""
        return self._conn

    @property
    def location(self) -> str:
        """The path as text (the journal interface's safe name; a path holds no secret)."""
        return str(self._path)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn sqlite errors into JournalError naming the file (damage found late, disk full)."""
        try:
            yield
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise JournalError(f"{self._path}: cannot {action} ({exc})") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any error)."""
        with self._guard("write"):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._guard("read"):
            return self._conn.execute(sql, tuple(params)).fetchall()

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
            int(pollable),
            now if submitted_at is None else submitted_at,
            state.value,
            None,
            deadline,
            now,
            None,
            None,
            profile,
        )
        try:
            with self.transaction() as conn:
                conn.execute(
                    f"INSERT INTO requests ({_REQUEST_COLUMNS}) VALUES ({_placeholders(14)})", row
                )
        except sqlite3.IntegrityError as exc:
            raise RequestAlreadyRecorded(self._path, self.get_request(request_id)) from exc
        return _request(row)

    def update_request(self, request_id: str, **fields: Any) -> RequestRow:
        """Change some of :data:`UPDATABLE_FIELDS`; returns the row as stored afterwards."""
        unknown = set(fields) - UPDATABLE_FIELDS
        if unknown:
            raise ValueError(f"cannot update request field(s): {', '.join(sorted(unknown))}")
        if "state" in fields:
            fields["state"] = RequestState(fields["state"]).value
        if fields.get("completed_by") is not None:
            fields["completed_by"] = CompletedBy(fields["completed_by"]).value
        if "pollable" in fields:
            fields["pollable"] = int(bool(fields["pollable"]))
        fields["updated_at"] = time.time()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE requests SET {assignments} WHERE request_id = ?",
                (*fields.values(), request_id),
            )
            if cursor.rowcount == 0:
                raise UnknownRequest(f"{self._path}: no request {request_id}")
            row = conn.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE request_id = ?", (request_id,)
            ).fetchone()
        return _request(row)

    def get_request(self, request_id: str) -> RequestRow | None:
        rows = self._all(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE request_id = ?", (request_id,)
        )
        return _request(rows[0]) if rows else None

    def _request_filter(
        self, states: Iterable[RequestState | str] | None, text: str | None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if states is not None:
            values = [RequestState(state).value for state in states]
            if not values:
                return " WHERE 0", []
            clauses.append(f"state IN ({_placeholders(len(values))})")
            params.extend(values)
        if text:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            columns = ("request_id", "account", "action", "target", "profile")
            clauses.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns) + ")")
            params.extend([pattern] * len(columns))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def list_requests(
        self,
        states: Iterable[RequestState | str] | None = None,
        limit: int = 50,
        offset: int = 0,
        text: str | None = None,
    ) -> list[RequestRow]:
        """One page of requests, newest first; ``text`` matches id, account, action, devices."""
        where, params = self._request_filter(states, text)
        rows = self._all(
            f"SELECT {_REQUEST_COLUMNS} FROM requests{where}"
            " ORDER BY submitted_at DESC, request_id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [_request(row) for row in rows]

    def count_requests(
        self, states: Iterable[RequestState | str] | None = None, text: str | None = None
    ) -> int:
        """How many requests :meth:`list_requests` would page through."""
        where, params = self._request_filter(states, text)
        return int(self._all(f"SELECT count(*) FROM requests{where}", params)[0][0])

    def unfinished_requests(self) -> list[RequestRow]:
        """Requests still submitted, pending or partial, oldest first: what to resume."""
        rows = self._all(
            f"SELECT {_REQUEST_COLUMNS} FROM requests"
            f" WHERE state IN ({_placeholders(len(_UNFINISHED))}) ORDER BY submitted_at",
            _UNFINISHED,
        )
        return [_request(row) for row in rows]

    # --- polls ---------------------------------------------------------------------------

    def add_poll(
        self, request_id: str, status: str, *, changed: bool = True, polled_at: float | None = None
    ) -> int:
        """Record a poll result (callers write only the ones that changed something)."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO polls (request_id, polled_at, status, changed) VALUES (?, ?, ?, ?)",
                (request_id, time.time() if polled_at is None else polled_at, status, int(changed)),
            )
        return int(cursor.lastrowid or 0)

    def polls_for(self, request_id: str) -> list[PollRow]:
        rows = self._all(
            "SELECT id, request_id, polled_at, status, changed FROM polls"
            " WHERE request_id = ? ORDER BY id",
            (request_id,),
        )
        return [PollRow(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    # --- callbacks and rejections --------------------------------------------------------

    def append_callbacks(self, records: Sequence[CallbackRecord]) -> list[CallbackRecordId]:
        """Store callbacks in one transaction, all or none (the listener uses JournalWriter)."""
        with self.transaction() as conn:
            stored: list[CallbackRecordId] = []
            for result in store_callbacks(conn, records):
                if isinstance(result, JournalRecordError):
                    raise result  # all or nothing: the transaction is rolled back
                stored.append(result)
        return stored

    def append_rejections(self, records: Sequence[RejectionRecord]) -> list[int]:
        with self.transaction() as conn:
            ids = [insert_rejection(conn, record) for record in records]
            account_rejections(conn, [record.reason for record in records])
        return ids

    def callbacks_for(self, request_id: str) -> list[CallbackRow]:
        """Every callback of a request, duplicates included, in arrival order."""
        rows = self._all(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE request_id = ? ORDER BY id",
            (request_id,),
        )
        return [_callback(row) for row in rows]

    def callbacks_about(
        self, device_keys: Sequence[str], since: float, limit: int = 100
    ) -> list[CallbackRow]:
        """Non-duplicate callbacks naming one of ``device_keys`` received at or after ``since``,
        in arrival order (by the received_at index: a time window, not the whole table)."""
        if not device_keys:
            return []
        rows = self._all(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE received_at >= ?"
            f" AND device_key IN ({_placeholders(len(device_keys))}) AND duplicate = 0"
            " ORDER BY id LIMIT ?",
            [since, *device_keys, limit],
        )
        return [_callback(row) for row in rows]

    def recent_callbacks(self, limit: int = 100, after_id: int | None = None) -> list[CallbackRow]:
        """Callbacks in id order: the last ``limit`` ones, or the first ``limit`` after ``after_id``.

        To follow a journal another process writes, pass the last id seen as ``after_id``.
        """
        if after_id is None:
            sql = f"SELECT * FROM (SELECT {_CALLBACK_COLUMNS} FROM callbacks ORDER BY id DESC LIMIT ?) ORDER BY id"
            rows = self._all(sql, (limit,))
        else:
            rows = self._all(
                f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            )
        return [_callback(row) for row in rows]

    def result_counts(self, request_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(devices answered, of which failed) per request, the tracker's rule (the latest
        non-duplicate result per device), without reading any body: for list views."""
        tallies = {rid: ResultTally() for rid in request_ids}
        for start in range(0, len(request_ids), 500):
            chunk = list(request_ids[start : start + 500])
            rows = self._all(
                "SELECT request_id, id, kind, device_key FROM callbacks"
                f" WHERE request_id IN ({_placeholders(len(chunk))})"
                " AND duplicate = 0 AND kind != 'completion' ORDER BY id",
                chunk,
            )
            for request_id, record_id, kind, key in rows:
                tallies[request_id].add(record_id, kind, key, False)
        return {rid: tally.counts() for rid, tally in tallies.items()}

    def callback(self, record_id: int) -> CallbackRow | None:
        """One callback by its id (a primary-key lookup)."""
        rows = self._all(f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE id = ?", (record_id,))
        return _callback(rows[0]) if rows else None

    def callbacks_before(self, before_id: int, limit: int = 100) -> list[CallbackRow]:
        """The ``limit`` callbacks just older than ``before_id``, newest first (paging back)."""
        rows = self._all(
            f"SELECT {_CALLBACK_COLUMNS} FROM callbacks WHERE id < ? ORDER BY id DESC LIMIT ?",
            (before_id, limit),
        )
        return [_callback(row) for row in rows]

    def last_callback_id(self) -> int:
        """The newest callback id (0 when none): where a follower starts."""
        return int(self._all("SELECT coalesce(max(id), 0) FROM callbacks")[0][0])

    def rejections(self, limit: int = 100, after_id: int | None = None) -> list[RejectionRow]:
        """Rejections in id order, with the same ``limit``/``after_id`` rules as callbacks."""
        if after_id is None:
            sql = f"SELECT * FROM (SELECT {_REJECTION_COLUMNS} FROM rejections ORDER BY id DESC LIMIT ?) ORDER BY id"
            rows = self._all(sql, (limit,))
        else:
            rows = self._all(
                f"SELECT {_REJECTION_COLUMNS} FROM rejections WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            )
        return [RejectionRow(*row) for row in rows]

    def rejections_before(self, before_id: int, limit: int = 100) -> list[RejectionRow]:
        """The ``limit`` rejections just older than ``before_id``, newest first."""
        rows = self._all(
            f"SELECT {_REJECTION_COLUMNS} FROM rejections WHERE id < ? ORDER BY id DESC LIMIT ?",
            (before_id, limit),
        )
        return [RejectionRow(*row) for row in rows]

    # --- devices -------------------------------------------------------------------------

    def supersede_request(self, request_id: str, *, before: float, note: str) -> RequestRow | None:
        """Move the recorded ``request_id`` aside (:mod:`.sqlite_attempts`); the moved row."""
        from m2m_tui.tracking.journal.sqlite_attempts import supersede_request

        return supersede_request(self, request_id, before=before, note=note)

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
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO devices ({_DEVICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 1)"
                " ON CONFLICT (account, kind, device_id) DO UPDATE SET"
                " label = coalesce(excluded.label, label),"
                " summary = coalesce(excluded.summary, summary),"
                " looked_up_at = excluded.looked_up_at, lookups = lookups + 1",
                (
                    account,
                    kind.lower(),
                    device_id,
                    label,
                    summary_json,
                    time.time() if looked_up_at is None else looked_up_at,
                ),
            )

    def recent_devices(self, limit: int = 20) -> list[DeviceRow]:
        """Devices looked up, most recent first."""
        rows = self._all(
            f"SELECT {_DEVICE_COLUMNS} FROM devices ORDER BY looked_up_at DESC LIMIT ?", (limit,)
        )
        return [DeviceRow(*row) for row in rows]

    # --- totals --------------------------------------------------------------------------

    def counts(self) -> JournalCounts:
        """Totals for a status line (full scans: call it now and then, not per callback)."""
        by_dup = dict(self._all("SELECT duplicate, count(*) FROM callbacks GROUP BY duplicate"))
        with self._guard("read"):
            rejections = rejection_totals(self._conn)
        requests = dict(self._all("SELECT state, count(*) FROM requests GROUP BY state"))
        return JournalCounts(
            callbacks_accepted=int(by_dup.get(0, 0)),
            callbacks_duplicate=int(by_dup.get(1, 0)),
            rejections=rejections,
            requests=requests,
        )
