"""Callback retries, fault knobs, gateway errors, shutdown and determinism."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import time
from typing import Any

import httpx
import pytest

from m2m_tui.sim import FaultConfig, RunningSimulator, start_simulator
from m2m_tui.sim.wellknown import DEMO_MDN, SUSPENDED_MDN

from ..waiting import eventually
from .sim_helpers import M2M, CallbackListener, SimFactory, fast_config

PREFIX = "UnifiedWebService."


def one(id_: str, kind: str = "mdn") -> list[dict[str, Any]]:
    return [{"deviceIds": [{"id": id_, "kind": kind}]}]


async def test_non_2xx_is_retried_up_to_four_sends(
    m2m: M2M, sim: RunningSimulator, listener: CallbackListener
) -> None:
    listener.statuses = [500] * 10
    await m2m.register("CarrierService", listener.url())
    answer = await m2m.action("suspend", {"devices": one(DEMO_MDN)})
    messages = await listener.wait_for(4)
    await sim.state.drain()
    assert len(listener.received) == 4
    assert [m["callbackCount"] for m in messages] == [1, 2, 3, 4]
    assert {m["maxCallbackThreshold"] for m in messages} == {4}
    assert {m["requestId"] for m in messages} == {answer.json()["requestId"]}
    log = sim.state.deliveries(answer.json()["requestId"])
    assert [(r.attempt, r.outcome, r.status) for r in log] == [
        (1, "rejected", 500),
        (2, "rejected", 500),
        (3, "rejected", 500),
        (4, "rejected", 500),
    ]


async def test_retry_stops_after_success(
    m2m: M2M, sim: RunningSimulator, listener: CallbackListener
) -> None:
    listener.statuses = [503]
    await m2m.register("CarrierService", listener.url())
    await m2m.action("suspend", {"devices": one(DEMO_MDN)})
    await listener.wait_for(2)
    await sim.state.drain()
    assert [m["callbackCount"] for m in listener.received] == [1, 2]
    assert [r.outcome for r in sim.state.delivery_log] == ["rejected", "delivered"]


async def test_unreachable_listener_is_retried(m2m: M2M, sim: RunningSimulator) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    await m2m.register("CarrierService", f"http://127.0.0.1:{port}/cb")
    await m2m.action("suspend", {"devices": one(DEMO_MDN)})
    await sim.state.drain()
    assert [(r.attempt, r.outcome) for r in sim.state.delivery_log] == [
        (1, "error"),
        (2, "error"),
        (3, "error"),
        (4, "error"),
    ]
    assert all(r.error for r in sim.state.delivery_log)


async def test_429_with_retry_after(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    sim = await make_sim(faults=FaultConfig(rate_429=1.0, retry_after=7))
    answer = await M2M(sim, http).token()
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert answer.json()["fault"]["code"] == "900800"
    assert answer.json()["fault"]["message"] == "Message throttled out"


async def test_error_rate_500(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    sim = await make_sim(faults=FaultConfig(error_rate=1.0))
    answer = await M2M(sim, http).token()
    assert answer.status_code == 500
    assert answer.json()["errorCode"] == PREFIX + "REQUEST_FAILED.UnexpectedError"
    assert sim.state.tokens_issued == 0


async def test_partial_rates_are_repeatable(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    async def run() -> list[int]:
        sim = await make_sim(faults=FaultConfig(rate_429=0.3, error_rate=0.2))
        caller = M2M(sim, http)
        return [(await caller.token()).status_code for _ in range(30)]

    first, second = await run(), await run()
    assert first == second
    assert {200, 429, 500} <= set(first)


async def test_duplicates(
    make_sim: SimFactory, http: httpx.AsyncClient, listener: CallbackListener
) -> None:
    sim = await make_sim(faults=FaultConfig(duplicate_rate=1.0))
    m2m = M2M(sim, http)
    await m2m.register("CarrierService", listener.url())
    await m2m.action("suspend", {"devices": one(DEMO_MDN)})
    first, second = await listener.wait_for(2)
    await sim.state.drain()
    assert first == second
    assert [r.duplicate for r in sim.state.delivery_log] == [False, True]


async def test_drops(
    make_sim: SimFactory, http: httpx.AsyncClient, listener: CallbackListener
) -> None:
    sim = await make_sim(faults=FaultConfig(drop_rate=1.0))
    m2m = M2M(sim, http)
    await m2m.register("CarrierService", listener.url())
    await m2m.action("suspend", {"devices": one(DEMO_MDN)})
    await sim.state.drain()
    assert listener.received == []
    assert [r.outcome for r in sim.state.delivery_log] == ["dropped"]
    assert await m2m.state_of(DEMO_MDN, "mdn") == "suspend"


async def test_early_callbacks_beat_the_response(
    make_sim: SimFactory, http: httpx.AsyncClient, listener: CallbackListener
) -> None:
    sim = await make_sim(faults=FaultConfig(early_callbacks=True), processing_delay=5.0)
    m2m = M2M(sim, http)
    await m2m.register("CarrierService", listener.url())
    answer = await m2m.action("suspend", {"devices": one(DEMO_MDN)})
    assert len(listener.received) == 1
    assert listener.received[0]["requestId"] == answer.json()["requestId"]
    status = await m2m.call(
        "GET", f"/accounts/{m2m.account}/requests/{answer.json()['requestId']}/status"
    )
    assert status.json()["status"] == "Success"


async def test_reorder_keeps_completion_last(
    make_sim: SimFactory, http: httpx.AsyncClient, listener: CallbackListener
) -> None:
    sim = await make_sim(faults=FaultConfig(reorder=True))
    m2m = M2M(sim, http)
    await m2m.register("DeviceSuspensionStatus", listener.url())
    members = [
        d for d in sim.state.devices if d.account == m2m.account and "Field units" in d.groups
    ]
    await m2m.call(
        "POST",
        "/devices/suspension/status",
        {"accountName": m2m.account, "filter": {"groupName": "Field units"}},
    )
    messages = await listener.wait_for(len(members) + 1)
    assert messages[-1]["comment"] == "Request Completed Processing"
    got = [
        m["deviceResponse"]["deviceSuspensionStatusResponse"][0]["deviceIds"][0]["id"]
        for m in messages[:-1]
    ]
    in_order = [d.main_ids()[0]["id"] for d in members]
    assert sorted(got) == sorted(in_order)
    assert got != in_order


async def test_latency(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    sim = await make_sim(faults=FaultConfig(latency=0.2))
    started = time.monotonic()
    assert (await M2M(sim, http).token()).status_code == 200
    assert time.monotonic() - started >= 0.2


async def test_unknown_path_and_method(m2m: M2M, http: httpx.AsyncClient) -> None:
    missing = await http.get(f"{m2m.base}/api/m2m/v1/nothing/here")
    assert missing.status_code == 404
    assert missing.json()["fault"]["code"] == "900906"
    wrong_method = await http.get(f"{m2m.base}/api/ts/v1/oauth2/token")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["fault"]["code"] == "900906"


async def test_handler_crash_becomes_500_json(m2m: M2M, sim: RunningSimulator) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("kaboom")

    sim.state.find_device = boom  # type: ignore[method-assign, assignment]
    answer = await m2m.lookup(DEMO_MDN, "mdn")
    assert answer.status_code == 500
    assert answer.json()["errorCode"] == PREFIX + "REQUEST_FAILED.UnexpectedError"
    assert (await m2m.call("GET", f"/callbacks/{m2m.account}")).status_code == 200


async def test_call_counters(m2m: M2M, sim: RunningSimulator) -> None:
    await m2m.login()
    await m2m.lookup(DEMO_MDN, "mdn")
    await m2m.lookup(SUSPENDED_MDN, "mdn")
    calls = sim.state.calls
    assert calls["POST /api/ts/v1/oauth2/token"] == 1
    assert calls["POST /api/m2m/v1/session/login"] == 1
    assert calls["POST /api/m2m/v1/devices/actions/list"] == 2
    assert sim.state.logins == 1


async def test_close_with_pending_retries_is_clean(
    listener: CallbackListener, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    listener.statuses = [500] * 10
    sim = await start_simulator(fast_config(callback_retry_interval=30.0))
    async with sim:
        m2m = M2M(sim, http)
        await m2m.register("CarrierService", listener.url())
        await m2m.action("suspend", {"devices": one(DEMO_MDN)})
        await listener.wait_for(1)
        # The 500 is logged once the simulator has it; the retry then waits 30 s.
        await eventually(lambda: [r.outcome for r in sim.state.delivery_log] == ["rejected"])
        assert sim.state.tasks  # the retry is waiting
    assert not sim.state.tasks
    gc.collect()
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR):
        gc.collect()
    bad = [
        r.getMessage()
        for r in caplog.records
        if "destroyed" in r.getMessage() or "Unclosed" in r.getMessage()
    ]
    assert bad == []


def wire_inventory(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [d.to_wire(extended=True) for d in sim.state.devices]


async def test_same_seed_same_run(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    """A seed (with a fixed request-id salt) repeats a run exactly, requestIds included."""
    a = await make_sim(seed=7, request_id_salt=42)
    b = await make_sim(seed=7, request_id_salt=42)
    c = await make_sim(seed=8, request_id_salt=42)
    assert wire_inventory(a) == wire_inventory(b)
    assert wire_inventory(a) != wire_inventory(c)
    ids = []
    for sim in (a, b):
        m2m = M2M(sim, http)
        answer = await m2m.action("suspend", {"devices": one(DEMO_MDN)})
        ids.append((m2m.bearer, m2m.session, answer.json()["requestId"]))
    assert ids[0] == ids[1]


async def test_request_ids_are_unique_across_restarts_with_the_same_seed(
    make_sim: SimFactory, http: httpx.AsyncClient
) -> None:
    """Issue 8 case 2: a restarted simulator must not hand out an id an earlier run gave."""
    seen: list[str] = []
    inventories = []
    for _ in range(3):
        sim = await make_sim(seed=7)
        inventories.append(wire_inventory(sim))
        m2m = M2M(sim, http)
        for mdn in (DEMO_MDN, SUSPENDED_MDN):
            answer = await m2m.action("suspend", {"devices": one(mdn)})
            seen.append(answer.json()["requestId"])
    assert len(set(seen)) == len(seen) == 6
    assert inventories[0] == inventories[1] == inventories[2]  # the seed still drives the world
