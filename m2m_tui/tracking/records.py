"""The values the journal takes and returns: small frozen dataclasses and string enums.

Rows are plain slotted dataclasses, not pydantic models, because the UI may hold thousands of
them (design.md, speed rules): bodies stay JSON text until someone asks to read one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from m2m_tui.tracking.results import outcome_text


def device_key(kind: str, device_id: str) -> str:
    """How results are keyed, as the listener keys callbacks: ``imei:359876543210987``.

    Here, not in the tracker, so the desk can key devices without importing the API models
    (pydantic) before the first frame."""
    return f"{kind.strip().lower()}:{device_id.strip()}"


class JournalError(Exception):
    """The journal cannot be opened, read or written; the message names the file and why."""


class JournalUnreachable(JournalError):
    """The journal's database cannot be reached right now (down, refused, cut off): unlike
    other failures, it may work again later by itself, so callers retry rather than give up."""

    unreachable = True


class UnknownRequest(JournalError, LookupError):
    """No request with that id is in the journal."""


class RequestAlreadyRecorded(JournalError):
    """A request with that id is in the journal already (``existing``, the recorded row):
    the tracker decides whether it is the same request or a new attempt."""

    def __init__(self, where: object, existing: RequestRow | None) -> None:
        known = existing.request_id if existing is not None else "?"
        super().__init__(f"{where}: request {known} is already recorded")
        self.existing = existing


class JournalRecordError(JournalError, ValueError):
    """One record could not be stored (e.g. an integer too large for sqlite); others were."""


class RequestAction(StrEnum):
    """What a request asks ThingSpace to do: the one action enum of the tracker, the desk and
    the screens (its value is what the journal stores)."""

    SUSPENSION_STATUS = "suspension_status"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    SUSPEND = "suspend"
    RESTORE = "restore"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def changes_state(self) -> bool:
        """Every action but the status read changes the line (and counts against its limit)."""
        return self is not RequestAction.SUSPENSION_STATUS


class RequestState(StrEnum):
    SUBMITTED = "submitted"
    PENDING = "pending"
    PARTIAL = "partial"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


#: States a request can still leave: the tracker reloads these on restart.
UNFINISHED_STATES: frozenset[RequestState] = frozenset(
    {RequestState.SUBMITTED, RequestState.PENDING, RequestState.PARTIAL}
)
#: Final states: a request in one of these never moves again.
FINISHED_STATES: frozenset[RequestState] = frozenset(RequestState) - UNFINISHED_STATES


class CompletedBy(StrEnum):
    POLL = "poll"
    CALLBACK = "callback"


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


class RejectionReason(StrEnum):
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    INVALID_ENVELOPE = "invalid_envelope"
    BAD_CREDENTIALS = "bad_credentials"
    FORBIDDEN_SOURCE = "forbidden_source"


# --- what callers hand to the journal -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallbackRecord:
    """One accepted callback POST, as the listener hands it over.

    ``body`` is the parsed JSON object as received: the journal redacts the password itself,
    so no caller can forget to.
    """

    request_id: str
    kind: str
    body: Mapping[str, Any]
    device_key: str | None = None
    callback_count: int | None = None
    source: str | None = None
    received_at: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class RejectionRecord:
    """One refused POST; ``excerpt`` is raw text and is redacted and cut to 500 chars on write."""

    reason: str
    detail: str
    excerpt: str = ""
    source: str | None = None
    received_at: float = field(default_factory=time.time)


# --- what the journal returns ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallbackRecordId:
    """Where a callback was stored, and whether an identical one was stored before."""

    id: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class CallbackRow:
    """A stored callback. ``body`` is compact JSON with the password redacted; its members are
    reordered (password and callbackCount first, the rest by key) so resends compare equal."""

    id: int
    received_at: float
    request_id: str
    kind: str
    device_key: str | None
    body: str
    body_hash: str
    callback_count: int | None
    duplicate: bool
    verdict: str
    source: str | None

    def body_dict(self) -> dict[str, Any]:
        """The stored (redacted) body, decoded on demand."""
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass(frozen=True, slots=True)
class RejectionRow:
    id: int
    received_at: float
    reason: str
    detail: str
    source: str | None
    excerpt: str


@dataclass(frozen=True, slots=True)
class RequestRow:
    request_id: str
    action: str
    account: str
    target_json: str
    expected_results: int | None
    pollable: bool
    submitted_at: float
    state: str
    completed_by: str | None
    deadline: float
    updated_at: float
    last_error_code: str | None
    last_error_message: str | None
    profile: str | None
    #: Who submitted it: ``user@host`` of the engineer's session (None: an older journal).
    submitted_by: str | None = None

    @property
    def target(self) -> Any:
        """Devices (a list of ``{id, kind}``) or a filter dict, decoded on demand."""
        return json.loads(self.target_json)

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED_STATES


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """One request as every reader sees it: the tracker (live) and the journal queries (a page
    of the requests view, a detail) return this one shape, so a front end never merges two.

    States and actions are the enums (``RequestState.FAILED``, not ``"failed"``); being
    ``StrEnum`` members they still compare equal to their strings. ``target`` is the decoded
    devices or filter, shared with the tracker: read it, never change it. The first eight
    fields come first so the older ``RequestChanged(...)`` calls keep working.
    """

    request_id: str
    action: RequestAction
    state: RequestState
    completed_by: CompletedBy | None
    received: int
    expected: int | None
    failures: int
    pollable: bool
    account: str = ""
    target: Any = None
    submitted_at: float = 0.0
    deadline: float = 0.0
    last_error_code: str | None = None
    last_error_message: str | None = None
    updated_at: float | None = None
    profile: str | None = None
    submitted_by: str | None = None

    def __post_init__(self) -> None:
        # Callers may still pass the strings; store the enums.
        object.__setattr__(self, "action", RequestAction(self.action))
        object.__setattr__(self, "state", RequestState(self.state))
        if self.completed_by is not None:
            object.__setattr__(self, "completed_by", CompletedBy(self.completed_by))

    @classmethod
    def of_row(cls, row: RequestRow, received: int = 0, failures: int = 0) -> RequestSummary:
        """A journal row with its result counts (``Journal.result_counts``): how the desk's
        journal queries build the summary of a page or of one request."""
        try:
            target = row.target
        except ValueError:  # a damaged row still shows
            target = row.target_json
        return cls(
            request_id=row.request_id,
            action=RequestAction(row.action),
            state=RequestState(row.state),
            completed_by=CompletedBy(row.completed_by) if row.completed_by else None,
            received=received,
            expected=row.expected_results,
            failures=failures,
            pollable=row.pollable,
            account=row.account,
            target=target,
            submitted_at=row.submitted_at,
            deadline=row.deadline,
            last_error_code=row.last_error_code,
            last_error_message=row.last_error_message,
            updated_at=row.updated_at,
            profile=row.profile,
            submitted_by=row.submitted_by,
        )

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED_STATES

    @property
    def callback_only(self) -> bool:
        return not self.pollable

    @property
    def outcome(self) -> str | None:
        """The device results in words once any are in: "3 of 5 devices failed"."""
        return outcome_text(self.received, self.expected, self.failures)


@dataclass(frozen=True, slots=True)
class PollRow:
    id: int
    request_id: str
    polled_at: float
    status: str
    changed: bool


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device someone looked up; one row per (account, kind, id), refreshed on each lookup."""

    account: str
    kind: str
    device_id: str
    label: str | None
    summary_json: str | None
    looked_up_at: float
    lookups: int

    @property
    def summary(self) -> Any:
        return None if self.summary_json is None else json.loads(self.summary_json)


@dataclass(frozen=True, slots=True)
class JournalCounts:
    """Totals: ``callbacks_accepted`` are first arrivals, ``callbacks_duplicate`` resends."""

    callbacks_accepted: int
    callbacks_duplicate: int
    rejections: Mapping[str, int]
    requests: Mapping[str, int]

    @property
    def rejections_total(self) -> int:
        return sum(self.rejections.values())
