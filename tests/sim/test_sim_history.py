"""The simulator's diagnostics reads on the wire: bodies, paging, errors, and a world that agrees
with itself (actions show up in the provisioning history, sessions stop at a suspension)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx

from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.config import DiagnosticsConfig, SimConfig
from m2m_tui.sim.history import device_sessions, service_lost_at
from m2m_tui.sim.stories import STORY_BY_LETTER
from m2m_tui.sim.wellknown import DEMO_MDN, SUSPENDED_MDN

from .conftest import SimFactory
from .sim_helpers import FIXED_NOW, M2M, fast_config

PREFIX = "UnifiedWebService."
CONN = "/devices/connections/actions/listHistory"
PROV = "/devices/history/actions/list"
USAGE = "/devices/usage/actions/list"
EARLIEST = (FIXED_NOW - timedelta(days=60)).isoformat()
LATEST = (FIXED_NOW + timedelta(days=1)).isoformat()


def body(mdn: str, earliest: str = EARLIEST, latest: str = LATEST) -> dict[str, Any]:
    return {"deviceId": {"id": mdn, "kind": "mdn"}, "earliest": earliest, "latest": latest}


def config_with(**diagnostics: Any) -> SimConfig:
    return fast_config(diagnostics=replace(DiagnosticsConfig(), **diagnostics))


def attrs(event: dict[str, Any]) -> dict[str, str]:
    return {a["key"]: a["value"] for a in event["connectionEventAttributes"]}


async def test_connection_history_is_start_stop_pairs_oldest_first(m2m: M2M) -> None:
    answer = await m2m.call("POST", CONN, body(STORY_BY_LETTER["C"].mdn))
    assert answer.status_code == 200
    data = answer.json()
    assert data["hasMoreData"] is False
    events = data["connectionHistory"]
    assert events and [attrs(e)["Event"] for e in events[:2]] == ["Start", "Stop"]
    assert attrs(events[0])["BytesUsed"] == "0" and "FramedIpAddress" in attrs(events[0])
    assert int(attrs(events[1])["BytesUsed"]) > 0
    assert events[0]["occurredAt"].endswith(("-04:00", "-05:00"))
    assert [e["occurredAt"] for e in events] == sorted(e["occurredAt"] for e in events)


async def test_long_history_pages_with_202(m2m: M2M) -> None:
    answer = await m2m.call("POST", CONN, body(STORY_BY_LETTER["G"].mdn))
    assert answer.status_code == 202
    data = answer.json()
    assert data["hasMoreData"] is True and len(data["connectionHistory"]) == 500


async def test_window_errors(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    lenient = M2M(await make_sim(), http)
    mdn = STORY_BY_LETTER["A"].mdn
    reversed_window = body(mdn, earliest=LATEST, latest=EARLIEST)
    answer = await lenient.call("POST", CONN, reversed_window)
    assert answer.status_code == 200 and answer.json()["connectionHistory"] == []
    strict = M2M(await make_sim(config_with(strict_date_range=True)), http)
    answer = await strict.call("POST", CONN, reversed_window)
    assert answer.status_code == 400
    assert answer.json()["errorCode"] == PREFIX + "INPUT_INVALID.DateRange.Invalid"
    missing = {"deviceId": {"id": mdn, "kind": "mdn"}, "latest": LATEST}
    answer = await lenient.call("POST", PROV, missing)
    assert answer.json()["errorCode"] == PREFIX + "INPUT_INVALID.Earliest.NotDefined"
    naive = body(mdn, earliest="2024-05-01T00:00:00")
    answer = await lenient.call("POST", USAGE, naive)
    assert answer.json()["errorCode"] == PREFIX + "INPUT_INVALID.DateTime.Invalid"


async def test_device_errors(m2m: M2M) -> None:
    unknown = await m2m.call("POST", CONN, body("5550000000"))
    assert unknown.status_code == 400
    assert unknown.json()["errorCode"] == PREFIX + "REQUEST_FAILED.DeviceNotFound"
    bad_kind = {
        "deviceId": {"id": DEMO_MDN, "kind": "phone"},
        "earliest": EARLIEST,
        "latest": LATEST,
    }
    answer = await m2m.call("POST", PROV, bad_kind)
    assert answer.json()["errorCode"] == PREFIX + "INPUT_INVALID.Device.Kind.Invalid"
    bad_id = body("12345")
    answer = await m2m.call("POST", USAGE, bad_id)
    assert answer.json()["errorCode"] == PREFIX + "INPUT_INVALID.Device.Identifier.Invalid"


async def test_provisioning_history_array_by_default_object_on_switch(
    make_sim: SimFactory, http: httpx.AsyncClient
) -> None:
    mdn = STORY_BY_LETTER["B"].mdn
    window = body(mdn, earliest=(FIXED_NOW - timedelta(days=365)).isoformat())
    array = (await M2M(await make_sim(), http).call("POST", PROV, window)).json()
    assert isinstance(array, list) and len(array) == 1
    events = array[0]["provisioningHistory"]
    assert [e["eventType"] for e in events] == ["Activation Confirmed", "Suspend"]
    assert events[-1]["eventBy"] == "jdoe" and events[-1]["status"] == "Success"
    bare_sim = await make_sim(config_with(provisioning_bare_object=True))
    bare = (await M2M(bare_sim, http).call("POST", PROV, window)).json()
    assert bare["provisioningHistory"] == events


async def test_suspend_through_the_sim_shows_in_history_and_ends_sessions(
    m2m: M2M, sim: RunningSimulator
) -> None:
    before = await m2m.call("POST", CONN, body(DEMO_MDN))
    assert before.json()["connectionHistory"]
    answer = await m2m.action(
        "suspend", {"devices": [{"deviceIds": [{"id": DEMO_MDN, "kind": "mdn"}]}]}
    )
    assert answer.status_code == 200
    await sim.state.drain()
    assert await m2m.state_of(DEMO_MDN, "mdn") == "suspend"
    history = (await m2m.call("POST", PROV, body(DEMO_MDN, earliest=EARLIEST))).json()[0]
    newest = history["provisioningHistory"][-1]
    assert newest["eventType"] == "Suspend"
    assert newest["eventBy"] == sim.config.username
    suspended_at = newest["occurredAt"]
    after = (await m2m.call("POST", CONN, body(DEMO_MDN))).json()["connectionHistory"]
    assert after[-1]["occurredAt"] <= suspended_at
    assert attrs(after[-1])["Event"] == "Stop"  # the open session was closed by the suspension


async def test_usage_is_the_daily_sum_of_stop_bytes(m2m: M2M) -> None:
    mdn = STORY_BY_LETTER["C"].mdn
    events = (await m2m.call("POST", CONN, body(mdn))).json()["connectionHistory"]
    stops = sum(int(attrs(e)["BytesUsed"]) for e in events if attrs(e)["Event"] == "Stop")
    usage = (await m2m.call("POST", USAGE, body(mdn))).json()["usageHistory"]
    assert sum(r["bytesUsed"] for r in usage) == stops
    assert all(r["timestamp"].endswith("T00:00:00Z") for r in usage)


async def test_no_sessions_while_suspended_or_deactivated(sim: RunningSimulator) -> None:
    for device in sim.state.devices:
        if device.state not in ("suspend", "deactive"):
            continue
        lost = service_lost_at(device)
        assert lost is not None, device.device_id
        assert all(
            s.start < lost and s.stop is not None and s.stop <= lost
            for s in device_sessions(sim.state, device)
        )


async def test_plans_account_states_and_groups(m2m: M2M, sim: RunningSimulator) -> None:
    plans = (await m2m.call("GET", f"/plans/{m2m.account}")).json()
    codes = {p["code"] for p in plans}
    assert {d.service_plan for d in sim.state.devices} <= codes
    account = (await m2m.call("GET", f"/accounts/{m2m.account}")).json()
    assert account["accountName"] == m2m.account and "iPPools" in account
    for path in ("statesandservices", "stateandservices"):
        states = await m2m.call("GET", f"/accounts/{m2m.account}/{path}")
        assert states.status_code == 200 and states.json()["engagement"]
    other = await m2m.call("GET", "/accounts/0000654321-00001/statesandservices")
    assert other.json()["errorCode"] == PREFIX + "REQUEST_FAILED.FeatureNotEnabled"
    missing = await m2m.call("GET", "/plans/123456-00001")
    assert missing.json()["errorCode"] == PREFIX + "REQUEST_FAILED.AccountNotFound"
    groups = (await m2m.call("GET", f"/groups/{m2m.account}")).json()
    assert [g["name"] for g in groups if g["isDefaultGroup"]] == [f"Default: {m2m.account}"]
    used = {g for d in sim.state.account_devices(m2m.account) for g in d.groups}
    assert {g["name"] for g in groups} == used
    unknown = await m2m.call("GET", f"/groups/{m2m.account}/name/Nope")
    assert unknown.json()["errorCode"] == PREFIX + "REQUEST_FAILED.DeviceGroupNotFound"


async def test_group_detail_pages_with_location(
    make_sim: SimFactory, http: httpx.AsyncClient
) -> None:
    m2m = M2M(await make_sim(config_with(group_page_size=4)), http)
    first = await m2m.call("GET", f"/groups/{m2m.account}/name/Tank Monitors West")
    assert first.status_code == 202 and first.json()["hasMoreData"] is True
    assert len(first.json()["devices"]) == 4
    seen = list(first.json()["devices"])
    answer = first
    while answer.status_code == 202:
        nxt = answer.headers["Location"].split("/api/m2m/v1", 1)[1]
        answer = await m2m.call("GET", nxt)
        seen += answer.json()["devices"]
    assert answer.status_code == 200 and answer.json()["hasMoreData"] is False
    assert len(seen) == 9  # the nine story devices, each once
    assert len({d["deviceIds"][0]["id"] for d in seen}) == 9


async def test_unexpected_error_once_then_the_answer(
    make_sim: SimFactory, http: httpx.AsyncClient
) -> None:
    m2m = M2M(await make_sim(config_with(unexpected_error_once=True)), http)
    first = await m2m.call("POST", CONN, body(DEMO_MDN))
    assert first.json()["errorCode"] == PREFIX + "REQUEST_FAILED.UnexpectedError"
    again = await m2m.call("POST", CONN, body(DEMO_MDN))
    assert again.status_code == 200


async def test_stories_keep_the_inventory_size_and_suspended_story_has_status(
    m2m: M2M, sim: RunningSimulator
) -> None:
    assert len(sim.state.devices) == sim.config.inventory_size
    lookup = (await m2m.lookup(STORY_BY_LETTER["B"].mdn, "mdn")).json()["devices"][0]
    assert lookup["carrierInformations"][0]["state"] == "suspend"
    assert (await m2m.state_of(SUSPENDED_MDN, "mdn")) == "suspend"
    moved = (await m2m.lookup(STORY_BY_LETTER["F"].mdn, "mdn")).json()["devices"][0]
    assert {"id": "359876543219999", "kind": "imei"} in moved["deviceIds"]


async def test_days_without_usage_are_absent(m2m: M2M) -> None:
    usage = (await m2m.call("POST", USAGE, body(STORY_BY_LETTER["D"].mdn))).json()["usageHistory"]
    assert usage and all(r["bytesUsed"] > 0 or r["smsUsed"] > 0 for r in usage)


async def test_story_b_has_an_auto_resume_date_for_suspension_status(sim: RunningSimulator) -> None:
    from m2m_tui.sim.processing import suspension_item
    from m2m_tui.sim.selection import Target

    mdn = STORY_BY_LETTER["B"].mdn
    device = next(d for d in sim.state.devices if d.ids.get(DeviceKind.MDN) == mdn)
    item = suspension_item(sim.state, Target(device, [{"id": mdn, "kind": "mdn"}]))
    assert item["state"] == "suspend"
    assert item["expectedResumeDate"] and item["daysRemainingAutoResume"] == "84"
