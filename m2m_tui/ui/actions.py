"""What the user can do to a device or a filter, and what each action costs.

Plain Python (no Textual), so the rules can be tested alone: which actions change state,
which are pollable, what the confirm dialog must say, and how each becomes an API request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from m2m_tui.api.client import ThingSpaceClient
    from m2m_tui.api.models import DeviceId, RequestIdResponse

DAILY_LIMIT = 5


class Action(StrEnum):
    SUSPENSION_STATUS = "suspension_status"
    SUSPEND = "suspend"
    RESTORE = "restore"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def changes_state(self) -> bool:
        return self is not Action.SUSPENSION_STATUS


@dataclass(frozen=True)
class DeviceTarget:
    """One device, named by the identifier it was found with."""

    account: str | None
    kind: str
    id: str
    label: str = ""

    @property
    def description(self) -> str:
        return f"{self.kind.upper()} {self.id}"

    def wire(self) -> list[dict[str, str]]:
        return [{"id": self.id, "kind": self.kind}]

    def device_id(self) -> DeviceId:
        from m2m_tui.api.models import DeviceId

        return DeviceId.model_validate({"id": self.id, "kind": self.kind})


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


@dataclass(frozen=True)
class SubmittedRequest:
    """A request ThingSpace accepted; handed to the tracker."""

    action: Action
    account: str | None
    target: Any
    target_label: str
    request_id: str
    pollable: bool
    submitted_at: float = field(default_factory=time.time)


class RequestSink(Protocol):
    """Whoever follows a request after it is accepted (the app; the tracker later)."""

    def request_submitted(
        self,
        action: Action,
        account: str | None,
        target: Any,
        request_id: str,
        pollable: bool,
        target_label: str = "",
    ) -> SubmittedRequest: ...


def is_pollable(action: Action, target: Target) -> bool:
    """Request status answers only for single-device activate/deactivate/suspend/restore."""
    return action.changes_state and isinstance(target, DeviceTarget)


def completion_note(action: Action, target: Target) -> str:
    if is_pollable(action, target):
        return "Tracked by polling and by the CarrierService callback."
    if action is Action.SUSPENSION_STATUS:
        return "Results arrive only by DeviceSuspensionStatus callback."
    return "Filter request: results arrive only by callback (no polling)."


def consequences(
    action: Action, target: Target, params: ActionParams, done_today: int = 0
) -> list[str]:
    """The lines a confirm dialog shows: what happens, what it costs, how it is followed."""
    who = target.description
    lines: list[str]
    if action is Action.SUSPEND:
        lines = [
            f"Suspends {who}: no data until it is restored.",
            "Suspended lines are still billed and auto-resume after the contract's maximum "
            "suspend days.",
        ]
    elif action is Action.RESTORE:
        lines = [f"Restores service on {who}."]
    elif action is Action.ACTIVATE:
        lines = [
            f"Activates {who} on plan {params.plan or '?'} with an MDN in ZIP "
            f"{params.zip_code or '?'}.",
            "Activation starts billing and can take minutes to 24 hours.",
        ]
    elif action is Action.DEACTIVATE:
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


def build_request(action: Action, target: Target, params: ActionParams) -> Any:
    """The API request model; raises pydantic ValidationError (a ValueError) when invalid."""
    from m2m_tui.api import models as m

    if action is Action.SUSPENSION_STATUS:
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
        Action.SUSPEND: m.SuspendRequest,
        Action.RESTORE: m.RestoreRequest,
        Action.ACTIVATE: m.ActivateRequest,
        Action.DEACTIVATE: m.DeactivateRequest,
    }[action]
    extra: dict[str, Any] = {}
    if action is Action.ACTIVATE:
        extra = {"servicePlan": params.plan, "mdnZipCode": params.zip_code}
    elif action is Action.DEACTIVATE:
        extra = {"reasonCode": params.reason_code, "etfWaiver": params.etf_waiver}
    if isinstance(target, DeviceTarget):
        if target.account is None:
            return cls(
                devices=[m.DeviceSelection(deviceIds=[target.device_id()])],
                **extra,
            )
        return cls.for_devices(target.account, target.device_id(), **extra)
    if action is Action.ACTIVATE:
        raise ValueError("activation needs devices: open one device and activate it")
    fields = [m.CustomField(key=k, value=v) for k, v in target.custom_fields]
    return cls(
        accountName=target.account,
        groupName=target.group or None,
        servicePlan=target.plan or None,
        customFields=fields or None,
        **extra,
    )


async def submit(client: ThingSpaceClient, action: Action, request: Any) -> str:
    """Send the request once (never retried) and return its requestId."""
    calls: dict[Action, Callable[[Any], Awaitable[RequestIdResponse]]] = {
        Action.SUSPENSION_STATUS: client.suspension_status,
        Action.SUSPEND: client.suspend,
        Action.RESTORE: client.restore,
        Action.ACTIVATE: client.activate,
        Action.DEACTIVATE: client.deactivate,
    }
    result = await calls[action](request)
    return str(result.requestId)
