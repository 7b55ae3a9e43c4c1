"""Provisioning actions, their callbacks and request status (thingspace-api.md §5, §5.2, §7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.config import SECONDARY_ACCOUNT
from m2m_tui.sim.wellknown import (
    DEACTIVE_ICCID,
    DEMO_ICCID,
    DEMO_IMEI,
    DEMO_MDN,
    PREACTIVE_ICCID,
    PREACTIVE_IMEI,
    SECONDARY_MDN,
    SUSPENDED_MDN,
)

from ..waiting import eventually, eventually_async
from .sim_helpers import M2M, CallbackListener, SimFactory

PREFIX = "UnifiedWebService."


def one(id_: str, kind: str) -> list[dict[str, Any]]:
    return [{"deviceIds": [{"id": id_, "kind": kind}]}]


async def status_of(m2m: M2M, request_id: str, account: str | None = None) -> httpx.Response:
    return await m2m.call("GET", f"/accounts/{account or m2m.account}/requests/{request_id}/status")


async def test_suspend_changes_state_and_calls_back(
    m2m: M2M, sim: RunningSimulator, listener: CallbackListener
) -> None:
    await m2m.register("CarrierService", listener.url("/carrier"), username="tui", password="pw")
    answer = await m2m.action("suspend", {"devices": one(DEMO_MDN, "mdn")})
    assert answer.status_code == 200
    request_id = answer.json()["requestId"]
    assert list(answer.json()) == ["requestId"]
    pending = await status_of(m2m, request_id)
    assert pending.json() == {"requestId": request_id, "status": "Pending"}
    (message,) = await listener.wait_for(1)
    assert listener.paths == ["/carrier"]
    assert message == {
        "username": "tui",
        "password": "pw",
        "requestId": request_id,
        "deviceIds": [{"id": DEMO_MDN, "kind": "mdn"}],
        "deviceResponse": {
            "suspendResponse": {
                "deviceIds": [{"id": DEMO_MDN, "kind": "mdn"}],
                "autoResumeDate": message["deviceResponse"]["suspendResponse"]["autoResumeDate"],
            }
        },
        "status": "Success",
        "callbackCount": 1,
        "maxCallbackThreshold": 4,
    }
    done = await status_of(m2m, request_id)
    assert done.json() == {"requestId": request_id, "status": "Success"}
    assert await m2m.state_of(DEMO_MDN, "mdn") == "suspend"
    # restore brings it back
    restore = await m2m.action("restore", {"devices": one(DEMO_IMEI, "imei")})
    await listener.wait_for(2)
    assert listener.received[1]["deviceResponse"] == {
        "restoreResponse": {"deviceIds": [{"id": DEMO_IMEI, "kind": "imei"}]}
    }
    assert listener.received[1]["requestId"] == restore.json()["requestId"]
    assert await m2m.state_of(DEMO_MDN, "mdn") == "active"


async def test_failure_callbacks_and_failed_status(m2m: M2M, listener: CallbackListener) -> None:
    await m2m.register("CarrierService", listener.url())
    body = {
        "servicePlan": "M2MPLAN4G",
        "mdnZipCode": "98801",
        "devices": [
            {"deviceIds": [{"id": DEMO_IMEI, "kind": "imei"}, {"id": DEMO_ICCID, "kind": "iccid"}]}
        ],
    }
    answer = await m2m.action("activate", body)
    request_id = answer.json()["requestId"]
    (message,) = await listener.wait_for(1)
    assert message == {
        "username": "",
        "password": "",
        "requestId": request_id,
        "deviceIds": [{"id": DEMO_IMEI, "kind": "Imei"}, {"id": DEMO_ICCID, "kind": "Iccid"}],
        "faultResponse": {
            "faultcode": PREFIX + "REQUEST_FAILED.DeviceAlreadyActive",
            "faultstring": "REQUEST_FAILED. Device is already active",
        },
        "status": "Failed",
        "callbackCount": 1,
        "maxCallbackThreshold": 4,
    }
    assert (await status_of(m2m, request_id)).json()["status"] == "Failed"
    restore = await m2m.action("restore", {"devices": one(DEMO_MDN, "mdn")})
    await listener.wait_for(2)
    fault = listener.received[1]["faultResponse"]
    assert fault["faultcode"] == PREFIX + "INPUT_INVALID.DeviceState.Invalid"
    assert (await status_of(m2m, restore.json()["requestId"])).json()["status"] == "Failed"


async def test_activate_preactive_assigns_an_mdn(
    m2m: M2M, sim: RunningSimulator, listener: CallbackListener
) -> None:
    await m2m.register("CarrierService", listener.url())
    answer = await m2m.action(
        "activate",
        {
            "servicePlan": "M2MPLAN5G",
            "mdnZipCode": "78701",
            "groupName": "Field units",
            "devices": one(PREACTIVE_IMEI, "imei"),
        },
    )
    (message,) = await listener.wait_for(1)
    assert message["status"] == "Success"
    inner = message["deviceResponse"]["activateResponse"]
    assert inner["servicePlan"] == "M2MPLAN5G"
    mdn = next(i["id"] for i in inner["deviceIds"] if i["kind"] == "mdn")
    lookup = (await m2m.lookup(mdn, "mdn")).json()["devices"][0]
    assert lookup["carrierInformations"][0] == {
        "carrierName": "Verizon Wireless",
        "servicePlan": "M2MPLAN5G",
        "state": "active",
    }
    assert "Field units" in lookup["groupNames"]
    assert {"id": PREACTIVE_ICCID, "kind": "iccId"} in lookup["deviceIds"]
    assert (await status_of(m2m, answer.json()["requestId"])).json()["status"] == "Success"
    # and a deactivated line comes back too
    await m2m.action(
        "activate",
        {
            "servicePlan": "M2MPLAN4G",
            "mdnZipCode": "98801",
            "devices": one(DEACTIVE_ICCID, "iccid"),
        },
    )
    await listener.wait_for(2)
    assert listener.received[1]["status"] == "Success"
    assert await m2m.state_of(DEACTIVE_ICCID, "iccid") == "active"


async def test_deactivate(m2m: M2M, listener: CallbackListener) -> None:
    await m2m.register("CarrierService", listener.url())
    missing = await m2m.action("deactivate", {"devices": one(SUSPENDED_MDN, "mdn")})
    assert missing.json()["errorCode"] == PREFIX + "INPUT_INVALID.ReasonCode.NotDefined"
    answer = await m2m.action(
        "deactivate", {"devices": one(SUSPENDED_MDN, "mdn"), "reasonCode": "FF", "etfWaiver": False}
    )
    (message,) = await listener.wait_for(1)
    assert message["deviceResponse"]["deactivateResponse"]["reasonCode"] == "FF"
    assert message["requestId"] == answer.json()["requestId"]
    assert await m2m.state_of(SUSPENDED_MDN, "mdn") == "deactive"


async def test_daily_action_limit(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    sim = await make_sim(daily_action_limit=2)
    m2m = M2M(sim, http)
    results = []
    for action in ("suspend", "restore", "suspend"):
        answer = await m2m.action(action, {"devices": one(DEMO_MDN, "mdn")})
        await sim.state.drain()
        results.append((await status_of(m2m, answer.json()["requestId"])).json()["status"])
    assert results == ["Success", "Success", "Failed"]
    record = list(sim.state.requests.values())[-1]
    assert record.results[0]["faultcode"] == PREFIX + "REQUEST_FAILED.DeviceActionLimit.Exceeded"
    assert await m2m.state_of(DEMO_MDN, "mdn") == "active"
    sim.state.reset_daily_counters()
    again = await m2m.action("suspend", {"devices": one(DEMO_MDN, "mdn")})
    await sim.state.drain()
    assert (await status_of(m2m, again.json()["requestId"])).json()["status"] == "Success"


async def test_filter_request_hits_every_matching_device(
    m2m: M2M, sim: RunningSimulator, listener: CallbackListener
) -> None:
    await m2m.register("CarrierService", listener.url())
    targets = [
        d
        for d in sim.state.devices
        if d.account == m2m.account and d.custom_fields.get("CustomField1") == "SITE-007"
    ]
    assert len(targets) >= 2
    answer = await m2m.action(
        "suspend", {"customFields": [{"key": "CustomField1", "value": "SITE-007"}]}
    )
    request_id = answer.json()["requestId"]
    messages = await listener.wait_for(len(targets))
    assert {m["requestId"] for m in messages} == {request_id}
    ok = [m for m in messages if m["status"] == "Success"]
    assert len(ok) == sum(1 for d in targets if d.state == "suspend")
    assert all(d.state in ("suspend", "deactive", "pre-active") for d in targets)
    multi = await status_of(m2m, request_id)
    assert multi.status_code == 400
    assert multi.json()["errorCode"] == PREFIX + "REQUEST_FAILED.RequestStatus.NotSupported"


async def test_multi_device_and_unknown_request_status(m2m: M2M, sim: RunningSimulator) -> None:
    answer = await m2m.action(
        "suspend", {"devices": one(DEMO_MDN, "mdn") + one(SUSPENDED_MDN, "mdn")}
    )
    multi = await status_of(m2m, answer.json()["requestId"])
    assert multi.json()["errorCode"] == PREFIX + "REQUEST_FAILED.RequestStatus.NotSupported"
    unknown = await status_of(m2m, "595f5c44-c31c-4552-8670-020a1545a84d")
    assert unknown.status_code == 400
    assert unknown.json()["errorCode"] == PREFIX + "INPUT_INVALID.RequestId.Invalid"
    other = await status_of(m2m, answer.json()["requestId"], account=SECONDARY_ACCOUNT)
    assert other.json()["errorCode"] == PREFIX + "INPUT_INVALID.RequestId.Invalid"
    zeros = await status_of(m2m, answer.json()["requestId"], account="123456-00001")
    assert zeros.json()["errorCode"] == PREFIX + "REQUEST_FAILED.AccountNotFound"


async def test_device_of_another_account_fails_by_callback(m2m: M2M, sim: RunningSimulator) -> None:
    answer = await m2m.action("suspend", {"devices": one(SECONDARY_MDN, "mdn")})
    await sim.state.drain()
    assert (await status_of(m2m, answer.json()["requestId"])).json()["status"] == "Failed"
    record = sim.state.requests[answer.json()["requestId"]]
    assert record.results[0]["faultcode"] == PREFIX + "INPUT_INVALID.Device.Account.Invalid"


async def test_no_listener_still_changes_state_and_records(m2m: M2M, sim: RunningSimulator) -> None:
    answer = await m2m.action("suspend", {"devices": one(DEMO_MDN, "mdn")})
    await sim.state.drain()
    assert await m2m.state_of(DEMO_MDN, "mdn") == "suspend"
    (record,) = sim.state.deliveries(answer.json()["requestId"])
    assert record.outcome == "unregistered"
    assert record.url is None


@pytest.mark.parametrize(
    ("action", "body", "code"),
    [
        ("suspend", {}, "INPUT_INVALID.Devices.NotDefined"),
        (
            "suspend",
            {"devices": one(DEMO_MDN, "mdn"), "groupName": "Field units"},
            "INPUT_INVALID.Request.Invalid",
        ),
        ("restore", {"devices": one("5550000000", "mdn")}, "REQUEST_FAILED.DeviceNotFound"),
        ("restore", {"devices": one("12", "mdn")}, "INPUT_INVALID.Device.Identifier.Invalid"),
        ("restore", {"devices": one(DEMO_MDN, "sim")}, "INPUT_INVALID.Device.Kind.Invalid"),
        (
            "activate",
            {"devices": one(PREACTIVE_IMEI, "imei"), "mdnZipCode": "98801"},
            "INPUT_INVALID.ServicePlan.NotDefined",
        ),
        (
            "activate",
            {"devices": one(PREACTIVE_IMEI, "imei"), "servicePlan": "M2MPLAN4G"},
            "INPUT_INVALID.MdnZipCode.NotDefined",
        ),
        (
            "activate",
            {
                "devices": one(PREACTIVE_IMEI, "imei"),
                "servicePlan": "M2MPLAN4G",
                "mdnZipCode": "988",
            },
            "INPUT_INVALID.MdnZipCode.Invalid",
        ),
        (
            "activate",
            {"devices": one(PREACTIVE_IMEI, "imei"), "servicePlan": "NOPE", "mdnZipCode": "98801"},
            "REQUEST_FAILED._servicePlan_.NotFound",
        ),
        (
            "activate",
            {"servicePlan": "M2MPLAN4G", "mdnZipCode": "98801"},
            "INPUT_INVALID.Devices.NotDefined",
        ),
        (
            "suspend",
            {"accountName": "123456-00001", "devices": one(DEMO_MDN, "mdn")},
            "REQUEST_FAILED.AccountNotFound",
        ),
    ],
)
async def test_action_validation(
    m2m: M2M, sim: RunningSimulator, action: str, body: dict[str, Any], code: str
) -> None:
    answer = await m2m.action(action, body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errorCode"] == PREFIX + code
    assert not sim.state.requests


async def test_filter_without_account(m2m: M2M) -> None:
    answer = await m2m.call("POST", "/devices/actions/suspend", {"groupName": "Field units"})
    assert answer.json()["errorCode"] == PREFIX + "INPUT_INVALID.Account.NotDefined"


async def test_too_many_devices(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    m2m = M2M(await make_sim(max_devices_per_request=2), http)
    devices = one(DEMO_MDN, "mdn") * 3
    answer = await m2m.action("suspend", {"devices": devices})
    assert answer.json()["errorCode"] == PREFIX + "INPUT_INVALID.MaxRequestsExceeded"


async def test_pending_until_processed(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    sim = await make_sim(processing_delay=0.3)
    m2m = M2M(sim, http)
    answer = await m2m.action("suspend", {"devices": one(DEMO_MDN, "mdn")})
    request_id = answer.json()["requestId"]
    assert (await status_of(m2m, request_id)).json()["status"] == "Pending"
    assert await m2m.state_of(DEMO_MDN, "mdn") == "active"
    await eventually(lambda: sim.state.requests[request_id].status != "Pending")
    assert (await status_of(m2m, request_id)).json()["status"] == "Success"
    device = sim.state.find_device(DeviceKind.MDN, DEMO_MDN)
    assert device is not None and device.times_suspended == 1


async def test_carrier_callback_delay_lets_the_status_turn_final_first(
    m2m: M2M, sim: RunningSimulator, listener: CallbackListener
) -> None:
    sim.config.carrier_callback_delay = 0.5
    await m2m.register("CarrierService", listener.url("/carrier"), username="tui", password="pw")
    answer = await m2m.action("suspend", {"devices": one(DEMO_MDN, "mdn")})
    request_id = answer.json()["requestId"]

    async def final() -> bool:
        return bool((await status_of(m2m, request_id)).json()["status"] == "Success")

    await eventually_async(final, every=0.02)
    assert (await status_of(m2m, request_id)).json()["status"] == "Success"
    assert not listener.received  # the callback is still on its way
    (message,) = await listener.wait_for(1)
    assert message["status"] == "Success"
