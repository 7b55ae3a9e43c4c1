"""Device lookup and listing (thingspace-api.md §6, §10)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from m2m_tui.api.identifiers import DeviceKind, identifier_error
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.config import PRIMARY_ACCOUNT, SECONDARY_ACCOUNT
from m2m_tui.sim.wellknown import (
    DEMO_DEVICE_ID,
    DEMO_ICCID,
    DEMO_IMEI,
    DEMO_MDN,
    DEMO_MSISDN,
    ESN_DEVICE_ESN,
    EUICC_EID,
    MEID_DEVICE_MEID,
    PREACTIVE_IMEI,
    SECONDARY_MDN,
    SUSPENDED_MDN,
)

from .sim_helpers import M2M, SimFactory

PREFIX = "UnifiedWebService."
LIST = "/devices/actions/list"


async def test_single_lookup_matches_the_documented_shape(m2m: M2M) -> None:
    answer = await m2m.lookup(DEMO_MDN, "mdn")
    assert answer.status_code == 200
    body = answer.json()
    assert body["hasMoreData"] is False
    (device,) = body["devices"]
    assert device["accountName"] == PRIMARY_ACCOUNT
    assert device["carrierInformations"] == [
        {"carrierName": "Verizon Wireless", "servicePlan": "M2MPLAN4G", "state": "active"}
    ]
    assert device["deviceIds"] == [
        {"id": DEMO_MDN, "kind": "mdn"},
        {"id": DEMO_IMEI, "kind": "imei"},
        {"id": DEMO_ICCID, "kind": "iccId"},
        {"id": DEMO_MSISDN, "kind": "msisdn"},
    ]
    assert device["groupNames"] == [f"Default: {PRIMARY_ACCOUNT}"]
    assert device["ipAddress"] == "10.12.34.56"
    assert device["connected"] is True
    assert device["customFields"] == []
    attrs = {a["key"]: a["value"] for a in device["extendedAttributes"]}
    assert attrs["DeviceId"] == str(DEMO_DEVICE_ID) == "1234567"
    assert attrs["PrimaryPlaceOfUseFirstName"] == "Pat"
    for key in ("createdAt", "lastActivationDate", "lastConnectionDate", "billingCycleEndDate"):
        assert device[key][10] == "T" and device[key][-6] in "+-", device[key]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (DEMO_MDN, "mdn"),
        (DEMO_IMEI, "imei"),
        (DEMO_IMEI, "IMEI"),
        (DEMO_ICCID, "iccid"),
        (DEMO_ICCID, "iccId"),
        (DEMO_ICCID, "Iccid"),
        (DEMO_MSISDN, "msisdn"),
        (ESN_DEVICE_ESN, "esn"),
        (MEID_DEVICE_MEID, "meid"),
        (MEID_DEVICE_MEID.lower(), "MEID"),
        (EUICC_EID, "eid"),
    ],
)
async def test_lookup_by_each_kind(m2m: M2M, value: str, kind: str) -> None:
    answer = await m2m.lookup(value, kind)
    assert answer.status_code == 200, answer.text
    ids = {(i["kind"].lower(), i["id"].upper()) for i in answer.json()["devices"][0]["deviceIds"]}
    assert (kind.lower(), value.upper()) in ids


async def test_lookup_without_account_searches_all(m2m: M2M) -> None:
    answer = await m2m.call("POST", LIST, {"deviceId": {"id": SECONDARY_MDN, "kind": "mdn"}})
    assert answer.json()["devices"][0]["accountName"] == SECONDARY_ACCOUNT


@pytest.mark.parametrize(
    ("device_id", "code"),
    [
        ({"id": "555123456", "kind": "mdn"}, "INPUT_INVALID.Device.Identifier.Invalid"),
        ({"id": "ABCDEFABCDEFAB", "kind": "imei"}, "INPUT_INVALID.Device.Identifier.Invalid"),
        ({"id": "123", "kind": "esn"}, "INPUT_INVALID.Device.Identifier.Invalid"),
        ({"id": "5551234567", "kind": "phone"}, "INPUT_INVALID.Device.Kind.Invalid"),
        ({"id": "5551234567"}, "INPUT_INVALID.Device.Kind.Invalid"),
        ({"id": "5550000000", "kind": "mdn"}, "REQUEST_FAILED.DeviceNotFound"),
    ],
)
async def test_lookup_errors(m2m: M2M, device_id: dict[str, str], code: str) -> None:
    answer = await m2m.call("POST", LIST, {"accountName": m2m.account, "deviceId": device_id})
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == PREFIX + code
    assert answer.json()["errorMessage"]


async def test_lookup_in_wrong_account_or_without_zeros(m2m: M2M) -> None:
    wrong = await m2m.lookup(DEMO_MDN, "mdn", account=SECONDARY_ACCOUNT)
    assert wrong.json()["errorCode"] == PREFIX + "REQUEST_FAILED.DeviceNotFound"
    zeros = await m2m.lookup(DEMO_MDN, "mdn", account="123456-00001")
    assert zeros.json()["errorCode"] == PREFIX + "REQUEST_FAILED.AccountNotFound"


async def test_malformed_bodies(m2m: M2M) -> None:
    bad = await m2m.call("POST", LIST, content=b"{not json")
    assert bad.status_code == 400
    assert bad.json()["errorCode"] == PREFIX + "INPUT_INVALID.RequestUndefined"
    array = await m2m.call("POST", LIST, [1, 2])
    assert array.json()["errorCode"] == PREFIX + "INPUT_INVALID.RequestUndefined"
    quote = await m2m.call("POST", LIST, {"accountName": m2m.account, "groupName": "x'y"})
    assert quote.json()["errorCode"] == PREFIX + "INPUT_INVALID.Request.InvalidCharacter"


async def _list(m2m: M2M, **body: Any) -> httpx.Response:
    return await m2m.call("POST", LIST, {"accountName": m2m.account, **body})


async def test_account_listing_pages_with_202(m2m: M2M, sim: RunningSimulator) -> None:
    expected = [d.device_id for d in sim.state.devices if d.account == m2m.account]
    seen: list[int] = []
    largest = 0
    statuses = []
    while True:
        answer = await _list(m2m, maxNumberOfDevices=50, largestDeviceIdSeen=largest)
        statuses.append(answer.status_code)
        body = answer.json()
        ids = [int(d["extendedAttributes"][0]["value"]) for d in body["devices"]]
        seen += ids
        assert all(len(d["extendedAttributes"]) == 1 for d in body["devices"])
        if not body["hasMoreData"]:
            break
        largest = ids[-1]
    assert seen == expected
    assert statuses[:-1] == [202] * (len(statuses) - 1)
    assert statuses[-1] == 200
    assert len(statuses) == -(-len(expected) // 50)


async def test_page_size_caps_a_response(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    m2m = M2M(await make_sim(page_size=20), http)
    answer = await _list(m2m, maxNumberOfDevices=500)
    assert answer.status_code == 202
    assert len(answer.json()["devices"]) == 20
    assert answer.json()["hasMoreData"] is True


async def test_listing_can_leave_out_extended_attributes(
    make_sim: SimFactory, http: httpx.AsyncClient
) -> None:
    sim = await make_sim(list_extended_attributes=False)
    m2m = M2M(sim, http)
    answer = await _list(m2m, maxNumberOfDevices=30)
    body = answer.json()
    assert answer.status_code == 202 and len(body["devices"]) == 30
    assert all("extendedAttributes" not in d for d in body["devices"])
    by_date = sorted(
        (d for d in sim.state.devices if d.account == m2m.account),
        key=lambda d: (d.created_at, d.device_id),
    )
    listed = [d["deviceIds"] for d in body["devices"]]
    assert listed == [sim_device_ids(d) for d in by_date[:30]]
    # earliest is inclusive: the next page starts again at the last device listed.
    last = body["devices"][-1]
    following = (await _list(m2m, maxNumberOfDevices=30, earliest=last["createdAt"])).json()
    assert following["devices"][0]["deviceIds"] == last["deviceIds"]
    (single,) = (await m2m.lookup(DEMO_MDN, "mdn")).json()["devices"]
    assert any(pair["key"] == "DeviceId" for pair in single["extendedAttributes"])


def sim_device_ids(device: Any) -> list[dict[str, str]]:
    return [dict(pair) for pair in device.to_wire(extended=False)["deviceIds"]]


async def test_listing_without_account_needs_one(m2m: M2M) -> None:
    answer = await m2m.call("POST", LIST, {})
    assert answer.json()["errorCode"] == PREFIX + "REQUEST_FAILED.MultipleAccounts"


async def test_filters(m2m: M2M, sim: RunningSimulator) -> None:
    def names(answer: httpx.Response) -> set[int]:
        return {int(d["extendedAttributes"][0]["value"]) for d in answer.json()["devices"]}

    primary = [d for d in sim.state.devices if d.account == m2m.account]
    suspended = await _list(m2m, currentState="Suspend")
    assert names(suspended) == {d.device_id for d in primary if d.state == "suspend"}
    assert {d["carrierInformations"][0]["state"] for d in suspended.json()["devices"]} == {
        "suspend"
    }
    group = await _list(m2m, groupName="Field units", servicePlan="M2MPLAN3G")
    assert names(group) == {
        d.device_id for d in primary if "Field units" in d.groups and d.service_plan == "M2MPLAN3G"
    }
    assert names(group)
    custom = await _list(m2m, customFields=[{"key": "CustomField1", "value": "SITE-007"}])
    assert names(custom) == {
        d.device_id for d in primary if d.custom_fields.get("CustomField1") == "SITE-007"
    }
    ident = await _list(
        m2m,
        filter={
            "deviceIdentifierFilters": [{"kind": "mdn", "contains": "555123", "startswith": "555"}]
        },
    )
    found = names(ident)
    assert DEMO_DEVICE_ID in found
    assert all(
        sim.state.devices[i - DEMO_DEVICE_ID].ids[DeviceKind.MDN].startswith("555") for i in found
    )
    bad_field = await _list(m2m, customFields=[{"key": "CustomField9", "value": "x"}])
    assert bad_field.json()["errorCode"] == PREFIX + "INPUT_INVALID.CustomField.InvalidName"
    too_long = await _list(m2m, customFields=[{"key": "CustomField1", "value": "x" * 51}])
    assert too_long.json()["errorCode"] == PREFIX + "INPUT_INVALID.CustomField.TooLong"


async def test_inventory_variety(sim: RunningSimulator) -> None:
    devices = sim.state.devices
    assert len(devices) == 300
    kinds = {k for d in devices for k in d.ids}
    assert kinds == set(DeviceKind)
    assert {d.state for d in devices} == {"active", "suspend", "deactive", "pre-active"}
    assert len({d.service_plan for d in devices}) >= 4
    assert {d.account for d in devices} == {PRIMARY_ACCOUNT, SECONDARY_ACCOUNT}
    for device in devices:
        for kind, value in device.ids.items():
            assert identifier_error(kind, value) is None
    ids = [d.device_id for d in devices]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    pre = sim.state.find_device(DeviceKind.IMEI, PREACTIVE_IMEI)
    assert pre is not None and pre.state == "pre-active" and DeviceKind.MDN not in pre.ids
    sus = sim.state.find_device("mdn", SUSPENDED_MDN)
    assert sus is not None and sus.state == "suspend"
