"""How callbacks reach a request: at once, or after the journal work it is busy with.

Part of the :class:`~m2m_tui.tracking.tracker.Tracker` (its base class), kept apart because
it is its own job since the tracker's journal calls moved off the event loop (issue 11).
While a request is being recorded or reloaded, or while the bodies of its failures are read
for their fault (the listener's event does not carry the body), the request's callbacks wait
in :attr:`CallbackOrder._held` and are applied after, in arrival order: a device's result must
never be overtaken by an older one, nor a completion by the results it completes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from functools import partial
from typing import Any

from m2m_tui.api.models import CallbackKind
from m2m_tui.tracking.events import CallbackAccepted
from m2m_tui.tracking.journal.interface import JournalStore
from m2m_tui.tracking.records import CallbackRow
from m2m_tui.tracking.tracked import TrackedRequest
from m2m_tui.tracking.tracker_events import CallbackReceived
from m2m_tui.tracking.tracker_hub import EventHub
from m2m_tui.tracking.tracker_lane import JournalLane, Step, Steps

log = logging.getLogger("m2m_tui.tracking")


def _bodies(journal: JournalStore, ids: list[int]) -> dict[int, CallbackRow | None]:
    return {record_id: journal.callback(record_id) for record_id in ids}


def record_id_of(event: CallbackAccepted | CallbackRow) -> int:
    return event.id if isinstance(event, CallbackRow) else event.record_id


class CallbackOrder(EventHub):
    """The tracker's callback input, and the journal it writes (directly or on a lane)."""

    def __init__(self, journal: JournalStore | JournalLane) -> None:
        super().__init__()
        #: The journal, or the lane that makes every call on it (see :mod:`.tracker`).
        self._journal = journal
        self._requests: dict[str, TrackedRequest] = {}
        #: Requests busy with the journal: their callbacks wait here, in arrival order.
        self._held: dict[str, list[CallbackAccepted | CallbackRow]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _apply(
        self,
        request: TrackedRequest,
        record_id: int,
        kind: str,
        key: str | None,
        duplicate: bool,
        row: CallbackRow | None,
        *,
        publish: bool = True,
    ) -> None:
        """Move the request's state for one callback (the tracker's state machine)."""
        raise NotImplementedError

    def callback(self, event: CallbackAccepted | CallbackRow) -> None:
        """A callback the listener has journaled (or a row read from a shared journal)."""
        held = self._held.get(event.request_id)
        if held is not None:  # the request is busy with the journal: after it, in order
            held.append(event)
            return
        request = self._requests.get(event.request_id)
        row = event if isinstance(event, CallbackRow) else None
        if request is not None and row is None and self._needs_body(request, event):
            if isinstance(self._journal, JournalLane):
                self._held[event.request_id] = [event]
                self._spawn(self._read_bodies(event.request_id))
                return
            row = self._journal.callback(record_id_of(event))
        self._take(event, request, row)

    def _take(
        self,
        event: CallbackAccepted | CallbackRow,
        request: TrackedRequest | None,
        row: CallbackRow | None,
    ) -> None:
        """Announce the callback, and apply it to its request if it is ours."""
        record_id = record_id_of(event)
        self._publish(
            CallbackReceived(
                record_id=record_id,
                request_id=event.request_id,
                kind=event.kind,
                device_key=event.device_key,
                duplicate=event.duplicate,
                ours=request is not None,
            )
        )
        if request is not None:
            self._apply(request, record_id, event.kind, event.device_key, event.duplicate, row)

    @staticmethod
    def _needs_body(request: TrackedRequest, event: CallbackAccepted | CallbackRow) -> bool:
        """A failure's fault is in its body, which the listener's event does not carry."""
        return (
            event.kind == CallbackKind.FAILURE
            and not event.duplicate
            and record_id_of(event) not in request.applied
        )

    async def _read_bodies(self, request_id: str) -> None:
        """Read the held failures' bodies on the lane, then apply what is held, in order."""
        try:
            while batch := self._held.get(request_id):
                self._held[request_id] = []
                wanted = [
                    record_id_of(e)
                    for e in batch
                    if isinstance(e, CallbackAccepted) and e.kind == CallbackKind.FAILURE
                ]
                rows: dict[int, CallbackRow | None] = {}
                if wanted:
                    try:
                        rows = await self._lane_call(partial(_bodies, ids=wanted))
                    except Exception as exc:  # applied without its fault text
                        log.warning("reading a failure callback's body failed: %s", exc)
                for event in batch:
                    row = event if isinstance(event, CallbackRow) else rows.get(event.record_id)
                    self._take(event, self._requests.get(request_id), row)
        finally:
            self._held.pop(request_id, None)

    async def _lane_call(self, step: Step[Any]) -> Any:
        assert isinstance(self._journal, JournalLane)
        return await self._journal.call(step)

    def _release(self, request_id: str) -> None:
        """The request is done with the journal: its waiting callbacks, in order."""
        for event in self._held.pop(request_id, ()):
            self.callback(event)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work, name="m2m-tui tracker")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """End the tracker's own tasks (reading failure bodies); held callbacks are dropped."""
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def _load(self, request: TrackedRequest, *, publish: bool) -> Steps[None]:
        """Track ``request`` and apply its journaled callbacks; its callbacks that arrive
        meanwhile wait, then follow in order (they may be among the journaled ones)."""
        request_id = request.request_id
        owns = request_id not in self._held
        if owns:
            self._held[request_id] = []
        try:
            self._requests[request_id] = request
            yield from self._apply_journaled(request, publish=publish)
        finally:
            if owns:
                self._release(request_id)

    def _apply_journaled(self, request: TrackedRequest, *, publish: bool = True) -> Steps[None]:
        """Apply the request's journaled callbacks (early ones, or all of them on reload)."""
        request_id = request.request_id
        rows: list[CallbackRow] = yield lambda journal: journal.callbacks_for(request_id)
        for row in rows:
            self._apply(
                request, row.id, row.kind, row.device_key, row.duplicate, row, publish=publish
            )

    def _write(self, step: Step[Any]) -> None:
        """A write whose answer is not needed: queued on the lane, or made here."""
        if isinstance(self._journal, JournalLane):
            self._journal.post(step)
        else:
            step(self._journal)


__all__ = ["CallbackOrder", "record_id_of"]
