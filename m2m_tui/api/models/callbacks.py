"""Callback registration bodies and the callback messages ThingSpace POSTs to us (§4, §7)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationError, field_validator

from m2m_tui.api.models.base import (
    FlexibleDate,
    FlexibleDateTime,
    InboundModel,
    LenientInt,
    OutboundModel,
    Secret,
)
from m2m_tui.api.models.devices import ReportedDeviceId

COMPLETION_COMMENT = "Request Completed Processing"


class CallbackService(StrEnum):
    """The callback services this tool cares about (ThingSpace has more; any name is accepted)."""

    CARRIER_SERVICE = "CarrierService"
    DEVICE_SUSPENSION_STATUS = "DeviceSuspensionStatus"
    EXTERNAL_PROVISIONING_CHANGES = "ExternalProvisioningChanges"
    RESUME_TRACKING_NOTIFICATION = "ResumeTrackingNotification"


class RegisterCallbackRequest(OutboundModel):
    """``POST /v1/callbacks/{account}``: one URL per service per account (it replaces the old one)."""

    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://\S+$")
    username: str | None = None
    password: Secret | None = None


class RegisteredCallback(InboundModel):
    """One entry of ``GET /v1/callbacks/{account}`` (ThingSpace returns the password in clear)."""

    accountName: str | None = None
    serviceName: str
    url: str | None = None
    username: str | None = None
    password: Secret | None = None


class CallbackRegistrationResult(InboundModel):
    """What register and deregister answer."""

    accountName: str | None = None
    serviceName: str | None = None


class FaultResponse(InboundModel):
    faultcode: str | None = None
    faultstring: str | None = None

    @property
    def code_suffix(self) -> str | None:
        """``DeviceAlreadyActive`` from ``UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive``."""
        if not self.faultcode:
            return None
        parts = self.faultcode.split(".")
        return ".".join(parts[2:]) if len(parts) > 2 else parts[-1]


class SuspensionStatus(InboundModel):
    """One device's entry in a DeviceSuspensionStatus callback (numbers arrive as strings)."""

    deviceIds: list[ReportedDeviceId] = Field(default_factory=list)
    state: str | None = None
    suspendDate: FlexibleDateTime = None
    expectedResumeDate: FlexibleDate = None
    daysRemainingAutoResume: LenientInt = None
    maxSuspendDaysAllowed: LenientInt = None
    numDaysSuspendedLast12Months: LenientInt = None
    numDaysSuspendAllowedCurrent12Months: LenientInt = None
    timesSuspendedLast12Months: LenientInt = None


class CallbackKind(StrEnum):
    SUSPENSION_STATUS = "suspension_status"
    DEVICE_RESULT = "device_result"
    FAILURE = "failure"
    COMPLETION = "completion"
    OTHER = "other"


class CallbackMessage(InboundModel):
    """The common envelope of every callback; ``kind`` says which variant it is.

    ``requestId`` is the only field the listener insists on: everything else is optional, and
    unknown fields are kept so a message we do not understand is still stored and shown.
    """

    username: str | None = None
    password: Secret | None = None
    requestId: str = Field(min_length=1)
    deviceIds: list[ReportedDeviceId] | None = None
    deviceResponse: dict[str, Any] | None = None
    status: str | None = None
    faultResponse: FaultResponse | None = None
    comment: str | None = None
    callbackCount: int | None = Field(default=None, ge=0)
    maxCallbackThreshold: int | None = Field(default=None, ge=0)

    @field_validator("requestId", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @property
    def kind(self) -> CallbackKind:
        if self.faultResponse is not None or (self.status or "").lower() in ("failed", "failure"):
            return CallbackKind.FAILURE
        response = self.deviceResponse or {}
        if "deviceSuspensionStatusResponse" in response:
            return CallbackKind.SUSPENSION_STATUS
        if not response and COMPLETION_COMMENT.lower() in (self.comment or "").lower():
            return CallbackKind.COMPLETION
        if self.deviceIds or response or self.status:
            return CallbackKind.DEVICE_RESULT
        return CallbackKind.OTHER

    @property
    def is_completion(self) -> bool:
        return self.kind is CallbackKind.COMPLETION

    def suspension_statuses(self) -> list[SuspensionStatus]:
        """The per-device entries of a DeviceSuspensionStatus message; malformed items skipped."""
        items = (self.deviceResponse or {}).get("deviceSuspensionStatusResponse")
        if not isinstance(items, list):
            return []
        parsed: list[SuspensionStatus] = []
        for item in items:
            try:
                parsed.append(SuspensionStatus.model_validate(item))
            except ValidationError:
                continue
        return parsed

    def devices(self) -> list[ReportedDeviceId]:
        """Every device the message is about, wherever ThingSpace put the identifiers."""
        found: list[ReportedDeviceId] = list(self.deviceIds or [])
        for status in self.suspension_statuses():
            found.extend(status.deviceIds)
        if not found:
            for inner in (self.deviceResponse or {}).values():
                if isinstance(inner, dict) and isinstance(inner.get("deviceIds"), list):
                    for raw in inner["deviceIds"]:
                        try:
                            found.append(ReportedDeviceId.model_validate(raw))
                        except ValidationError:
                            continue
        return found
