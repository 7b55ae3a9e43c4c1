"""Callback registration CRUD (thingspace-api.md §4.1)."""

from __future__ import annotations

import httpx

from m2m_tui.sim.config import SECONDARY_ACCOUNT

from .sim_helpers import M2M, SimFactory

PREFIX = "UnifiedWebService."


async def test_register_list_replace_delete(m2m: M2M) -> None:
    acct = m2m.account
    assert (await m2m.call("GET", f"/callbacks/{acct}")).json() == []
    answer = await m2m.register(
        "CarrierService", "https://tui.example.net:9001/cb/carrier", username="tui", password="s3"
    )
    assert answer.status_code == 200
    assert answer.json() == {"accountName": acct, "serviceName": "CarrierService"}
    await m2m.register("DeviceSuspensionStatus", "https://tui.example.net:9001/cb/suspension")
    listed = (await m2m.call("GET", f"/callbacks/{acct}")).json()
    assert listed == [
        {
            "accountName": acct,
            "serviceName": "CarrierService",
            "url": "https://tui.example.net:9001/cb/carrier",
            "username": "tui",
            "password": "s3",
        },
        {
            "accountName": acct,
            "serviceName": "DeviceSuspensionStatus",
            "url": "https://tui.example.net:9001/cb/suspension",
        },
    ]
    # Registering again replaces the URL: one listener per service per account.
    await m2m.register("CarrierService", "http://other.example.net/cb")
    listed = (await m2m.call("GET", f"/callbacks/{acct}")).json()
    carrier = [r for r in listed if r["serviceName"] == "CarrierService"]
    assert carrier == [
        {"accountName": acct, "serviceName": "CarrierService", "url": "http://other.example.net/cb"}
    ]
    deleted = await m2m.call("DELETE", f"/callbacks/{acct}/name/CarrierService")
    assert deleted.json() == {"accountName": acct, "serviceName": "CarrierService"}
    listed = (await m2m.call("GET", f"/callbacks/{acct}")).json()
    assert [r["serviceName"] for r in listed] == ["DeviceSuspensionStatus"]
    again = await m2m.call("DELETE", f"/callbacks/{acct}/name/CarrierService")
    assert again.status_code == 400
    assert again.json()["errorCode"] == PREFIX + "REQUEST_FAILED.CallbackService.NotFound"


async def test_registrations_are_per_account(m2m: M2M) -> None:
    await m2m.register("CarrierService", "http://a.example.net/cb")
    other = await m2m.call("GET", f"/callbacks/{SECONDARY_ACCOUNT}")
    assert other.json() == []


async def test_register_validation(m2m: M2M) -> None:
    acct = m2m.account
    no_name = await m2m.call("POST", f"/callbacks/{acct}", {"url": "http://x.example/cb"})
    assert no_name.status_code == 400
    assert no_name.json()["errorCode"] == PREFIX + "INPUT_INVALID.ServiceName.NotDefined"
    no_url = await m2m.call("POST", f"/callbacks/{acct}", {"name": "CarrierService"})
    assert no_url.json()["errorCode"] == PREFIX + "INPUT_INVALID.Url.NotDefined"
    bad_name = await m2m.register("NoSuchService", "http://x.example/cb")
    assert bad_name.json()["errorCode"] == PREFIX + "INPUT_INVALID.ServiceName.Invalid"
    bad_url = await m2m.register("CarrierService", "ftp://x.example/cb")
    assert bad_url.json()["errorCode"] == PREFIX + "INPUT_INVALID.Url.Invalid"
    empty = await m2m.call("POST", f"/callbacks/{acct}", content=b"")
    assert empty.json()["errorCode"] == PREFIX + "INPUT_INVALID.RequestUndefined"


async def test_unknown_account_and_leading_zeros(m2m: M2M) -> None:
    for name in ("123456-00001", "9999999999-00001"):
        answer = await m2m.call("GET", f"/callbacks/{name}")
        assert answer.status_code == 400
        assert answer.json()["errorCode"] == PREFIX + "REQUEST_FAILED.AccountNotFound"
    answer = await m2m.call("POST", "/callbacks/123456-00001", {"name": "CarrierService"})
    assert answer.json()["errorCode"] == PREFIX + "REQUEST_FAILED.AccountNotFound"
    gone = await m2m.call("DELETE", "/callbacks/123456-00001/name/CarrierService")
    assert gone.json()["errorCode"] == PREFIX + "REQUEST_FAILED.AccountNotFound"


async def test_enforced_ports(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    client = M2M(await make_sim(enforce_callback_ports=True), http)
    refused = await client.register("CarrierService", "http://x.example:8080/cb")
    assert refused.json()["errorCode"] == PREFIX + "INPUT_INVALID.Url.Invalid"
    ok = await client.register("CarrierService", "https://x.example:9001/cb")
    assert ok.status_code == 200
