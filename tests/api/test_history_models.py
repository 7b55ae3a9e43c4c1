"""The diagnostics models accept both readings wherever the reference records a conflict."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from m2m_tui.api.models import DeviceId
from m2m_tui.api.models.accounts import AccountInfo, DeviceGroup, ServicePlanList
from m2m_tui.api.models.history import (
    ConnectionHistoryResponse,
    HistoryRequest,
    ProvisioningHistoryResponse,
    UsageHistoryRequest,
    event_class,
)

EVENT = {"occurredAt": "2024-05-30T09:12:44-04:00", "status": "Success", "eventBy": "jdoe",
         "eventType": "Suspend"}  # fmt: skip


def test_provisioning_history_array_or_object() -> None:
    array = ProvisioningHistoryResponse.model_validate(
        [{"provisioningHistory": [EVENT], "hasMoreData": False}]
    )
    bare = ProvisioningHistoryResponse.model_validate({"provisioningHistory": [EVENT]})
    assert array.provisioningHistory == bare.provisioningHistory
    assert array.provisioningHistory[0].when is not None
    assert array.provisioningHistory[0].when.isoformat() == "2024-05-30T13:12:44+00:00"
    assert (
        ProvisioningHistoryResponse.model_validate({"hasMoreData": False}).provisioningHistory == []
    )


def test_connection_history_missing_key_is_empty_and_attributes_any_case() -> None:
    assert ConnectionHistoryResponse.model_validate({"hasMoreData": False}).connectionHistory == []
    assert (
        ConnectionHistoryResponse.model_validate({"connectionHistory": None}).connectionHistory
        == []
    )
    page = ConnectionHistoryResponse.model_validate(
        {"connectionHistory": [{"occurredAt": "2015-12-17T14:12:36-05:00",
                                "connectionEventAttributes": [{"key": "event", "value": "STOP"},
                                                              {"key": "BytesUsed", "value": "48213"},
                                                              {"key": "NewKey"}]}]}
    )  # fmt: skip
    event = page.connectionHistory[0]
    assert (event.event, event.bytes_used, event.attribute("newkey")) == ("Stop", 48213, None)


def test_plans_array_or_object_and_pools_any_case() -> None:
    plans = [
        {
            "name": "M2M 4G 5MB",
            "code": "M2MPLAN4G",
            "sizeKb": "5120",
            "carrierServicePlanCode": 84777,
        }
    ]
    array = ServicePlanList.model_validate(plans)
    wrapped = ServicePlanList.model_validate(
        {"accountName": "0000123456-00001", "servicePlans": plans}
    )
    assert array.servicePlans == wrapped.servicePlans
    assert array.find("M2MPLAN4G").sizeKb == 5120  # type: ignore[union-attr]
    pool = {"poolName": "P", "poolType": "Static IP", "isDefaultPool": True}
    assert AccountInfo.model_validate({"iPPools": [pool]}).ipPools[0].poolName == "P"
    assert AccountInfo.model_validate({"ipPools": [pool]}).ipPools[0].poolName == "P"
    assert DeviceGroup.model_validate({"name": "g", "extendedAttributes": None}).name == "g"


def test_requests_are_strict() -> None:
    device = DeviceId(id="5551234567", kind="mdn")
    with pytest.raises(ValidationError):
        UsageHistoryRequest(earliest="a", latest="b")
    with pytest.raises(ValidationError):
        HistoryRequest.model_validate(
            {"deviceId": {"id": "12", "kind": "mdn"}, "earliest": "a", "latest": "b"}
        )
    body = HistoryRequest(deviceId=device, earliest="x", latest="y").wire()
    assert body["deviceId"] == {"id": "5551234567", "kind": "mdn"}


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("Activation Confirmed", "activate"),
        ("Deactivate", "deactivate"),
        ("SUSPEND", "suspend"),
        ("Resume", "restore"),
        ("Device Move", "move"),
        ("Change Service Plan", "plan"),
        ("changeIMEI", "change"),
        ("Hold", None),
    ],
)
def test_event_classes_by_substring(event_type: str, expected: str | None) -> None:
    assert event_class(event_type) == expected
