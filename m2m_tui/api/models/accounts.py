"""Account-level reads: service plans, account information, states and services, device groups
(``thingspace-diagnostics.md`` §5-§7).

Conflicts the reference records are absorbed here: plans arrive as an array or inside an
object's ``servicePlans``; the IP pools key is ``ipPools`` or ``iPPools``; group
``extendedAttributes`` may be ``null``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from m2m_tui.api.models.base import InboundModel, KeyValue, LenientInt
from m2m_tui.api.models.devices import ReportedDeviceId


class ServicePlan(InboundModel):
    name: str | None = None
    code: str | None = None
    sizeKb: LenientInt = None
    carrierServicePlanCode: str | None = None
    extendedAttributes: list[KeyValue] | None = None

    @field_validator("carrierServicePlanCode", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class ServicePlanList(InboundModel):
    """``GET /plans/{account}``: an array (doc, SDK) or an object with ``servicePlans`` (GIO)."""

    servicePlans: list[ServicePlan] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _array_or_object(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"servicePlans": data}
        if isinstance(data, dict) and data.get("servicePlans") is None:
            return {**data, "servicePlans": []}
        return data

    def find(self, code: str | None) -> ServicePlan | None:
        """The plan with this code (codes compared case-insensitively), or None."""
        if not code:
            return None
        for plan in self.servicePlans:
            if plan.code and plan.code.lower() == code.lower():
                return plan
        return None


class IpPool(InboundModel):
    poolName: str | None = None
    poolType: str | None = None
    isDefaultPool: bool | None = None


class AccountInfo(InboundModel):
    """``GET /accounts/{account}``; the pools key is read case-insensitively (§6.1)."""

    accountName: str | None = None
    accountNumber: str | None = None
    organizationName: str | None = None
    isProvisioningAllowed: bool | None = None
    carriers: list[str] = Field(default_factory=list)
    features: list[str] = Field(default_factory=list)
    ipPools: list[IpPool] = Field(default_factory=list)
    servicePlans: list[ServicePlan] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _pools_any_case(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key in list(out):
            if key.lower() == "ippools" and key != "ipPools":
                out["ipPools"] = out.pop(key)
        for key in ("carriers", "features", "ipPools", "servicePlans"):
            if out.get(key) is None:
                out.pop(key, None)
        return out

    def has_feature(self, text: str) -> bool:
        return any(text.lower() in f.lower() for f in self.features)


class CustomState(InboundModel):
    name: str | None = None
    workflowSequenceNumber: LenientInt = None
    servicePlans: list[str] = Field(default_factory=list)


class AccountService(InboundModel):
    name: str | None = None
    description: str | None = None
    states: list[CustomState] = Field(default_factory=list)


class Engagement(InboundModel):
    engagementId: str | None = None
    chargingGroup: str | None = None
    services: list[AccountService] = Field(default_factory=list)


class StatesAndServices(InboundModel):
    engagement: list[Engagement] = Field(default_factory=list)

    @field_validator("engagement", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    def state_for_plan(self, code: str | None) -> CustomState | None:
        """The custom state whose plan codes include ``code`` (R17), or None."""
        if not code:
            return None
        for engagement in self.engagement:
            for service in engagement.services:
                for state in service.states:
                    if code in state.servicePlans:
                        return state
        return None


class DeviceGroup(InboundModel):
    name: str | None = None
    description: str | None = None
    isDefaultGroup: bool | None = None
    extendedAttributes: list[KeyValue] | None = None


class GroupDevice(InboundModel):
    deviceIds: list[ReportedDeviceId] = Field(default_factory=list)


class DeviceGroupDetail(InboundModel):
    """One page of ``GET /groups/{account}/name/{group}``."""

    name: str | None = None
    description: str | None = None
    hasMoreData: bool = False
    devices: list[GroupDevice] = Field(default_factory=list)

    @field_validator("devices", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


__all__ = [
    "AccountInfo",
    "AccountService",
    "CustomState",
    "DeviceGroup",
    "DeviceGroupDetail",
    "Engagement",
    "GroupDevice",
    "IpPool",
    "ServicePlan",
    "ServicePlanList",
    "StatesAndServices",
]
