"""What the tracker keeps per request, and the rules that say when a request is settled.

Kept apart from :mod:`m2m_tui.tracking.tracker` (which moves requests) so the rules can be
read in one place: which requests are pollable, when every device has answered, what a
settled request's outcome is ("3 of 5 failed"), and when a second submission with a known
``requestId`` is the same request found again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from m2m_tui.tracking.records import (
    UNFINISHED_STATES,
    CompletedBy,
    RequestAction,
    RequestRow,
    RequestState,
    RequestSummary,
    device_key,
)
from m2m_tui.tracking.results import outcome_text

S = TypeVar("S", bound=RequestSummary)

#: ThingSpace resends an unacknowledged callback 3 more times, 5 minutes apart (§4.3): past
#: this, nothing more will come.
DEFAULT_DEADLINE = 25 * 60.0

#: Without the time the POST was sent, callbacks received this long before a resubmitted id
#: was answered still count for the new attempt (they may beat the synchronous answer).
EARLY_CALLBACK_WINDOW = 5.0

PROVISIONING_ACTIONS = frozenset(
    {RequestAction.ACTIVATE, RequestAction.DEACTIVATE, RequestAction.SUSPEND, RequestAction.RESTORE}
)


def is_pollable(action: RequestAction, devices: Sequence[Mapping[str, str]] | None) -> bool:
    """ThingSpace's status endpoint covers single-device provisioning requests only (§5.2)."""
    return action in PROVISIONING_ACTIONS and devices is not None and len(devices) == 1


def _normal_target(target: Any) -> Any:
    """Devices compared as a set of keys (order and kind case do not matter), filters as JSON."""
    if isinstance(target, Mapping) and isinstance(target.get("devices"), list):
        devices = target["devices"]
        if all(isinstance(d, Mapping) for d in devices):
            return ("devices", frozenset(device_key(str(d["kind"]), str(d["id"])) for d in devices))
    return ("other", json.dumps(target, sort_keys=True, separators=(",", ":")))


def same_target(a: Any, b: Any) -> bool:
    """Whether two stored targets name the same devices (or the same filter)."""
    try:
        return bool(_normal_target(a) == _normal_target(b))
    except (KeyError, TypeError, ValueError):
        return False


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
    profile: str | None = None
    submitted_by: str | None = None

    @classmethod
    def from_row(cls, row: RequestRow) -> TrackedRequest:
        return cls(
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
            profile=row.profile,
            submitted_by=row.submitted_by,
        )

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

    @property
    def all_answered(self) -> bool:
        """Every device the request was known to cover has answered."""
        return self.expected is not None and self.received >= self.expected

    @property
    def outcome(self) -> str | None:
        """The device count in words once results are in: "3 of 5 devices failed"."""
        return outcome_text(self.received, self.expected, self.failures)

    def summary(self, kind: type[S] = RequestSummary) -> S:  # type: ignore[assignment]
        """This request in the one shape every reader gets (``kind``: or ``RequestChanged``)."""
        return kind(
            request_id=self.request_id,
            action=self.action,
            state=self.state,
            completed_by=self.completed_by,
            received=self.received,
            expected=self.expected,
            failures=self.failures,
            pollable=self.pollable,
            account=self.account,
            target=self.target,
            submitted_at=self.submitted_at,
            deadline=self.deadline,
            last_error_code=self.last_error_code,
            last_error_message=self.last_error_message,
            profile=self.profile,
            submitted_by=self.submitted_by,
        )


def settled_state(request: TrackedRequest) -> RequestState:
    """Failed when every device that answered failed; completed otherwise (failures counted)."""
    if request.results and request.failures == request.received:
        return RequestState.FAILED
    return RequestState.COMPLETED


def settles_on_last_result(request: TrackedRequest) -> bool:
    """A callback-only request with a known device count is whole once every device answered.

    CarrierService sends no completion message (a filter provisioning request's results simply
    stop coming), so the count is the only way to know; suspension status does send one and
    waits for it.
    """
    return (
        request.all_answered
        and not request.pollable
        and request.action is not RequestAction.SUSPENSION_STATUS
    )


def settled_by_deadline(request: TrackedRequest) -> str | None:
    """Why a request that reached its deadline counts as finished, or None when it does not.

    Past the deadline ThingSpace sends nothing more (its last retry is behind us), so what
    arrived is the whole answer when either every named device answered (only the completion
    message went missing), or it was a provisioning request by filter: CarrierService sends
    no completion message, so its results simply stop coming.
    """
    if request.all_answered:
        return "every device answered; no completion message came"
    if request.expected is None and request.received > 0 and request.action in PROVISIONING_ACTIONS:
        return (
            f"{request.received} device(s) answered by the deadline; a filter request has no "
            "completion message, so that is every result ThingSpace sent"
        )
    return None


def deadline_advice(request: TrackedRequest) -> str:
    if request.expected is not None and 0 < request.received < request.expected:
        missing = request.expected - request.received
        return (
            f"{missing} of {request.expected} devices never answered before the deadline "
            f"({request.received} answered, {request.failures} failed): check them in the "
            "ThingSpace portal"
        )
    if request.pollable:
        return "no final status before the deadline: check the request in the ThingSpace portal"
    return (
        "no callbacks before the deadline: check the callback registration for this account, "
        "the firewall and public URL, and that the listener is reachable (/healthz)"
    )


def superseded_note(action: RequestAction, target: Any) -> str:
    """What the earlier attempt of a requestId given out again says about it."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    what = "a filter" if "filter" in target else f"{len(target['devices'])} device(s)"
    return (
        f"superseded: ThingSpace gave this requestId again, to a {action.value} of {what} "
        f"at {when}; this record is the earlier attempt"
    )


def fault_in(body_text: str) -> tuple[str | None, str | None]:
    """The (fault code, fault message) of a failure callback's stored body."""
    try:
        body = json.loads(body_text)
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


__all__ = [
    "DEFAULT_DEADLINE",
    "EARLY_CALLBACK_WINDOW",
    "PROVISIONING_ACTIONS",
    "DeviceResult",
    "TrackedRequest",
    "deadline_advice",
    "fault_in",
    "is_pollable",
    "outcome_text",
    "same_target",
    "settled_by_deadline",
    "settled_state",
    "settles_on_last_result",
    "superseded_note",
]
