"""Paging a filtered device list to its end, with or without ``DeviceId`` attributes.

ThingSpace pages with ``largestDeviceIdSeen``, taken from each device's ``DeviceId`` extended
attribute; Verizon's SDK says extended attributes may be left out when many devices are
listed. Without them the results come by date added, and the next page starts at the last
``createdAt`` seen (``earliest`` is inclusive, so devices already listed are skipped).
A page that announces more but moves nothing forward raises :class:`PagingStalled`: the
list is then known to be incomplete, instead of looping for ever or stopping quietly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from m2m_tui.api.errors import PagingStalled
from m2m_tui.api.models import Device, DeviceListRequest, DeviceListResponse

ListCall = Callable[[DeviceListRequest], Awaitable[DeviceListResponse]]
PATH = "/devices/actions/list"


def device_key(device: Device) -> str:
    """Who a listed device is: its identifiers (or, lacking any, the whole entry)."""
    if device.deviceIds:
        pairs = sorted(f"{d.kind}:{d.id.upper()}" for d in device.deviceIds)
        return "|".join(pairs)
    return device.model_dump_json()


def _added_at(device: Device) -> datetime | None:
    value = device.createdAt
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def wire_date(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z``, as ThingSpace's examples write ``earliest``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class DevicePager:
    """One filtered list, a page at a time: :meth:`next_page` until :attr:`more` is False."""

    def __init__(self, list_call: ListCall, request: DeviceListRequest) -> None:
        self._list = list_call
        self._request = request
        self._seen: set[str] = set()
        #: True once paging by date added (the pages carried no DeviceId).
        self.by_date = False
        self.more = True
        self.pages = 0

    @property
    def request(self) -> DeviceListRequest:
        """The request the next page will be asked with."""
        return self._request

    async def next_page(self) -> list[Device]:
        """The devices of the next page not listed before (empty when there is none)."""
        if not self.more:
            return []
        page = await self._list(self._request)
        self.pages += 1
        fresh = []
        for device in page.devices:
            key = device_key(device)
            if key not in self._seen:
                self._seen.add(key)
                fresh.append(device)
        if not page.hasMoreData:
            self.more = False
            return fresh
        try:
            self._request = self._following(page.devices, fresh)
        except PagingStalled:
            self.more = False
            raise
        return fresh

    def _stalled(self, why: str) -> PagingStalled:
        listed = len(self._seen)
        return PagingStalled(
            f"more devices announced, but {why}; the list is incomplete "
            f"({listed} device{'s' if listed != 1 else ''} listed)",
            status=202,
            method="POST",
            path=PATH,
        )

    def _following(self, devices: list[Device], fresh: list[Device]) -> DeviceListRequest:
        current = self._request
        if not devices:
            raise self._stalled("the page was empty")
        ids = [d.numeric_device_id for d in devices]
        if not self.by_date and all(i is not None for i in ids):
            cursor = max(i for i in ids if i is not None)
            previous = current.largestDeviceIdSeen
            if previous is not None and cursor <= previous:
                raise self._stalled(f"the page did not move past device id {previous}")
            return current.model_copy(update={"largestDeviceIdSeen": cursor})
        if current.largestDeviceIdSeen is not None:
            raise self._stalled("the page carries no DeviceId to continue from")
        if not fresh:
            raise self._stalled("the page held only devices already listed")
        dates = [_added_at(d) for d in devices]
        if any(date is None for date in dates):
            raise self._stalled("the page carries neither DeviceId nor createdAt to continue from")
        self.by_date = True
        last = max(date for date in dates if date is not None)
        return current.model_copy(update={"earliest": wire_date(last)})
