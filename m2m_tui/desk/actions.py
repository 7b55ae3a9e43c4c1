"""What the engineer can do to a device or a filter: targets, parameters, what each action
costs, the API request it becomes, and what submitting it came to.

Plain Python (no Textual). The action enum is the tracker's :class:`RequestAction`, the one
used everywhere. :class:`m2m_tui.desk.requests.RequestDesk` runs the submission itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from m2m_tui.desk.policy import Refused, is_pollable
from m2m_tui.tracking.records import RequestAction, device_key

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from m2m_tui.api.client import ThingSpaceClient
    from m2m_tui.api.models import Device, DeviceId, RequestIdResponse

__all__ = [
    "DAILY_LIMIT",
    "ActionParams",
    "DeviceTarget",
    "FilterTarget",
    "Refused",
    "RequestAction",
    "Submitted",
    "SubmittedRequest",
    "Target",
    "Unconfirmed",
    "build_request",
    "completion_note",
    "consequences",
    "device_target",
    "is_pollable",
    "post_request",
]

DAILY_LIMIT = 5


@dataclass(frozen=True)
class DeviceTarget:
    """One device, named by the identifier it was found with.

    ``known_ids`` are every (kind, id) the device list answer carried for it: requests are
    matched to the device by any of them (its identity), not by the label it was typed with.
    They take no part in equality: the same identifier typed twice is the same target.
    """

    account: str | None
    kind: str
    id: str
    label: str = ""
    known_ids: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def description(self) -> str:
        return f"{self.kind.upper()} {self.id}"

    @property
    def identity(self) -> frozenset[str]:
        """``kind:id`` keys of every identifier known for the device (as callbacks key them)."""
        keys = {device_key(self.kind, self.id)}
        keys.update(device_key(kind, value) for kind, value in self.known_ids if kind and value)
        return frozenset(keys)

    def wire(self) -> list[dict[str, str]]:
        return [{"id": self.id, "kind": self.kind}]

    def device_id(self) -> DeviceId:
        from m2m_tui.api.models import DeviceId

        return DeviceId.model_validate({"id": self.id, "kind": self.kind})


def device_target(device: Device, kind: str, value: str, account: str | None) -> DeviceTarget:
    """The target for ``device`` found by ``kind``/``value``, knowing all its identifiers."""
    known = tuple((d.kind, d.id) for d in device.deviceIds if d.kind and d.id)
    return DeviceTarget(device.accountName or account, kind, value, known_ids=known)


@dataclass(frozen=True)
class FilterTarget:
    """Every device of an account matching a group, plan and custom fields (ANDed)."""

    account: str | None
    group: str | None = None
    plan: str | None = None
    custom_fields: tuple[tuple[str, str], ...] = ()
    loaded: int | None = None
    more: bool = False

    @property
    def description(self) -> str:
        parts = []
        if self.group:
            parts.append(f"group {self.group!r}")
        if self.plan:
            parts.append(f"plan {self.plan!r}")
        parts.extend(f"{k}={v!r}" for k, v in self.custom_fields)
        return "devices with " + (" and ".join(parts) if parts else "no filter")

    @property
    def selects_devices(self) -> bool:
        return bool(self.group or self.plan or self.custom_fields)

    @property
    def identity(self) -> frozenset[str]:
        return frozenset()

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.group:
            out["groupName"] = self.group
        if self.plan:
            out["servicePlan"] = self.plan
        if self.custom_fields:
            out["customFields"] = [{"key": k, "value": v} for k, v in self.custom_fields]
        return out


Target = DeviceTarget | FilterTarget


@dataclass(frozen=True)
class ActionParams:
    plan: str | None = None
    zip_code: str | None = None
    reason_code: str = "FF"
    etf_waiver: bool = False


def wire_keys(target_wire: Any) -> frozenset[str]:
    """``kind:id`` keys of a wire target (a filter target has none)."""
    if not isinstance(target_wire, list):
        return frozenset()
    keys = set()
    for entry in target_wire:
        if isinstance(entry, dict) and entry.get("id") and entry.get("kind"):
            keys.add(device_key(str(entry["kind"]), str(entry["id"])))
    return frozenset(keys)


@dataclass(frozen=True)
class SubmittedRequest:
    """A request ThingSpace accepted, as this session keeps it."""

    action: RequestAction
    account: str | None
    target: Any
    """The wire target: a list of ``{id, kind}`` or a filter dict."""
    target_label: str
    request_id: str
    pollable: bool
    submitted_at: float = field(default_factory=time.time)
    device_keys: frozenset[str] = frozenset()
    """Every identifier known for the device it is about (empty for a filter)."""

    def concerns(self, identity: Iterable[str]) -> bool:
        """Is this request about the device with these identifiers (any one in common)?"""
        return not self.device_keys.isdisjoint(identity)


@dataclass(frozen=True)
class Submitted:
    """ThingSpace accepted it. ``how`` tells the truth about how it will finish."""

    request: SubmittedRequest
    how: str
    journaled: bool
    problem: str | None = None
    """Why it is not journaled (the request went through; only our record of it failed)."""
    found_after_timeout: bool = False


@dataclass(frozen=True)
class Unconfirmed:
    """The POST timed out: ThingSpace may or may not have accepted it (never resent)."""

    action: RequestAction
    target_label: str
    error: BaseException
    watching: bool
    """Callbacks naming the device are watched for an hour to find its requestId."""
    found: tuple[Submitted, ...] = ()
    """Found at once: its callbacks had beaten the timeout (they name its requestId)."""


def completion_note(action: RequestAction, target: Target) -> str:
    if is_pollable(action, target):
        return "Tracked by polling and by the CarrierService callback."
    if action is RequestAction.SUSPENSION_STATUS:
        return "Results arrive only by DeviceSuspensionStatus callback."
    return "Filter request: results arrive only by callback (no polling)."


def consequences(
    action: RequestAction, target: Target, params: ActionParams, done_today: int = 0
) -> list[str]:
    """The lines a confirm dialog shows: what happens, what it costs, how it is followed."""
    who = target.description
    lines: list[str]
    if action is RequestAction.SUSPEND:
        lines = [
            f"Suspends {who}: no data until it is restored.",
            "Suspended lines are still billed and auto-resume after the contract's maximum "
            "suspend days.",
        ]
    elif action is RequestAction.RESTORE:
        lines = [f"Restores service on {who}."]
    elif action is RequestAction.ACTIVATE:
        lines = [
            f"Activates {who} on plan {params.plan or '?'} with an MDN in ZIP "
            f"{params.zip_code or '?'}.",
            "Activation starts billing and can take minutes to 24 hours.",
        ]
    elif action is RequestAction.DEACTIVATE:
        etf = "waived" if params.etf_waiver else "NOT waived: an early-termination fee may apply"
        lines = [
            f"Deactivates {who}: service ENDS and the MDN may be released.",
            f"Reason code {params.reason_code}; early-termination fee {etf}.",
        ]
    else:
        lines = [f"Asks ThingSpace for the suspension status of {who}."]
    if isinstance(target, FilterTarget):
        count = "an unknown number of"
        if target.loaded is not None:
            count = f"{target.loaded}{'+' if target.more else ''}"
        lines.append(f"Applies to EVERY matching device ({count} devices) in {target.account}.")
    if action.changes_state:
        limit = f"Each action counts against the line's daily limit ({DAILY_LIMIT} a day)."
        if done_today:
            limit += f" Already {done_today} from this session today."
        lines.append(limit)
        lines.append("Not retried automatically; a timeout means: check the request status.")
    lines.append(completion_note(action, target))
    return lines


def _state_kind(state: str | None) -> str | None:
    """The device list's state as one of three words (None: another or unknown state)."""
    word = (state or "").strip().lower()
    if word == "active":
        return "active"
    if word.startswith("suspend"):
        return "suspended"
    if word.startswith("deactiv"):
        return "deactivated"
    return None


_STATE_CONFLICTS: dict[tuple[RequestAction, str], str] = {
    (RequestAction.ACTIVATE, "active"): "the line is already active",
    (RequestAction.ACTIVATE, "suspended"): "the line is suspended: restore it (R), not activate",
    (RequestAction.RESTORE, "active"): "the line is active: there is nothing to restore",
    (RequestAction.RESTORE, "deactivated"): "the line is deactivated: activate it (A) instead",
    (RequestAction.SUSPEND, "suspended"): "the line is already suspended",
    (RequestAction.SUSPEND, "deactivated"): "the line is deactivated: nothing to suspend",
    (RequestAction.DEACTIVATE, "deactivated"): "the line is already deactivated",
}


def state_conflict(action: RequestAction, state: str | None) -> str | None:
    """Why ``action`` cannot apply to a line in ``state`` (None: it can, or we cannot tell).

    ThingSpace would accept the request and fail it minutes later (``DeviceAlreadyActive``
    and the like), after it counted against the line's daily limit: say so before sending.
    """
    kind = _state_kind(state)
    return None if kind is None else _STATE_CONFLICTS.get((action, kind))


def listed_conflicts(action: RequestAction, states: Mapping[str, int]) -> str | None:
    """How many listed devices ``action`` cannot apply to, as a confirm line (None: none).

    ``states``: how many devices of a filter's listing are in each state. A walk suspended
    "every matching device" of a group whose 11 lines were all suspended already: each failed
    by callback minutes later, and each counted against its line's daily limit.
    """
    listed = sum(states.values())
    bad: dict[str, int] = {}
    for state, count in states.items():
        reason = state_conflict(action, state)
        if reason is not None and count:
            bad[reason.split(":")[0].removeprefix("the line is ")] = count
    total = sum(bad.values())
    if not total:
        return None
    how = ", ".join(f"{count} {what}" for what, count in bad.items())
    if total == listed:
        return f"WARNING: all {listed} devices listed cannot take it ({how}): each will fail."
    return f"WARNING: {total} of the {listed} devices listed cannot take it ({how}): those fail."


def typed_confirmation(action: RequestAction, target: Target) -> str | None:
    """What the engineer must type to confirm a change of many devices (None: ``y`` will do).

    One key must not change fifty lines: a filter's state change is confirmed by typing the
    number of devices it matched, or ``all`` when the listing stopped before the end (the
    request still reaches every matching device, however many there are).
    """
    if not action.changes_state or not isinstance(target, FilterTarget):
        return None
    if target.loaded is not None and not target.more:
        return None if target.loaded <= 1 else str(target.loaded)
    return "all"


def build_request(action: RequestAction, target: Target, params: ActionParams) -> Any:
    """The API request model; raises pydantic ValidationError (a ValueError) when invalid."""
    from m2m_tui.api import models as m

    if action is RequestAction.SUSPENSION_STATUS:
        if isinstance(target, DeviceTarget):
            return m.SuspensionStatusRequest(
                accountName=target.account, deviceIds=[target.device_id()]
            )
        fields = [m.CustomField(key=k, value=v) for k, v in target.custom_fields]
        return m.SuspensionStatusRequest(
            accountName=target.account,
            filter=m.SuspensionFilter(
                groupName=target.group or None,
                servicePlan=target.plan or None,
                customFields=fields or None,
            ),
        )
    cls: Any = {
        RequestAction.SUSPEND: m.SuspendRequest,
        RequestAction.RESTORE: m.RestoreRequest,
        RequestAction.ACTIVATE: m.ActivateRequest,
        RequestAction.DEACTIVATE: m.DeactivateRequest,
    }[action]
    extra: dict[str, Any] = {}
    if action is RequestAction.ACTIVATE:
        extra = {"servicePlan": params.plan, "mdnZipCode": params.zip_code}
    elif action is RequestAction.DEACTIVATE:
        extra = {"reasonCode": params.reason_code, "etfWaiver": params.etf_waiver}
    if isinstance(target, DeviceTarget):
        if target.account is None:
            return cls(
                devices=[m.DeviceSelection(deviceIds=[target.device_id()])],
                **extra,
            )
        return cls.for_devices(target.account, target.device_id(), **extra)
    if action is RequestAction.ACTIVATE:
        raise ValueError("activation needs devices: open one device and activate it")
    fields = [m.CustomField(key=k, value=v) for k, v in target.custom_fields]
    return cls(
        accountName=target.account,
        groupName=target.group or None,
        servicePlan=target.plan or None,
        customFields=fields or None,
        **extra,
    )


async def post_request(client: ThingSpaceClient, action: RequestAction, request: Any) -> str:
    """Send the request once (never retried) and return its requestId."""
    calls: dict[RequestAction, Callable[[Any], Awaitable[RequestIdResponse]]] = {
        RequestAction.SUSPENSION_STATUS: client.suspension_status,
        RequestAction.SUSPEND: client.suspend,
        RequestAction.RESTORE: client.restore,
        RequestAction.ACTIVATE: client.activate,
        RequestAction.DEACTIVATE: client.deactivate,
    }
    result = await calls[action](request)
    return str(result.requestId)
