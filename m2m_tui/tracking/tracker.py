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
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from m2m_tui.api.models import CallbackKind, RequestStatus
from m2m_tui.tracking.events import CallbackAccepted
from m2m_tui.tracking.journal_interface import JournalStore
from m2m_tui.tracking.records import (
    UNFINISHED_STATES,
    CallbackRow,
    CompletedBy,
    RequestAction,
    RequestRow,
    RequestState,
)
from m2m_tui.tracking.results import result_key
from m2m_tui.tracking.tracker_events import (
    CallbackReceived,
    RequestChanged,
    TrackerEvent,
)

log = logging.getLogger("m2m_tui.tracking")

#: ThingSpace resends an unacknowledged callback 3 more times, 5 minutes apart (§4.3): past
#: this, nothing more will come.
DEFAULT_DEADLINE = 25 * 60.0

PROVISIONING_ACTIONS = frozenset(
    {RequestAction.ACTIVATE, RequestAction.DEACTIVATE, RequestAction.SUSPEND, RequestAction.RESTORE}
)


def is_pollable(action: RequestAction, devices: Sequence[Mapping[str, str]] | None) -> bool:
    """ThingSpace's status endpoint covers single-device provisioning requests only (§5.2)."""
    return action in PROVISIONING_ACTIONS and devices is not None and len(devices) == 1


def device_key(kind: str, device_id: str) -> str:
    """How results are keyed, as the listener keys callbacks: ``imei:359876543210987``."""
    return f"{kind.strip().lower()}:{device_id.strip()}"


@dataclass(slots=True)
class DeviceResult:
    """One device's outcome in a request: the latest non-duplicate callback about it."""

    ok: bool
    kind: str
    record_id: int
    fault_code: str | None = None
    fault_message: str | None = None


@dataclass(slots=True)
class TrackedRequest:
    """What the tracker keeps in memory for a request: slim facts, no bodies, no models."""

    request_id: str
    action: RequestAction
    account: str
    target: Any
    pollable: bool
    expected: int | None
    submitted_at: float
    deadline: float
    state: RequestState = RequestState.SUBMITTED
    completed_by: CompletedBy | None = None
    last_status: str | None = None
    completion_seen: bool = False
    results: dict[str, DeviceResult] = field(default_factory=dict)
    applied: set[int] = field(default_factory=set)
    duplicates: int = 0
    last_error_code: str | None = None
    last_error_message: str | None = None

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED_STATES

    @property
    def received(self) -> int:
        return len(self.results)

    @property
    def failures(self) -> int:
        return sum(1 for result in self.results.values() if not result.ok)

    @property
    def callback_only(self) -> bool:
        return not self.pollable


Subscriber = Callable[[TrackerEvent], None]


class Tracker:
    """Correlates polls and callbacks into one state per request and publishes changes."""

    def __init__(
        self,
        journal: JournalStore,
        *,
        deadline: float = DEFAULT_DEADLINE,
        profile: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._journal = journal
        self._deadline = deadline
        self._profile = profile
        self._clock = clock
        self._requests: dict[str, TrackedRequest] = {}
        self._subscribers: list[Subscriber] = []
        self._wakers: list[Callable[[], None]] = []

    # ------------------------------------------------------------------ subscribers

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every event; returns the function that unsubscribes."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def on_new_pollable(self, waker: Callable[[], None]) -> None:
        """The poller registers here so a new pollable request is polled without delay."""
        self._wakers.append(waker)

    def publish(self, event: TrackerEvent) -> None:
        """Pass on an event from a part the tracker does not own (listener, poller)."""
        self._publish(event)

    def _publish(self, event: TrackerEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # a broken subscriber must not stop tracking
                log.exception("tracker subscriber failed on %s", type(event).__name__)

    def _changed(self, request: TrackedRequest) -> None:
        self._publish(
            RequestChanged(
                request_id=request.request_id,
                action=request.action.value,
                state=request.state.value,
                completed_by=request.completed_by.value if request.completed_by else None,
                received=request.received,
                expected=request.expected,
                failures=request.failures,
                pollable=request.pollable,
            )
        )

    # ------------------------------------------------------------------ queries

    def get(self, request_id: str) -> TrackedRequest | None:
        return self._requests.get(request_id)

    def requests(self) -> list[TrackedRequest]:
        return list(self._requests.values())

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
    ) -> TrackedRequest:
        """ThingSpace accepted a request: record it, then apply callbacks that beat the answer."""
        action = RequestAction(action)
        if request_id in self._requests:
            return self._requests[request_id]
        now = self._clock()
        target: Any = (
            {"devices": [dict(d) for d in devices]} if devices is not None else {"filter": filter}
        )
        pollable = is_pollable(action, devices)
        expected = len(devices) if devices is not None else None
        row = self._journal.add_request(
            request_id,
            action=action,
            account=account,
            target=target,
            pollable=pollable,
            deadline=now + (deadline if deadline is not None else self._deadline),
            expected_results=expected,
            submitted_at=now,
            profile=self._profile,
        )
        request = self._from_row(row)
        self._requests[request_id] = request
        early = self._journal.callbacks_for(request_id)
        self._changed(request)
        for callback_row in early:
            self._apply(
                request,
                callback_row.id,
                callback_row.kind,
                callback_row.device_key,
                callback_row.duplicate,
                callback_row,
            )
        if pollable:
            for wake in self._wakers:
                wake()
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
            note = _settled_by_deadline(request)
            if note is not None:
                request.last_error_message = note
                state = (
                    RequestState.FAILED
                    if request.failures == request.received
                    else RequestState.COMPLETED
                )
                self._finish(request, state, CompletedBy.CALLBACK)
                continue
            request.last_error_message = _deadline_advice(request)
            self._finish(request, RequestState.TIMED_OUT, None)
        return [r.request_id for r in expired]

    def resume(self) -> list[TrackedRequest]:
        """Reload unfinished requests (and their callbacks) from the journal after a restart."""
        resumed = []
        for row in self._journal.unfinished_requests():
            if row.request_id in self._requests:
                continue
            request = self._from_row(row)
            self._requests[row.request_id] = request
            for callback_row in self._journal.callbacks_for(row.request_id):
                self._apply(
                    request,
                    callback_row.id,
                    callback_row.kind,
                    callback_row.device_key,
                    callback_row.duplicate,
                    callback_row,
                    publish=False,
                )
            resumed.append(request)
            self._changed(request)
        if any(r.pollable for r in resumed):
            for wake in self._wakers:
                wake()
        return resumed

    def load_recent(self, limit: int = 200) -> None:
        """Bring recent finished requests into memory too, for a requests view at start-up."""
        for row in self._journal.list_requests(limit=limit):
            if row.request_id not in self._requests:
                self._requests[row.request_id] = self._from_row(row)

    # ------------------------------------------------------------------ internals

    def _from_row(self, row: RequestRow) -> TrackedRequest:
        return TrackedRequest(
            request_id=row.request_id,
            action=RequestAction(row.action),
            account=row.account,
            target=row.target,
            pollable=row.pollable,
            expected=row.expected_results,
            submitted_at=row.submitted_at,
            deadline=row.deadline,
            state=RequestState(row.state),
            completed_by=CompletedBy(row.completed_by) if row.completed_by else None,
            last_error_code=row.last_error_code,
            last_error_message=row.last_error_message,
        )

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
                state = (
                    RequestState.FAILED
                    if request.results and request.failures == request.received
                    else RequestState.COMPLETED
                )
                self._finish(request, state, CompletedBy.CALLBACK, publish=publish)
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
        expected = request.expected
        waits_for_completion = request.action is RequestAction.SUSPENSION_STATUS
        if (
            expected is not None
            and request.received >= expected
            and not request.pollable
            and not waits_for_completion
        ):
            # Every named device has answered; CarrierService sends no completion message.
            state = (
                RequestState.FAILED
                if request.failures == request.received
                else RequestState.COMPLETED
            )
            self._finish(request, state, CompletedBy.CALLBACK, publish=publish)
            return
        if request.pollable and expected == 1 and request.received >= 1:
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
        try:
            body = json.loads(row.body)
        except ValueError:
            return None, None
        fault = body.get("faultResponse") if isinstance(body, dict) else None
        if isinstance(fault, dict):
            code, text = fault.get("faultcode"), fault.get("faultstring")
            return (
                str(code) if code is not None else None,
                str(text) if text is not None else None,
            )
        status = body.get("status") if isinstance(body, dict) else None
        return None, (str(status) if status is not None else None)

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


def _settled_by_deadline(request: TrackedRequest) -> str | None:
    """Why a request that reached its deadline counts as finished, or None when it does not.

    Past the deadline ThingSpace sends nothing more (its last retry is behind us), so what
    arrived is the whole answer when either every named device answered (only the completion
    message went missing), or it was a provisioning request by filter: CarrierService sends
    no completion message, so its results simply stop coming.
    """
    if request.expected is not None and request.received >= request.expected:
        return "every device answered; no completion message came"
    if request.expected is None and request.received > 0 and request.action in PROVISIONING_ACTIONS:
        return (
            f"{request.received} device(s) answered by the deadline; a filter request has no "
            "completion message, so that is every result ThingSpace sent"
        )
    return None


def _deadline_advice(request: TrackedRequest) -> str:
    if request.pollable:
        return "no final status before the deadline: check the request in the ThingSpace portal"
    return (
        "no callbacks before the deadline: check the callback registration for this account, "
        "the firewall and public URL, and that the listener is reachable (/healthz)"
    )


__all__ = [
    "DEFAULT_DEADLINE",
    "DeviceResult",
    "TrackedRequest",
    "Tracker",
    "device_key",
    "is_pollable",
]
