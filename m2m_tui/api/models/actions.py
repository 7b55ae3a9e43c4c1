"""Requests that answer a ``requestId`` at once and finish later (``thingspace-api.md`` §5)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from m2m_tui.api.models.base import InboundModel, OutboundModel
from m2m_tui.api.models.devices import (
    CustomField,
    DeviceId,
    DeviceSelection,
    check_account_name,
)

MAX_DEVICES_PER_REQUEST = 10_000


class _Targeted(OutboundModel):
    """Devices by identifier, or by filter (group, plan, custom fields); never both."""

    accountName: str | None = None
    devices: list[DeviceSelection] | None = None
    groupName: str | None = None
    servicePlan: str | None = None
    customFields: list[CustomField] | None = None

    @field_validator("accountName")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return None if value is None else check_account_name(value)

    @property
    def uses_filter(self) -> bool:
        return bool(self.groupName or self.servicePlan or self.customFields)

    @property
    def device_count(self) -> int | None:
        """How many devices are named, or None for a filter (ThingSpace decides)."""
        return None if self.devices is None else len(self.devices)

    @model_validator(mode="after")
    def _selection_rules(self) -> Self:
        if self.groupName and not self.accountName:
            raise ValueError("accountName is required when selecting devices by groupName")
        if self.devices is not None and self.uses_filter:
            raise ValueError(
                "devices and filters (groupName, servicePlan, customFields) are exclusive"
            )
        if self.devices is None and not self.uses_filter:
            raise ValueError("name devices, or a filter (groupName, servicePlan or customFields)")
        if self.devices is not None:
            if not self.devices:
                raise ValueError("devices is empty; name at least one device")
            if len(self.devices) > MAX_DEVICES_PER_REQUEST:
                raise ValueError(
                    f"{len(self.devices)} devices; at most {MAX_DEVICES_PER_REQUEST} per request"
                )
        return self

    @classmethod
    def for_devices(cls, account: str, *device_ids: DeviceId, **fields: Any) -> Self:
        """Shortcut: one ``devices`` entry per identifier."""
        devices = [DeviceSelection(deviceIds=[device_id]) for device_id in device_ids]
        return cls(accountName=account, devices=devices, **fields)


class SuspendRequest(_Targeted):
    """``POST /v1/devices/actions/suspend``."""

    withBilling: bool | None = None


class RestoreRequest(_Targeted):
    """``POST /v1/devices/actions/restore`` (same body as suspend)."""

    withBilling: bool | None = None


class DeactivateRequest(_Targeted):
    """``POST /v1/devices/actions/deactivate``: ends service, may carry an early-termination fee."""

    reasonCode: str = Field(default="FF", min_length=1, max_length=4)
    etfWaiver: bool = False
    deleteAfterDeactivation: bool | None = None


class Address(OutboundModel):
    addressLine1: str
    addressLine2: str | None = None
    city: str
    state: str
    zip: str = Field(pattern=r"^\d{5}$")
    zip4: str | None = Field(default=None, pattern=r"^\d{4}$")
    country: str = "USA"
    phone: str | None = None
    phoneType: str | None = None
    emailAddress: str | None = None


class CustomerName(OutboundModel):
    firstName: str
    lastName: str
    title: str | None = None
    middleName: str | None = None
    suffix: str | None = None


class PlaceOfUse(OutboundModel):
    address: Address
    customerName: CustomerName


class ActivateRequest(_Targeted):
    """``POST /v1/devices/actions/activate``: needs a plan code and the 5-digit ZIP for the MDN."""

    servicePlan: str | None = None
    mdnZipCode: str = Field(pattern=r"^\d{5}$")
    carrierIpPoolName: str | None = None
    carrierName: str | None = None
    costCenterCode: str | None = None
    leadId: str | None = None
    primaryPlaceOfUse: PlaceOfUse | None = None
    publicIpRestriction: str | None = None
    skuNumber: str | None = None

    @property
    def uses_filter(self) -> bool:
        # On activate the plan is the plan to activate on, not a filter.
        return bool(self.groupName or self.customFields)

    @model_validator(mode="after")
    def _activation_rules(self) -> Self:
        if not self.servicePlan:
            raise ValueError("servicePlan is required to activate (a plan code of the account)")
        if self.devices is None:
            raise ValueError("devices is required to activate")
        return self


class SuspensionFilter(OutboundModel):
    groupName: str | None = None
    servicePlan: str | None = None
    customFields: list[CustomField] | None = None


class SuspensionStatusRequest(OutboundModel):
    """``POST /v1/devices/suspension/status``: identifiers or a filter; results only by callback."""

    accountName: str | None = None
    deviceIds: list[DeviceId] | None = None
    filter: SuspensionFilter | None = None

    @field_validator("accountName")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return None if value is None else check_account_name(value)

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.deviceIds is not None and self.filter is not None:
            raise ValueError("deviceIds and filter are exclusive")
        if self.deviceIds is None and self.filter is None:
            raise ValueError("name deviceIds or a filter")
        if self.deviceIds is not None and not self.deviceIds:
            raise ValueError("deviceIds is empty; name at least one device")
        if self.filter is not None:
            if self.filter.groupName and not self.accountName:
                raise ValueError("accountName is required when filtering by groupName")
            if not (self.filter.groupName or self.filter.servicePlan or self.filter.customFields):
                raise ValueError("filter is empty; give groupName, servicePlan or customFields")
        return self


class RequestIdResponse(InboundModel):
    """The synchronous answer of every asynchronous request."""

    requestId: str = Field(min_length=1)


class RequestStatus(StrEnum):
    """The page says ``Failed``, the SDK ``Failure``: both are a terminal failure."""

    PENDING = "Pending"
    SUCCESS = "Success"
    FAILED = "Failed"
    FAILURE = "Failure"

    @property
    def terminal(self) -> bool:
        return self is not RequestStatus.PENDING

    @property
    def failed(self) -> bool:
        return self in (RequestStatus.FAILED, RequestStatus.FAILURE)


class RequestStatusResponse(InboundModel):
    """``GET /v1/accounts/{account}/requests/{requestId}/status``."""

    requestId: str
    status: RequestStatus

    @field_validator("status", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        if isinstance(value, str):
            for status in RequestStatus:
                if status.value.lower() == value.strip().lower():
                    return status
        return value
