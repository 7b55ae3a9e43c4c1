"""Device identifiers, selection filters, and the device list call (``thingspace-api.md`` §3, §6)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from m2m_tui.api.identifiers import DeviceKind, identifier_error
from m2m_tui.api.models.base import (
    FlexibleDateTime,
    InboundModel,
    KeyValue,
    OutboundModel,
)

CUSTOM_FIELD_NAMES = (
    "CustomField1",
    "CustomField2",
    "CustomField3",
    "CustomField4",
    "CustomField5",
)
ACCOUNT_NAME_HINT = "account names are strings like 0000123456-00001: keep the leading zeros"


def check_account_name(value: str) -> str:
    """Accept any non-blank string; never coerce (leading zeros are part of the name)."""
    text = value.strip()
    if not text:
        raise ValueError("account name is empty; " + ACCOUNT_NAME_HINT)
    if re.search(r"[\s'<\\]", text):
        raise ValueError(f"account name {text!r} contains a space, ' < or \\; " + ACCOUNT_NAME_HINT)
    return text


class DeviceId(OutboundModel):
    """An identifier we send: its ``id`` is checked against the format of its ``kind``."""

    id: str
    kind: DeviceKind

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_any_case(cls, value: Any) -> Any:
        return DeviceKind.parse(value) if isinstance(value, str) else value

    @field_validator("id", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _id_fits_kind(self) -> DeviceId:
        problem = identifier_error(self.kind, self.id)
        if problem:
            raise ValueError(problem)
        if self.kind is DeviceKind.MEID:
            self.id = self.id.upper()
        return self

    def __str__(self) -> str:
        return f"{self.kind.value.upper()} {self.id}"


class ReportedDeviceId(InboundModel):
    """An identifier ThingSpace reports: kind lower-cased (it sends ``iccId``, ``Imei``), not checked."""

    id: str
    kind: str

    @field_validator("kind", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("id", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    def known_kind(self) -> DeviceKind | None:
        try:
            return DeviceKind(self.kind)
        except ValueError:
            return None

    def matches(self, other: DeviceId | ReportedDeviceId) -> bool:
        """Same device identifier, whatever casing either side used."""
        other_kind = other.kind.value if isinstance(other.kind, DeviceKind) else other.kind
        return self.kind == other_kind.lower() and self.id.upper() == other.id.upper()

    def __str__(self) -> str:
        return f"{self.kind.upper()} {self.id}"


class CustomField(OutboundModel):
    """A custom-field filter: only CustomField1-5, values up to 50 characters."""

    key: str
    value: str = Field(max_length=50)

    @field_validator("key", mode="before")
    @classmethod
    def _known_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            for name in CUSTOM_FIELD_NAMES:
                if value.strip().lower() == name.lower():
                    return name
            raise ValueError(
                f"custom field {value!r} is not allowed; expected CustomField1 to CustomField5"
            )
        return value


class DeviceSelection(OutboundModel):
    """One device in a ``devices`` list: one identifier is enough, several are allowed."""

    deviceIds: list[DeviceId] = Field(min_length=1)


class DeviceIdentifierFilter(OutboundModel):
    kind: DeviceKind
    contains: str
    startswith: str | None = None
    endswith: str | None = None

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_any_case(cls, value: Any) -> Any:
        return DeviceKind.parse(value) if isinstance(value, str) else value


class DeviceListFilter(OutboundModel):
    deviceIdentifierFilters: list[DeviceIdentifierFilter] = Field(min_length=1)


class DeviceListRequest(OutboundModel):
    """``POST /devices/actions/list``: one device (``deviceId``) or a filtered, paged list."""

    accountName: str | None = None
    deviceId: DeviceId | None = None
    filter: DeviceListFilter | None = None
    currentState: str | None = None
    customFields: list[CustomField] | None = None
    groupName: str | None = None
    servicePlan: str | None = None
    earliest: str | None = None
    latest: str | None = None
    maxNumberOfDevices: int | None = Field(default=None, ge=1)
    largestDeviceIdSeen: int | None = Field(default=None, ge=0)

    @field_validator("accountName")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        return None if value is None else check_account_name(value)

    @model_validator(mode="after")
    def _rules(self) -> DeviceListRequest:
        if self.groupName and not self.accountName:
            raise ValueError("accountName is required when filtering by groupName")
        filtered = any(
            (self.filter, self.currentState, self.customFields, self.groupName, self.servicePlan)
        )
        if self.deviceId is not None and filtered:
            raise ValueError("deviceId selects one device; do not combine it with filters")
        return self


class CarrierInformation(InboundModel):
    carrierName: str | None = None
    servicePlan: str | None = None
    state: str | None = None


class Device(InboundModel):
    """One device as the device list returns it."""

    accountName: str | None = None
    billingCycleEndDate: FlexibleDateTime = None
    carrierInformations: list[CarrierInformation] = Field(default_factory=list)
    connected: bool | None = None
    createdAt: FlexibleDateTime = None
    deviceIds: list[ReportedDeviceId] = Field(default_factory=list)
    groupNames: list[str] = Field(default_factory=list)
    ipAddress: str | None = None
    lastActivationBy: str | None = None
    lastActivationDate: FlexibleDateTime = None
    lastConnectionDate: FlexibleDateTime = None
    customFields: list[KeyValue] = Field(default_factory=list)
    extendedAttributes: list[KeyValue] = Field(default_factory=list)

    @property
    def state(self) -> str | None:
        """Line state, lower-cased (``active``, ``suspend``, ``deactive``, ``pre-active``...)."""
        for info in self.carrierInformations:
            if info.state:
                return info.state.strip().lower()
        return None

    @property
    def service_plan(self) -> str | None:
        for info in self.carrierInformations:
            if info.servicePlan:
                return info.servicePlan
        return None

    def identifier(self, kind: DeviceKind | str) -> str | None:
        wanted = (kind.value if isinstance(kind, DeviceKind) else kind).lower()
        for device_id in self.deviceIds:
            if device_id.kind == wanted:
                return device_id.id
        return None

    def attribute(self, key: str) -> str | None:
        for pair in self.extendedAttributes:
            if pair.key == key:
                return pair.value
        return None

    @property
    def numeric_device_id(self) -> int | None:
        """The ``DeviceId`` extended attribute, the paging key for ``largestDeviceIdSeen``."""
        value = self.attribute("DeviceId")
        return int(value) if value and value.isdigit() else None


class DeviceListResponse(InboundModel):
    hasMoreData: bool = False
    devices: list[Device] = Field(default_factory=list)


__all__ = [
    "CUSTOM_FIELD_NAMES",
    "CarrierInformation",
    "CustomField",
    "Device",
    "DeviceId",
    "DeviceIdentifierFilter",
    "DeviceListFilter",
    "DeviceListRequest",
    "DeviceListResponse",
    "DeviceSelection",
    "ReportedDeviceId",
    "check_account_name",
]
