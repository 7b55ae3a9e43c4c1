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

A ``requestId`` the journal already holds (issue 8) is never an error. Same action, account
and devices (or filter), and either submitted by this tracker or still unfinished: the same
request found again, merged (nothing is written twice). Anything else: ThingSpace gave the id
out again, so it is a new attempt; the recorded one moves to ``<id>~N`` with its polls and
callbacks (closed as timed out if it was still open) and stays visible, and the new attempt
owns the id from then on.

Rules about a single request (pollable, settled, its outcome "3 of 5 failed") live in
:mod:`m2m_tui.tracking.tracked`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from m2m_tui.api.models import CallbackKind, RequestStatus
from m2m_tui.tracking.events import CallbackAccepted
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
from m2m_tui.tracking.tracker_events import CallbackReceived, RequestChanged
from m2m_tui.tracking.tracker_hub import EventHub

log = logging.getLogger("m2m_tui.tracking")


class Tracker(EventHub):
    """Correlates polls and callbacks into one state per request and publishes changes."""

    def __init__(
        self,
        journal: JournalStore,
        *,
        deadline: float = DEFAULT_DEADLINE,
        profile: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._journal = journal
        self._deadline = deadline
        self._profile = profile
        self._clock = clock
        self._requests: dict[str, TrackedRequest] = {}
        #: Ids this tracker recorded itself: a repeat of one is the same request.
        self._submitted_here: set[str] = set()

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
    ) -> TrackedRequest:
        """ThingSpace accepted a request: record it, then apply callbacks that beat the answer.

        ``expected_devices``: how many devices a filter matched, when the caller listed them
        all; the request then settles as soon as that many have answered (CarrierService sends
        no completion message). ``sent_at``: when the POST went out, so that, should the id be
        in the journal already, callbacks received before it stay with the earlier attempt.
        """
        action = RequestAction(action)
        target: Any = (
            {"devices": [dict(d) for d in devices]} if devices is not None else {"filter": filter}
        )
        expected = len(devices) if devices is not None else expected_devices
        known = self._requests.get(request_id)
        if known is not None and self._is_same(known, action, account, target):
            return self._merged(known, expected)
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
        }
        try:
            row = self._journal.add_request(request_id, **fields)
        except RequestAlreadyRecorded as exc:
            old = exc.existing
            if old is not None and self._is_same(old, action, account, target):
                return self._merged(self._adopt_row(old), expected)
            moved = self._supersede(request_id, action, target, sent_at)
            row = self._journal.add_request(request_id, **fields)
        else:
            moved = set()
        request = TrackedRequest.from_row(row)
        # The earlier attempt's callbacks, should their events still be on their way.
        request.applied.update(moved)
        self._requests[request_id] = request
        self._submitted_here.add(request_id)
        self._changed(request)
        self._apply_journaled(request)
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
        self._journal.add_poll(request_id, value.value, polled_at=self._clock())
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

    def callback(self, event: CallbackAccepted | CallbackRow) -> None:
        """A callback the listener has journaled (or a row read from a shared journal)."""
        if isinstance(event, CallbackRow):
            record_id, duplicate = event.id, event.duplicate
        else:
            record_id, duplicate = event.record_id, event.duplicate
        request = self._requests.get(event.request_id)
        self._publish(
            CallbackReceived(
                record_id=record_id,
                request_id=event.request_id,
                kind=event.kind,
                device_key=event.device_key,
                duplicate=duplicate,
                ours=request is not None,
            )
        )
        if request is not None:
            row = event if isinstance(event, CallbackRow) else None
            self._apply(request, record_id, event.kind, event.device_key, duplicate, row)

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
        resumed = []
        for row in self._journal.unfinished_requests():
            if row.request_id in self._requests:
                continue
            request = TrackedRequest.from_row(row)
            self._requests[row.request_id] = request
            self._apply_journaled(request, publish=False)
            resumed.append(request)
            self._changed(request)
        if any(r.pollable for r in resumed):
            self._wake()
        return resumed

    def load_recent(self, limit: int = 200) -> None:
        """Bring recent finished requests into memory too, for a requests view at start-up."""
        for row in self._journal.list_requests(limit=limit):
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
            self._journal.update_request(request.request_id, expected_results=expected)
            self._settle_if_whole(request)
        return request

    def _adopt_row(self, row: RequestRow) -> TrackedRequest:
        """A request recorded by an earlier run, found again: track it from here on."""
        request = TrackedRequest.from_row(row)
        self._requests[row.request_id] = request
        self._submitted_here.add(row.request_id)
        self._apply_journaled(request, publish=False)
        self._changed(request)
        if request.pollable and not request.finished:
            self._wake()
        return request

    def _supersede(
        self, request_id: str, action: RequestAction, target: Any, sent_at: float | None
    ) -> set[int]:
        """The id was given out again: the recorded attempt moves aside, still visible.

        Returns the record ids of the callbacks that moved with it.
        """
        # Wall-clock, as the listener stamps callbacks (the tracker's clock may be a test's).
        before = sent_at if sent_at is not None else time.time() - EARLY_CALLBACK_WINDOW
        note = superseded_note(action, target)
        moved = self._journal.supersede_request(request_id, before=before, note=note)
        self._requests.pop(request_id, None)
        self._submitted_here.discard(request_id)
        if moved is None:
            return set()
        log.warning(
            "request %s given out again; earlier attempt kept as %s", request_id, moved.request_id
        )
        earlier = TrackedRequest.from_row(moved)
        self._requests[moved.request_id] = earlier
        self._apply_journaled(earlier, publish=False)
        self._changed(earlier)
        return set(earlier.applied)

    def _apply_journaled(self, request: TrackedRequest, *, publish: bool = True) -> None:
        """Apply the request's journaled callbacks (early ones, or all of them on reload)."""
        for row in self._journal.callbacks_for(request.request_id):
            self._apply(
                request, row.id, row.kind, row.device_key, row.duplicate, row, publish=publish
            )

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
            fault_code, fault_message = self._fault_of(record_id, row)
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

    def _fault_of(self, record_id: int, row: CallbackRow | None) -> tuple[str | None, str | None]:
        if row is None:
            # One row by key: reading the request's callbacks here would make a filter
            # request with thousands of failures quadratic.
            row = self._journal.callback(record_id)
        if row is None:
            return None, None
        return fault_in(row.body)

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
        self._journal.update_request(
            request.request_id,
            state=request.state,
            completed_by=request.completed_by,
            pollable=request.pollable,
            last_error_code=request.last_error_code,
            last_error_message=request.last_error_message,
        )


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
