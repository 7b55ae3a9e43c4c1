"""The only code the UI uses to read the journal: requests, one request, the inbox, devices.

:class:`JournalQueries` is bound to one journal file. Every method runs its read in a worker
thread (never on the event loop) through one shared read-only connection and returns plain
frozen values: no pydantic model, no connection, nothing a screen could write through.

The account's callback registrations (an API read, not the journal) are read by
:func:`m2m_tui.desk.queries.registration.read_registrations` for the same view.

Importing this package is cheap (the app builds its queries before the first paint): the
journal and the value types are imported when first used.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from m2m_tui.desk.queries.devices import RecentDevices
from m2m_tui.desk.queries.reader import JournalReader

if TYPE_CHECKING:
    from m2m_tui.desk.queries.inbox import InboxBatch, InboxMarks
    from m2m_tui.desk.queries.requests import (
        UNFINISHED,
        DeviceOutcome,
        RequestDetail,
        RequestsPage,
        RequestsQuery,
        device_label,
        outcomes,
        request_matches,
    )
    from m2m_tui.desk.times import Times
    from m2m_tui.tracking.inbox_rows import InboxEntry
    from m2m_tui.tracking.journal.interface import JournalStore, Location
    from m2m_tui.tracking.records import CallbackRow, RequestSummary

__all__ = [
    "UNFINISHED",
    "DeviceOutcome",
    "InboxBatch",
    "InboxMarks",
    "JournalQueries",
    "RecentDevices",
    "RequestDetail",
    "RequestSummary",
    "RequestsPage",
    "RequestsQuery",
    "callbacks_about",
    "device_label",
    "outcomes",
    "request_matches",
]

_LAZY = {
    "InboxBatch": "inbox",
    "InboxMarks": "inbox",
    **dict.fromkeys(
        (
            "UNFINISHED",
            "DeviceOutcome",
            "RequestDetail",
            "RequestsPage",
            "RequestsQuery",
            "device_label",
            "outcomes",
            "request_matches",
        ),
        "requests",
    ),
}

T = TypeVar("T")


def __getattr__(name: str) -> Any:
    """The value types, imported on first use (PEP 562)."""
    if name == "RequestSummary":  # one shape for every reader: the tracker's
        return importlib.import_module("m2m_tui.tracking.records").RequestSummary
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def callbacks_about(path: Location, device_keys: Iterable[str], since: float) -> list[CallbackRow]:
    """Thread side, for a caller already in a worker thread: :meth:`JournalQueries.callbacks_about`
    through a connection of its own (closed before returning)."""
    keys = sorted(set(device_keys))
    reader = JournalReader(path)
    try:
        rows: list[CallbackRow] = reader.run(lambda j: j.callbacks_about(keys, since), [])
    finally:
        reader.close()
    return rows


class JournalQueries:
    """The journal reads of one app, each in a thread; see the module docstring."""

    def __init__(self, path: Location) -> None:
        self.path = path
        self._reader = JournalReader(path)

    async def _read(self, read: Callable[[JournalStore], T], empty: T) -> T:
        return await asyncio.to_thread(self._reader.run, read, empty)

    # ------------------------------------------------------------------ requests

    async def requests_page(self, query: RequestsQuery) -> RequestsPage:
        """One page, newest first, with result counts; an unreadable journal is ``error``."""
        from m2m_tui.desk.queries.requests import RequestsPage, read_page
        from m2m_tui.tracking.records import JournalError

        try:
            return await self._read(partial(read_page, query=query), RequestsPage(query, (), 0))
        except JournalError as exc:
            return RequestsPage(query, (), 0, str(exc))

    async def request_detail(self, request_id: str) -> RequestDetail:
        """The request, its polls, callbacks and per-device outcomes (faults decoded)."""
        from m2m_tui.desk.queries.requests import RequestDetail, read_detail
        from m2m_tui.tracking.records import JournalError

        try:
            return await self._read(
                partial(read_detail, request_id=request_id), RequestDetail(request_id)
            )
        except JournalError as exc:
            return RequestDetail(request_id, error=str(exc))

    async def export_text(
        self, fmt: str, request_id: str, times: Times | None = None, diagnoses: bool = True
    ) -> str:
        """One request as JSON, CSV or Markdown; raises JournalError without a journal."""
        from m2m_tui.desk.queries.requests import export_text
        from m2m_tui.tracking.records import JournalError

        missing = f"{self.path}: no journal here yet (nothing to export)"
        read = partial(
            export_text, fmt=fmt, request_id=request_id, times=times, diagnoses=diagnoses
        )
        text = await self._read(read, missing)
        if text is missing:
            raise JournalError(missing)
        return text

    async def callbacks_about(self, device_keys: Iterable[str], since: float) -> list[CallbackRow]:
        """Non-duplicate callbacks naming one of ``device_keys`` since ``since`` (arrival order)."""
        keys = sorted(set(device_keys))
        rows: list[CallbackRow] = await self._read(
            lambda journal: journal.callbacks_about(keys, since), []
        )
        return rows

    # ------------------------------------------------------------------ inbox

    async def inbox_latest(self, marks: InboxMarks, limit: int) -> InboxBatch:
        """The newest window of callbacks and rejections; ``marks`` start again from it."""
        from m2m_tui.desk.queries.inbox import InboxBatch, read_latest

        batch = await self._read(
            partial(read_latest, limit=limit, known=marks.known()), InboxBatch()
        )
        marks.reset()
        return marks.take(batch, newer=True)

    async def inbox_newer(self, marks: InboxMarks, limit: int) -> InboxBatch:
        """What arrived past ``marks`` (the newest ``limit`` of each kind), not held yet."""
        from m2m_tui.desk.queries.inbox import InboxBatch, read_after

        read = partial(
            read_after,
            last_callback=marks.last_callback,
            last_rejection=marks.last_rejection,
            limit=limit,
            known=marks.known(),
        )
        return marks.take(await self._read(read, InboxBatch()), newer=True)

    async def inbox_older(self, marks: InboxMarks, page: int) -> InboxBatch:
        """The page just older than ``marks``, newest first (``marks.exhausted`` when none)."""
        from m2m_tui.desk.queries.inbox import InboxBatch, read_before

        read = partial(
            read_before,
            oldest_callback=marks.oldest_callback,
            oldest_rejection=marks.oldest_rejection,
            page=page,
            known=marks.known(),
        )
        return marks.take(await self._read(read, InboxBatch()), newer=False)

    async def submitted_at(
        self, request_ids: Iterable[str], marks: InboxMarks | None = None
    ) -> dict[str, float | None]:
        """When each request was submitted (None: no such request of ours); kept in ``marks``."""
        from m2m_tui.desk.queries.inbox import read_submitted

        wanted = list(request_ids)
        found: dict[str, float | None] = await self._read(
            partial(read_submitted, request_ids=wanted), dict.fromkeys(wanted)
        )
        if marks is not None:
            marks.submitted.update(found)
        return found

    async def raw_text(self, entry: InboxEntry) -> str:
        """What the inbox's raw view shows for one row."""
        from m2m_tui.desk.queries.inbox import raw_text

        return await self._read(
            partial(raw_text, entry=entry), "(no journal here yet: nothing stored)"
        )

    def close(self) -> None:
        self._reader.close()
