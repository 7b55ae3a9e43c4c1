"""Suspension status callbacks exactly as SEED1 shows them (thingspace-api.md §5.1, §7, §10)."""

from __future__ import annotations

from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.config import SECONDARY_ACCOUNT
from m2m_tui.sim.wellknown import DEMO_IMEI, SECONDARY_MDN, SUSPENDED_MDN

from .sim_helpers import M2M, CallbackListener

PREFIX = "UnifiedWebService."
PATH = "/devices/suspension/status"


async def test_per_device_messages_then_completion(m2m: M2M, listener: CallbackListener) -> None:
    await m2m.register("DeviceSuspensionStatus", listener.url("/suspension"))
    answer = await m2m.call(
        "POST",
        PATH,
        {
            "accountName": m2m.account,
            "deviceIds": [{"id": SUSPENDED_MDN, "kind": "mdn"}, {"id": DEMO_IMEI, "kind": "IMEI"}],
        },
    )
    assert answer.status_code == 200
    request_id = answer.json()["requestId"]
    first, second, completion = await listener.wait_for(3)
    assert first == {
        "username": "",
        "password": "",
        "requestId": request_id,
        "deviceResponse": {
            "deviceSuspensionStatusResponse": [
                {
                    "deviceIds": [{"id": SUSPENDED_MDN, "kind": "mdn"}],
                    "state": "suspend",
                    "suspendDate": "2024-05-01 00:00:00",
                    "expectedResumeDate": "2024-07-30",
                    "daysRemainingAutoResume": "61",
                    "maxSuspendDaysAllowed": "90",
                    "numDaysSuspendedLast12Months": "29",
                    "numDaysSuspendAllowedCurrent12Months": "61",
                    "timesSuspendedLast12Months": "1",
                }
            ]
        },
        "callbackCount": 1,
        "maxCallbackThreshold": 4,
    }
    item = second["deviceResponse"]["deviceSuspensionStatusResponse"][0]
    assert item["deviceIds"] == [{"id": DEMO_IMEI, "kind": "imei"}]
    assert item["state"] == "active"
    assert item["suspendDate"] == "" and item["expectedResumeDate"] == ""
    assert all(isinstance(v, str) for k, v in item.items() if k != "deviceIds")
    assert completion == {
        "username": "",
        "password": "",
        "requestId": request_id,
        "deviceResponse": {},
        "comment": "Request Completed Processing",
        "callbackCount": 1,
        "maxCallbackThreshold": 4,
    }
    assert listener.paths == ["/suspension"] * 3
    status = await m2m.call("GET", f"/accounts/{m2m.account}/requests/{request_id}/status")
    assert status.json()["errorCode"] == PREFIX + "REQUEST_FAILED.RequestStatus.NotSupported"


async def test_filter_by_group(m2m: M2M, sim: RunningSimulator, listener: CallbackListener) -> None:
    await m2m.register("DeviceSuspensionStatus", listener.url(), username="u", password="p")
    members = [
        d for d in sim.state.devices if d.account == m2m.account and "suspended devices" in d.groups
    ]
    answer = await m2m.call(
        "POST", PATH, {"filter": {"groupName": "suspended devices"}, "accountName": m2m.account}
    )
    messages = await listener.wait_for(len(members) + 1)
    assert messages[-1]["comment"] == "Request Completed Processing"
    per_device = messages[:-1]
    assert len(per_device) == len(members)
    assert {m["requestId"] for m in messages} == {answer.json()["requestId"]}
    assert all(m["username"] == "u" and m["password"] == "p" for m in messages)
    states = {m["deviceResponse"]["deviceSuspensionStatusResponse"][0]["state"] for m in per_device}
    assert states == {"suspend"}


async def test_feature_not_enabled_on_secondary(m2m: M2M, sim: RunningSimulator) -> None:
    by_account = await m2m.call(
        "POST",
        PATH,
        {"accountName": SECONDARY_ACCOUNT, "deviceIds": [{"id": SECONDARY_MDN, "kind": "mdn"}]},
    )
    assert by_account.status_code == 400
    body = by_account.json()
    assert body["errorCode"] == PREFIX + "REQUEST_FAILED.FeatureNotEnabled"
    assert SECONDARY_ACCOUNT in body["errorMessage"]
    by_device = await m2m.call("POST", PATH, {"deviceIds": [{"id": SECONDARY_MDN, "kind": "mdn"}]})
    assert by_device.json()["errorCode"] == PREFIX + "REQUEST_FAILED.FeatureNotEnabled"
    assert not sim.state.requests


async def test_validation(m2m: M2M) -> None:
    both = await m2m.call(
        "POST",
        PATH,
        {
            "accountName": m2m.account,
            "deviceIds": [{"id": SUSPENDED_MDN, "kind": "mdn"}],
            "filter": {"groupName": "suspended devices"},
        },
    )
    assert both.json()["errorCode"] == PREFIX + "INPUT_INVALID.Request.Invalid"
    no_account = await m2m.call("POST", PATH, {"filter": {"groupName": "suspended devices"}})
    assert no_account.json()["errorCode"] == PREFIX + "INPUT_INVALID.Account.NotDefined"
    nothing = await m2m.call("POST", PATH, {"accountName": m2m.account})
    assert nothing.json()["errorCode"] == PREFIX + "INPUT_INVALID.Devices.NotDefined"
    unknown = await m2m.call("POST", PATH, {"deviceIds": [{"id": "5550000000", "kind": "mdn"}]})
    assert unknown.json()["errorCode"] == PREFIX + "REQUEST_FAILED.DeviceNotFound"
    elsewhere = await m2m.call(
        "POST",
        PATH,
        {"accountName": m2m.account, "deviceIds": [{"id": SECONDARY_MDN, "kind": "mdn"}]},
    )
    assert elsewhere.json()["errorCode"] == PREFIX + "INPUT_INVALID.Device.Account.Invalid"


async def test_reflects_a_fresh_suspension(
    m2m: M2M, sim: RunningSimulator, listener: CallbackListener
) -> None:
    await m2m.register("DeviceSuspensionStatus", listener.url())
    await m2m.action("suspend", {"devices": [{"deviceIds": [{"id": DEMO_IMEI, "kind": "imei"}]}]})
    await sim.state.drain()
    await m2m.call("POST", PATH, {"deviceIds": [{"id": DEMO_IMEI, "kind": "imei"}]})
    first, _ = await listener.wait_for(2)
    item = first["deviceResponse"]["deviceSuspensionStatusResponse"][0]
    assert item["state"] == "suspend"
    assert item["suspendDate"].startswith("2024-05-30 ")
    assert item["timesSuspendedLast12Months"] == "1"
    assert item["numDaysSuspendedLast12Months"] == "0"
