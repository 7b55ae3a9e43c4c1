"""Filter paging with and without ``DeviceId`` extended attributes (issue 9, point 18)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from aiohttp import web

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.credentials import ClientSettings
from m2m_tui.api.errors import PagingStalled
from m2m_tui.api.models import Device, DeviceListRequest
from m2m_tui.api.paging import DevicePager, device_key
from m2m_tui.sim import SimConfig, start_simulator
from m2m_tui.sim.inventory import Device as SimDevice

from ..conftest import FAST, credentials_for
from .hostile import Handler, client_for, hostile_server, json_answer

PRIMARY = "0000123456-00001"


@pytest.mark.parametrize("extended", [True, False], ids=["with-DeviceId", "without"])
async def test_a_filter_lists_every_device_once_either_way(extended: bool) -> None:
    sim = await start_simulator(SimConfig(list_extended_attributes=extended, **FAST))  # type: ignore[arg-type]
    try:
        async with ThingSpaceClient(
            credentials_for(sim.config), ClientSettings(base_url=sim.base_url)
        ) as client:
            pager = DevicePager(
                client.list_devices, DeviceListRequest(accountName=PRIMARY, maxNumberOfDevices=40)
            )
            keys: list[str] = []
            async with asyncio.timeout(30):
                while pager.more:
                    keys += [device_key(d) for d in await pager.next_page()]
            also = [
                device_key(d)
                async for page in client.iter_device_pages(
                    DeviceListRequest(accountName=PRIMARY, maxNumberOfDevices=40)
                )
                for d in page
            ]
    finally:
        await sim.close()
    expected = {device_key_of_sim(d) for d in sim.state.devices if d.account == PRIMARY}
    assert pager.by_date is not extended
    assert pager.pages > 2
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == expected and sorted(also) == sorted(keys)


def device_key_of_sim(device: SimDevice) -> str:
    return device_key(Device.model_validate(device.to_wire(extended=False)))


def _entry(serial: int, created: str | None) -> dict[str, object]:
    entry: dict[str, object] = {"deviceIds": [{"id": f"{serial:015d}", "kind": "imei"}]}
    if created is not None:
        entry["createdAt"] = created
    return entry


def _by_date_server(dates: list[str | None], size: int) -> tuple[Handler, list[dict[str, object]]]:
    """Lists ``dates`` (one device each) by date added, ``earliest`` inclusive, no DeviceId."""
    asked: list[dict[str, object]] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        asked.append(body)
        earliest = body.get("earliest")
        start = datetime.fromisoformat(earliest) if earliest else None
        matched = [
            _entry(i, d)
            for i, d in enumerate(dates)
            if start is None or d is None or datetime.fromisoformat(d) >= start
        ]
        more = len(matched) > size
        return json_answer({"hasMoreData": more, "devices": matched[:size]}, 202 if more else 200)

    return handler, asked


def _t(minute: int) -> str:
    return f"2024-03-01T10:{minute:02d}:00-05:00"


async def _serials(handler: Handler) -> list[str]:
    async with hostile_server(handler) as url, client_for(url) as client:
        serials: list[str] = []
        async with asyncio.timeout(10):
            async for page in client.iter_device_pages(DeviceListRequest(accountName=PRIMARY)):
                serials += [d.deviceIds[0].id for d in page]
        return serials


async def test_pages_by_earliest_across_shared_dates() -> None:
    handler, asked = _by_date_server([_t(1), _t(2), _t(3), _t(3), _t(4), _t(5)], size=3)
    serials = await _serials(handler)
    assert serials == [f"{i:015d}" for i in range(6)]
    assert [a.get("earliest") for a in asked] == [
        None,
        "2024-03-01T15:03:00Z",
        "2024-03-01T15:04:00Z",
    ]
    assert all("largestDeviceIdSeen" not in a for a in asked)


async def test_more_devices_on_one_date_than_a_page_says_the_list_is_incomplete() -> None:
    handler, asked = _by_date_server([_t(1), _t(1), _t(1), _t(2)], size=2)
    with pytest.raises(PagingStalled) as info:
        await _serials(handler)
    assert len(asked) == 2
    assert "only devices already listed" in info.value.message
    assert "the list is incomplete (2 devices listed)" in info.value.message


async def test_no_device_id_and_no_date_says_the_list_is_incomplete() -> None:
    handler, _ = _by_date_server([None, None, None], size=2)
    with pytest.raises(PagingStalled, match="neither DeviceId nor createdAt"):
        await _serials(handler)
