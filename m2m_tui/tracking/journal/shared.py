"""The journal's reads, recording a request and a device lookup, written once for both
backends in their :class:`~.dialect.Dialect`.

Each backend supplies ``_all`` (run a query, fetch every row: the sqlite journal guards its
errors, the PostgreSQL one retries a broken connection), ``_insert_request`` (its INSERT, and
PostgreSQL's NOTIFY), ``transaction`` and its dialect; the SQL and the rows it returns are the same on both,
so the behaviour tests (run on both) hold them to one meaning.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self

from m2m_tui.tracking.journal.dialect import (
    CALLBACK_COLUMNS,
    DEVICE_COLUMNS,
    POLL_COLUMNS,
    REJECTION_COLUMNS,
    REQUEST_COLUMNS,
    UNFINISHED,
    Dialect,
    new_request,
    request_filter,
    request_row,
)
from m2m_tui.tracking.journal.interface import Target
from m2m_tui.tracking.records import (
    CallbackRow,
    DeviceRow,
    PollRow,
    RejectionRow,
    RequestAction,
    RequestAlreadyRecorded,
    RequestRow,
    RequestState,
)
from m2m_tui.tracking.results import ResultTally

Row = tuple[Any, ...]
#: Ids per ``result_counts`` query (sqlite's default limit on parameters is far above).
_CHUNK = 500


def callback_row(row: Row) -> CallbackRow:
    """A stored callback as the journal returns it (sqlite keeps ``duplicate`` as 0/1)."""
    values = list(row)
    values[8] = bool(values[8])
    return CallbackRow(*values)


@dataclass(frozen=True, slots=True)
class ReadSql:
    """The fixed reads in one dialect, built once per backend class rather than per call."""

    request: str
    unfinished: str
    unfinished_params: tuple[Any, ...]
    page: str
    polls: str
    callbacks_for: str
    callback: str
    callbacks_before: str
    callbacks_last: str
    #: Callbacks / rejections after an id, in id order (also the follower's catch-up).
    callbacks_after: str
    rejections_last: str
    rejections_after: str
    rejections_before: str
    devices: str
    device_lookup: str

    @classmethod
    def of(cls, d: Dialect) -> ReadSql:
        p = d.param
        unfinished, params = d.one_of("state", UNFINISHED)
        callbacks = f"SELECT {CALLBACK_COLUMNS} FROM callbacks"
        rejections = f"SELECT {REJECTION_COLUMNS} FROM rejections"
        return cls(
            request=f"SELECT {REQUEST_COLUMNS} FROM requests WHERE request_id = {p}",
            unfinished=f"SELECT {REQUEST_COLUMNS} FROM requests WHERE {unfinished}"
            f" ORDER BY submitted_at, {d.by_id}",
            unfinished_params=tuple(params),
            page=f" ORDER BY submitted_at DESC, {d.by_id} LIMIT {p} OFFSET {p}",
            polls=f"SELECT {POLL_COLUMNS} FROM polls WHERE request_id = {p} ORDER BY id",
            callbacks_for=f"{callbacks} WHERE request_id = {p} ORDER BY id",
            callback=f"{callbacks} WHERE id = {p}",
            callbacks_before=f"{callbacks} WHERE id < {p} ORDER BY id DESC LIMIT {p}",
            callbacks_last=f"SELECT * FROM ({callbacks} ORDER BY id DESC LIMIT {p}) AS last"
            " ORDER BY id",
            callbacks_after=f"{callbacks} WHERE id > {p} ORDER BY id LIMIT {p}",
            rejections_last=f"SELECT * FROM ({rejections} ORDER BY id DESC LIMIT {p}) AS last"
            " ORDER BY id",
            rejections_after=f"{rejections} WHERE id > {p} ORDER BY id LIMIT {p}",
            rejections_before=f"{rejections} WHERE id < {p} ORDER BY id DESC LIMIT {p}",
            devices=f"SELECT {DEVICE_COLUMNS} FROM devices ORDER BY looked_up_at DESC LIMIT {p}",
            device_lookup=f"INSERT INTO devices ({DEVICE_COLUMNS}) VALUES ({d.values(6)}, 1)"
            " ON CONFLICT (account, kind, device_id) DO UPDATE SET"
            " label = coalesce(excluded.label, devices.label),"
            " summary = coalesce(excluded.summary, devices.summary),"
            " looked_up_at = excluded.looked_up_at, lookups = devices.lookups + 1",
        )


class SharedJournal:
    """Every read of :class:`~.interface.JournalReader` but ``counts``, ``add_request`` and
    ``add_device_lookup``, on either backend."""

    _dialect: ClassVar[Dialect]
    _sql: ClassVar[ReadSql]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._sql = ReadSql.of(cls._dialect)

    @property
    def location(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _all(self, query: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    def _insert_request(self, row: Row) -> bool:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

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
        submitted_by: str | None = None,
    ) -> RequestRow:
        """Record a request the moment its requestId is known; raises RequestAlreadyRecorded
        (with the recorded row: the tracker decides, the same request or a new attempt)."""
        row = new_request(
            request_id,
            action=action,
            account=account,
            target=target,
            pollable=pollable,
            deadline=deadline,
            expected_results=expected_results,
            submitted_at=submitted_at,
            state=state,
            profile=profile,
            submitted_by=submitted_by,
        )
        if not self._insert_request(row):
            raise RequestAlreadyRecorded(self.location, self.get_request(request_id))
        return RequestRow(*row)

    def get_request(self, request_id: str) -> RequestRow | None:
        rows = self._all(self._sql.request, (request_id,))
        return request_row(rows[0]) if rows else None

    def list_requests(
        self,
        states: Iterable[RequestState | str] | None = None,
        limit: int = 50,
        offset: int = 0,
        text: str | None = None,
        submitted_by: str | None = None,
    ) -> list[RequestRow]:
        """One page of requests, newest first; ``text`` matches id, account, action, devices;
        ``submitted_by`` keeps one engineer's (``user@host``)."""
        where, params = request_filter(self._dialect, states, text, submitted_by)
        rows = self._all(
            f"SELECT {REQUEST_COLUMNS} FROM requests{where}{self._sql.page}",
            [*params, limit, offset],
        )
        return [request_row(row) for row in rows]

    def count_requests(
        self,
        states: Iterable[RequestState | str] | None = None,
        text: str | None = None,
        submitted_by: str | None = None,
    ) -> int:
        """How many requests :meth:`list_requests` would page through."""
        where, params = request_filter(self._dialect, states, text, submitted_by)
        return int(self._all(f"SELECT count(*) FROM requests{where}", params)[0][0])

    def unfinished_requests(self) -> list[RequestRow]:
        """Requests still submitted, pending or partial, oldest first: what to resume."""
        rows = self._all(self._sql.unfinished, self._sql.unfinished_params)
        return [request_row(row) for row in rows]

    # --- polls ---------------------------------------------------------------------------

    def polls_for(self, request_id: str) -> list[PollRow]:
        rows = self._all(self._sql.polls, (request_id,))
        return [PollRow(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    # --- callbacks and rejections --------------------------------------------------------

    def callbacks_for(self, request_id: str) -> list[CallbackRow]:
        """Every callback of a request, duplicates included, in arrival order."""
        rows = self._all(self._sql.callbacks_for, (request_id,))
        return [callback_row(row) for row in rows]

    def callbacks_about(
        self, device_keys: Sequence[str], since: float, limit: int = 100
    ) -> list[CallbackRow]:
        """Non-duplicate callbacks naming one of ``device_keys`` received at or after ``since``,
        in arrival order (by the received_at index: a time window, not the whole table)."""
        if not device_keys:
            return []
        d = self._dialect
        keys, params = d.one_of("device_key", device_keys)
        rows = self._all(
            f"SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE received_at >= {d.param}"
            f" AND {keys} AND NOT duplicate ORDER BY id LIMIT {d.param}",
            [since, *params, limit],
        )
        return [callback_row(row) for row in rows]

    def recent_callbacks(self, limit: int = 100, after_id: int | None = None) -> list[CallbackRow]:
        """Callbacks in id order: the last ``limit`` ones, or the first ``limit`` after ``after_id``.

        To follow a journal another process writes, pass the last id seen as ``after_id``.
        """
        if after_id is None:
            rows = self._all(self._sql.callbacks_last, (limit,))
        else:
            rows = self._all(self._sql.callbacks_after, (after_id, limit))
        return [callback_row(row) for row in rows]

    def result_counts(self, request_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(devices answered, of which failed) per request, the tracker's rule (the latest
        non-duplicate result per device), without reading any body: for list views."""
        tallies = {rid: ResultTally() for rid in request_ids}
        for start in range(0, len(request_ids), _CHUNK):
            ids, params = self._dialect.one_of("request_id", request_ids[start : start + _CHUNK])
            rows = self._all(
                f"SELECT request_id, id, kind, device_key FROM callbacks WHERE {ids}"
                " AND NOT duplicate AND kind <> 'completion' ORDER BY id",
                params,
            )
            for request_id, record_id, kind, key in rows:
                tallies[request_id].add(record_id, kind, key, False)
        return {rid: tally.counts() for rid, tally in tallies.items()}

    def callback(self, record_id: int) -> CallbackRow | None:
        """One callback by its id (a primary-key lookup)."""
        rows = self._all(self._sql.callback, (record_id,))
        return callback_row(rows[0]) if rows else None

    def callbacks_before(self, before_id: int, limit: int = 100) -> list[CallbackRow]:
        """The ``limit`` callbacks just older than ``before_id``, newest first (paging back)."""
        rows = self._all(self._sql.callbacks_before, (before_id, limit))
        return [callback_row(row) for row in rows]

    def last_callback_id(self) -> int:
        """The newest callback id (0 when none): where a follower starts."""
        return int(self._all("SELECT coalesce(max(id), 0) FROM callbacks")[0][0])

    def rejections(self, limit: int = 100, after_id: int | None = None) -> list[RejectionRow]:
        """Rejections in id order, with the same ``limit``/``after_id`` rules as callbacks."""
        if after_id is None:
            rows = self._all(self._sql.rejections_last, (limit,))
        else:
            rows = self._all(self._sql.rejections_after, (after_id, limit))
        return [RejectionRow(*row) for row in rows]

    def rejections_before(self, before_id: int, limit: int = 100) -> list[RejectionRow]:
        """The ``limit`` rejections just older than ``before_id``, newest first."""
        rows = self._all(self._sql.rejections_before, (before_id, limit))
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
                self._sql.device_lookup,
                (account, kind.lower(), device_id, label, summary_json, when),
            )

    def recent_devices(self, limit: int = 20) -> list[DeviceRow]:
        """Devices looked up, most recent first."""
        rows = self._all(self._sql.devices, (limit,))
        return [DeviceRow(*row) for row in rows]
