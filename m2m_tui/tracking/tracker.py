"""The one source of truth for every asynchronous request: a state machine per request.

Three inputs move a request (design.md, "Layers"): :meth:`Tracker.submitted` when ThingSpace
answers with a ``requestId``, :meth:`Tracker.polled` with each status the poller reads, and
:meth:`Tracker.callback` for each callback the listener has journaled. The journal is written
first; the tracker's memory is a cache of slim per-request facts, rebuilt from the journal on
start (:meth:`Tracker.resume`).

A callback may beat the synchronous answer that carries its ``requestId``. Nothing special is
needed for that: callbacks are in the journal before the tracker hears of them, so
:meth:`submitted` reads the request's callbacks from the journal and applies them, and record
ids already applied are never applied twice. Callbacks whose request is unknown stay in the
journal and are reported as not ours (``ours=False``) until such a request is submitted.

A ``requestId`` the journal already holds (issue 8) is never an error: the same request
found again (same action, account and target; submitted here or unfinished) is merged; else
it is a new attempt and the recorded one moves to ``<id>~N`` with its polls and callbacks.

Off the event loop (issue 11): with a :class:`~.tracker_lane.JournalLane` every journal call
runs on its thread, in order; :meth:`Tracker.asubmitted` awaits the row (journaled before
anyone is told). Rules about one request live in :mod:`m2m_tui.tracking.tracked`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from m2m_tui.api.models import CallbackKind, RequestStatus
from m2m_tui.tracking.journal.interface import JournalStore
from m2m_tui.tracking.records import (
    CallbackRow,
    CompletedBy,
    RequestAction,
    RequestAlreadyRecorded,
    RequestRow,
    RequestState,
    RequestSummary,
)
from m2m_tui.tracking.results import result_key
from m2m_tui.tracking.tracked import (
    DEFAULT_DEADLINE,
    EARLY_CALLBACK_WINDOW,
    PROVISIONING_ACTIONS,
    DeviceResult,
    TrackedRequest,
    deadline_advice,
    fault_in,
    is_pollable,
    same_target,
    settled_by_deadline,
    settled_state,
    settles_on_last_result,
    superseded_note,
)
from m2m_tui.tracking.tracker_callbacks import CallbackOrder
from m2m_tui.tracking.tracker_events import RequestChanged
from m2m_tui.tracking.tracker_lane import JournalLane, Steps, one_step, run_here, run_off_loop

log = logging.getLogger("m2m_tui.tracking")
T = TypeVar("T")


class Tracker(CallbackOrder):
    """Correlates polls and callbacks into one state per request and publishes changes."""

    def __init__(
        self,
        journal: JournalStore | JournalLane,
        *,
        deadline: float = DEFAULT_DEADLINE,
        profile: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(journal)
        self._deadline = deadline
        self._profile = profile
        self._clock = clock
        #: Ids this tracker recorded itself: a repeat of one is the same request.
        self._submitted_here: set[str] = set()
        self._submitting = asyncio.Lock()

    def _changed(self, request: TrackedRequest) -> None:
        self._publish(request.summary(RequestChanged))

    # ------------------------------------------------------------------ queries

    def get(self, request_id: str) -> TrackedRequest | None:
        return self._requests.get(request_id)

    def requests(self) -> list[TrackedRequest]:
        return list(self._requests.values())

    def summary(self, request_id: str) -> RequestSummary | None:
        """The request in the shape the journal queries return too (None: not tracked)."""
        request = self._requests.get(request_id)
        return None if request is None else request.summary()

    def summaries(self) -> list[RequestSummary]:
        return [request.summary() for request in self._requests.values()]

    def pollable_unfinished(self) -> list[TrackedRequest]:
        return [r for r in self._requests.values() if r.pollable and not r.finished]

    # ------------------------------------------------------------------ inputs

    def submitted(
        self,
        action: RequestAction | str,
        account: str,
        request_id: str,
        *,
        devices: Sequence[Mapping[str, str]] | None = None,
        filter: Mapping[str, Any] | None = None,
        deadline: float | None = None,
        expected_devices: int | None = None,
        sent_at: float | None = None,
        submitted_by: str | None = None,
    ) -> TrackedRequest:
        """ThingSpace accepted a request: record it, then apply callbacks that beat the answer.

        ``expected_devices``: how many devices a filter matched, when the caller listed them
        all; the request then settles as soon as that many have answered (CarrierService sends
        no completion message). ``sent_at``: when the POST went out, so that, should the id be
        in the journal already, callbacks received before it stay with the earlier attempt.
        ``submitted_by``: the engineer's ``user@host`` (the desk knows it), kept on the row.
        The journal is called in this thread (with a lane, waiting for it): from the event
        loop, use :meth:`asubmitted`.
        """
        asked = (action, account, request_id, devices, filter, deadline, expected_devices)
        return run_here(self._submitting_steps(*asked, sent_at, submitted_by), self._journal)

    async def asubmitted(
        self,
        action: RequestAction | str,
        account: str,
        request_id: str,
        *,
        devices: Sequence[Mapping[str, str]] | None = None,
        filter: Mapping[str, Any] | None = None,
        deadline: float | None = None,
        expected_devices: int | None = None,
        sent_at: float | None = None,
        submitted_by: str | None = None,
    ) -> TrackedRequest:
        """:meth:`submitted` with the journal calls off the event loop; returns once the
        request is journaled (raises JournalError if it could not be)."""
        async with self._submitting:
            asked = (action, account, request_id, devices, filter, deadline, expected_devices)
            steps = self._submitting_steps(*asked, sent_at, submitted_by)
            return await run_off_loop(steps, self._journal)

    def _submitting_steps(
        self,
        action: RequestAction | str,
        account: str,
        request_id: str,
        devices: Sequence[Mapping[str, str]] | None,
        filter: Mapping[str, Any] | None,
        deadline: float | None,
        expected_devices: int | None,
        sent_at: float | None,
        submitted_by: str | None,
    ) -> Steps[TrackedRequest]:
        action = RequestAction(action)
        target: Any = (
            {"devices": [dict(d) for d in devices]} if devices is not None else {"filter": filter}
        )
        expected = len(devices) if devices is not None else expected_devices
        known = self._requests.get(request_id)
        if known is not None and self._is_same(known, action, account, target):
            return self._merged(known, expected)
        owns = request_id not in self._held
        if owns:
            self._held[request_id] = []
        try:
            return (
                yield from self._recording(
                    request_id, action, account, target, expected, deadline, sent_at, submitted_by
                )
            )
        finally:
            if owns:
                self._release(request_id)

    def _recording(
        self,
        request_id: str,
        action: RequestAction,
        account: str,
        target: Any,
        expected: int | None,
        deadline: float | None,
        sent_at: float | None,
        submitted_by: str | None,
    ) -> Steps[TrackedRequest]:
        devices = target.get("devices")
        now = self._clock()
        fields: dict[str, Any] = {
            "action": action,
            "account": account,
            "target": target,
            "pollable": is_pollable(action, devices),
            "deadline": now + (deadline if deadline is not None else self._deadline),
            "expected_results": expected,
            "submitted_at": now,
            "profile": self._profile,
            "submitted_by": submitted_by,
        }

        def add(journal: JournalStore) -> RequestRow:
            return journal.add_request(request_id, **fields)

        try:
            row = yield add
        except RequestAlreadyRecorded as exc:
            old = exc.existing
            if old is not None and self._is_same(old, action, account, target):
                return self._merged((yield from self._adopt_row(old)), expected)
            moved = yield from self._supersede(request_id, action, target, sent_at)
            row = yield add
        else:
            moved = set()
        request = TrackedRequest.from_row(row)
        # The earlier attempt's callbacks, should their events still be on their way.
        request.applied.update(moved)
        self._requests[request_id] = request
        self._submitted_here.add(request_id)
        self._changed(request)
        yield from self._apply_journaled(request)
        self._settle_if_whole(request)
        if request.pollable:
            self._wake()
        return request

    def polled(self, request_id: str, status: RequestStatus | str) -> None:
        """A status the poller read; only changes are journaled and published."""
        request = self._requests.get(request_id)
        if request is None:
            return
        value = RequestStatus(status) if not isinstance(status, RequestStatus) else status
        if request.last_status == value.value:
            return
        request.last_status = value.value
        seen, polled_at = value.value, self._clock()
        self._write(lambda journal: journal.add_poll(request_id, seen, polled_at=polled_at))
        if request.finished:
            self._persist(request)
            return
        if value is RequestStatus.PENDING:
            if request.state is RequestState.SUBMITTED:
                request.state = RequestState.PENDING
        elif value.failed:
            self._finish(request, RequestState.FAILED, CompletedBy.POLL)
            return
        else:
            self._finish(request, RequestState.COMPLETED, CompletedBy.POLL)
            return
        self._persist(request)
        self._changed(request)

    def poll_failed(self, request_id: str, code: str | None, message: str) -> None:
        """The status call itself failed for this request (e.g. ThingSpace does not track it)."""
        request = self._requests.get(request_id)
        if request is None:
            return
        request.last_error_code, request.last_error_message = code, message
        self._persist(request)
        self._changed(request)

    def stop_polling(self, request_id: str, reason: str) -> None:
        """The poller gave up on a request: it can now only finish by callback or deadline."""
        request = self._requests.get(request_id)
        if request is None or not request.pollable:
            return
        request.pollable = False
        request.last_error_message = reason
        self._persist(request)
        self._changed(request)

    def check_deadlines(self) -> list[str]:
        """Time out unfinished requests past their deadline; returns their ids."""
        now = self._clock()
        expired = [r for r in self._requests.values() if not r.finished and r.deadline <= now]
        for request in expired:
            note = settled_by_deadline(request)
            if note is not None:
                request.last_error_message = note
                self._finish(request, settled_state(request), CompletedBy.CALLBACK)
                continue
            request.last_error_message = deadline_advice(request)
            self._finish(request, RequestState.TIMED_OUT, None)
        return [r.request_id for r in expired]

    def resume(self) -> list[TrackedRequest]:
        """Reload unfinished requests (and their callbacks) from the journal after a restart."""
        return run_here(self._resuming(), self._journal)

    async def aresume(self) -> list[TrackedRequest]:
        """:meth:`resume` with the journal calls off the event loop."""
        return await run_off_loop(self._resuming(), self._journal)

    def _resuming(self) -> Steps[list[TrackedRequest]]:
        resumed = []
        rows: list[RequestRow] = yield lambda journal: journal.unfinished_requests()
        for row in rows:
            if row.request_id in self._requests:
                continue
            request = TrackedRequest.from_row(row)
            yield from self._load(request, publish=False)
            resumed.append(request)
            self._changed(request)
        if any(r.pollable for r in resumed):
            self._wake()
        return resumed

    def load_recent(self, limit: int = 200) -> None:
        """Bring recent finished requests into memory too, for a requests view at start-up."""
        rows = run_here(one_step(lambda journal: journal.list_requests(limit=limit)), self._journal)
        for row in rows:
            if row.request_id not in self._requests:
                self._requests[row.request_id] = TrackedRequest.from_row(row)

    # ------------------------------------------------------------------ internals

    def _is_same(
        self,
        old: TrackedRequest | RequestRow,
        action: RequestAction,
        account: str,
        target: Any,
    ) -> bool:
        """A repeat of a recorded id is the same request found again (see the module doc)."""
        if RequestAction(old.action) is not action or old.account != account:
            return False
        if not same_target(old.target, target):
            return False
        return old.request_id in self._submitted_here or not old.finished

    def _merged(self, request: TrackedRequest, expected: int | None) -> TrackedRequest:
        """The same request again: learn its device count if it was unknown, nothing more."""
        if expected is not None and request.expected is None:
            request.expected = expected
            request_id = request.request_id
            self._write(
                lambda journal: journal.update_request(request_id, expected_results=expected)
            )
            self._settle_if_whole(request)
        return request

    def _adopt_row(self, row: RequestRow) -> Steps[TrackedRequest]:
        """A request recorded by an earlier run, found again: track it from here on."""
        request = TrackedRequest.from_row(row)
        self._submitted_here.add(row.request_id)
        yield from self._load(request, publish=False)
        self._changed(request)
        if request.pollable and not request.finished:
            self._wake()
        return request

    def _supersede(
        self, request_id: str, action: RequestAction, target: Any, sent_at: float | None
    ) -> Steps[set[int]]:
        """The id was given out again: the recorded attempt moves aside, still visible.

        Returns the record ids of the callbacks that moved with it.
        """
        # Wall-clock, as the listener stamps callbacks (the tracker's clock may be a test's).
        before = sent_at if sent_at is not None else time.time() - EARLY_CALLBACK_WINDOW
        note = superseded_note(action, target)
        moved: RequestRow | None = yield lambda journal: journal.supersede_request(
            request_id, before=before, note=note
        )
        self._requests.pop(request_id, None)
        self._submitted_here.discard(request_id)
        if moved is None:
            return set()
        log.warning(
            "request %s given out again; earlier attempt kept as %s", request_id, moved.request_id
        )
        earlier = TrackedRequest.from_row(moved)
        yield from self._load(earlier, publish=False)
        self._changed(earlier)
        return set(earlier.applied)

    def _settle_if_whole(self, request: TrackedRequest) -> None:
        if not request.finished and settles_on_last_result(request):
            self._finish(request, settled_state(request), CompletedBy.CALLBACK)

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
        if record_id in request.applied:
            return
        request.applied.add(record_id)
        if duplicate:
            request.duplicates += 1
            return
        if kind == CallbackKind.COMPLETION:
            request.completion_seen = True
            if not request.finished:
                self._finish(request, settled_state(request), CompletedBy.CALLBACK, publish=publish)
            return
        ok = kind != CallbackKind.FAILURE
        fault_code = fault_message = None
        if not ok:
            fault_code, fault_message = self._fault_of(row)
            request.last_error_code, request.last_error_message = fault_code, fault_message
        request.results[result_key(record_id, key)] = DeviceResult(
            ok, kind, record_id, fault_code, fault_message
        )
        if request.finished:
            if not ok:
                self._persist(request)  # the request's last error changed
            if publish:
                self._changed(request)
            return
        if settles_on_last_result(request):
            # Every device has answered (named, or counted when a filter's matches were
            # listed); CarrierService sends no completion message.
            self._finish(request, settled_state(request), CompletedBy.CALLBACK, publish=publish)
            return
        if request.pollable and request.expected == 1 and request.received >= 1:
            state = RequestState.COMPLETED if ok else RequestState.FAILED
            self._finish(request, state, CompletedBy.CALLBACK, publish=publish)
            return
        if request.state is not RequestState.PARTIAL or not ok:
            # Journal state changes only: per-device results live in the callbacks table, so
            # a burst of thousands of callbacks costs a handful of request updates.
            request.state = RequestState.PARTIAL
            self._persist(request)
        if publish:
            self._changed(request)

    @staticmethod
    def _fault_of(row: CallbackRow | None) -> tuple[str | None, str | None]:
        # The caller read the failure's row by key (:meth:`callback`): reading the request's
        # callbacks here would make a filter request with thousands of failures quadratic.
        return (None, None) if row is None else fault_in(row.body)

    def _finish(
        self,
        request: TrackedRequest,
        state: RequestState,
        by: CompletedBy | None,
        *,
        publish: bool = True,
    ) -> None:
        request.state = state
        request.completed_by = by
        self._persist(request)
        if publish:
            self._changed(request)

    def _persist(self, request: TrackedRequest) -> None:
        request_id = request.request_id
        fields = {
            "state": request.state,
            "completed_by": request.completed_by,
            "pollable": request.pollable,
            "last_error_code": request.last_error_code,
            "last_error_message": request.last_error_message,
        }
        self._write(lambda journal: journal.update_request(request_id, **fields))


# DeviceResult, TrackedRequest and is_pollable moved to ``tracked``; they stay
# importable from here, where the front ends have always found them.
__all__ = [
    "DEFAULT_DEADLINE",
    "PROVISIONING_ACTIONS",
    "DeviceResult",
    "TrackedRequest",
    "Tracker",
    "is_pollable",
]
