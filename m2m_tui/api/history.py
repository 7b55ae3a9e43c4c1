"""The diagnostics reads: histories, plans, account, states and services, device groups.

Kept out of ``client.py`` (which owns logins and transport) and built on its one read path,
``ThingSpaceClient.read``, so these calls get both tokens, renewal and the read-only retry
rules (408/429/5xx with backoff) for free. What is added here (``thingspace-diagnostics.md``
§1): windows are checked before sending (``earliest < latest``, both with a zone, usage no
older than its 12-month retention), 202 pages are followed by moving ``earliest`` to the last
record plus one millisecond and de-duplicating, and an ``UnexpectedError`` (the documented
30-second timeout) is re-sent once after a pause, which is safe because these calls only read;
if it fails again the window is halved (down to 12 hours) and each half read in turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from m2m_tui.api.errors import ApiError, GatewayError, ResponseFormatError, ThingSpaceError
from m2m_tui.api.models.accounts import (
    AccountInfo,
    DeviceGroup,
    DeviceGroupDetail,
    GroupDevice,
    ServicePlan,
    ServicePlanList,
    StatesAndServices,
)
from m2m_tui.api.models.devices import DeviceId, check_account_name
from m2m_tui.api.models.history import (
    ConnectionEvent,
    ConnectionHistoryResponse,
    HistoryRequest,
    ProvisioningEvent,
    ProvisioningHistoryResponse,
    UsageHistoryRequest,
    UsageHistoryResponse,
    UsageLabel,
    UsageRecord,
    wire_time,
)
from m2m_tui.api.transport import json_body

if TYPE_CHECKING:
    import httpx

    from m2m_tui.api.client import ThingSpaceClient

CONNECTION_PATH = "/devices/connections/actions/listHistory"
PROVISIONING_PATH = "/devices/history/actions/list"
USAGE_PATH = "/devices/usage/actions/list"
#: Usage records are kept 12 months (§4.3): an older ``earliest`` cannot return anything.
USAGE_RETENTION = timedelta(days=365)
#: The most pages followed for one window before giving up (500 records each).
MAX_PAGES = 200
#: A window that keeps timing out is halved down to this span, then the error is raised.
MIN_WINDOW = timedelta(hours=12)

ModelT = TypeVar("ModelT", bound=BaseModel)
RecordT = TypeVar("RecordT")


class DateRangeError(ThingSpaceError):
    """A window refused before sending: ThingSpace would answer nothing useful (or an error)."""

    default_hint = "pick a window whose start is before its end, with a time zone"


class IncompleteHistory(ThingSpaceError):
    """More pages were announced than this tool follows; what was read is in ``records``."""

    default_hint = "narrow the window: ThingSpace announced more records than were read"

    def __init__(self, message: str, records: list[Any], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.records = records


@dataclass(frozen=True)
class Window:
    """A validated ``[earliest, latest]`` window (both aware, earliest strictly first)."""

    earliest: datetime
    latest: datetime

    @classmethod
    def check(cls, earliest: datetime, latest: datetime, *, what: str) -> Window:
        for name, moment in (("earliest", earliest), ("latest", latest)):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise DateRangeError(f"{what}: {name} {moment.isoformat()} has no time zone")
        if earliest >= latest:
            raise DateRangeError(
                f"{what}: earliest {earliest.isoformat()} is not before latest {latest.isoformat()}"
            )
        return cls(earliest.astimezone(UTC), latest.astimezone(UTC))

    @classmethod
    def last(cls, days: float, now: datetime | None = None, *, what: str = "window") -> Window:
        end = now or datetime.now(UTC)
        return cls.check(end - timedelta(days=days), end, what=what)


def _seg(value: str) -> str:
    return quote(value, safe="")


class DiagnosticsReads:
    """The reads of ``thingspace-diagnostics.md`` on top of one logged-in client.

    ``unexpected_retry_delay`` is the pause before re-sending a call that failed with
    ``REQUEST_FAILED.UnexpectedError`` (the reference says 3-5 s; tests shorten it).
    """

    def __init__(
        self,
        client: ThingSpaceClient,
        *,
        unexpected_retry_delay: float = 3.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.unexpected_retry_delay = unexpected_retry_delay
        self._clock = clock

    # ---------------------------------------------------------------- histories

    async def connection_history(
        self, device: DeviceId, earliest: datetime, latest: datetime
    ) -> list[ConnectionEvent]:
        """Every connection event in the window, oldest first, all pages followed."""
        window = Window.check(earliest, latest, what="connection history")

        async def page(start: datetime, end: datetime) -> tuple[list[ConnectionEvent], bool]:
            body = HistoryRequest(deviceId=device, earliest=wire_time(start), latest=wire_time(end))
            answer = await self._post(CONNECTION_PATH, body, ConnectionHistoryResponse)
            return answer.connectionHistory, answer.hasMoreData

        return await _walk_halving(
            window, page, lambda e: e.when, lambda e: e.identity(), CONNECTION_PATH
        )

    async def provisioning_history(
        self, device: DeviceId, earliest: datetime, latest: datetime
    ) -> list[ProvisioningEvent]:
        """Every provisioning event in the window, oldest first (array or object answers)."""
        window = Window.check(earliest, latest, what="provisioning history")

        async def page(start: datetime, end: datetime) -> tuple[list[ProvisioningEvent], bool]:
            body = HistoryRequest(deviceId=device, earliest=wire_time(start), latest=wire_time(end))
            answer = await self._post(PROVISIONING_PATH, body, ProvisioningHistoryResponse)
            return answer.provisioningHistory, answer.hasMoreData

        return await _walk_halving(
            window, page, lambda e: e.when, lambda e: e.identity(), PROVISIONING_PATH
        )

    async def usage_history(
        self,
        device: DeviceId | None,
        earliest: datetime,
        latest: datetime,
        *,
        label: UsageLabel | None = None,
    ) -> list[UsageRecord]:
        """Daily usage in the window; days without a record mean zero (§4.3)."""
        window = Window.check(earliest, latest, what="usage history")
        oldest = self._clock() - USAGE_RETENTION
        if window.earliest < oldest:
            raise DateRangeError(
                f"usage history: earliest {window.earliest.date()} is older than the 12 months "
                "ThingSpace keeps usage",
                hint="ask for the last 12 months at most",
            )

        async def page(start: datetime, end: datetime) -> tuple[list[UsageRecord], bool]:
            body = UsageHistoryRequest(
                deviceId=device,
                label=label,
                earliest=wire_time(start),
                latest=wire_time(end),
            )
            answer = await self._post(USAGE_PATH, body, UsageHistoryResponse)
            return answer.usageHistory, answer.hasMoreData

        return await _walk_halving(
            window, page, lambda r: r.when, lambda r: r.identity(), USAGE_PATH
        )

    # ---------------------------------------------------------------- account reads

    async def service_plans(self, account: str) -> ServicePlanList:
        path = f"/plans/{_seg(check_account_name(account))}"
        response = await self._read("GET", path)
        return _parse(ServicePlanList, response, "GET", path)

    async def account_info(self, account: str) -> AccountInfo:
        path = f"/accounts/{_seg(check_account_name(account))}"
        response = await self._read("GET", path)
        return _parse(AccountInfo, response, "GET", path)

    async def states_and_services(self, account: str) -> StatesAndServices:
        """The SDK path first, the documentation's singular path on a 404 (§6.2)."""
        name = _seg(check_account_name(account))
        try:
            path = f"/accounts/{name}/statesandservices"
            response = await self._read("GET", path)
        except GatewayError as error:
            if error.status != 404:
                raise
            path = f"/accounts/{name}/stateandservices"
            response = await self._read("GET", path)
        return _parse(StatesAndServices, response, "GET", path)

    async def device_groups(self, account: str) -> list[DeviceGroup]:
        path = f"/groups/{_seg(check_account_name(account))}"
        response = await self._read("GET", path)
        data = json_body(response, method="GET", path=path)
        if not isinstance(data, list):
            raise ResponseFormatError("expected a list of device groups", status=200, path=path)
        return [_validate(DeviceGroup, item, "GET", path) for item in data]

    async def group_devices(
        self, account: str, group: str, *, limit: int = 20
    ) -> tuple[DeviceGroupDetail, list[GroupDevice]]:
        """A group's detail and up to ``limit`` of its devices, following ``next`` pages."""
        base = f"/groups/{_seg(check_account_name(account))}/name/{_seg(group)}"
        detail: DeviceGroupDetail | None = None
        devices: list[GroupDevice] = []
        path = base
        for _ in range(MAX_PAGES):
            response = await self._read("GET", path)
            page = _parse(DeviceGroupDetail, response, "GET", path)
            detail = detail or page
            devices.extend(page.devices)
            nxt = _next_token(response.headers.get("location"))
            if not page.hasMoreData or len(devices) >= limit or nxt is None:
                break
            path = f"{base}?next={nxt}"
        assert detail is not None
        return detail, devices[:limit]

    # ---------------------------------------------------------------- plumbing

    async def _read(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One read; an UnexpectedError (the documented timeout) is re-sent once."""
        try:
            return await self.client.read(method, path, body)
        except ApiError as error:
            if not (error.code or "").endswith("UnexpectedError"):
                raise
        await asyncio.sleep(self.unexpected_retry_delay)
        return await self.client.read(method, path, body)

    async def _post(self, path: str, body: Any, model: type[ModelT]) -> ModelT:
        response = await self._read("POST", path, body)
        return _parse(model, response, "POST", path)


def _next_token(location: str | None) -> str | None:
    if not location or "next=" not in location:
        return None
    return location.split("next=", 1)[1].split("&", 1)[0] or None


def _validate(model: type[ModelT], data: Any, method: str, path: str) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ResponseFormatError(
            f"unexpected {model.__name__} body: {exc.error_count()} problem(s)",
            status=200,
            method=method,
            path=path,
        ) from None


def _parse(model: type[ModelT], response: httpx.Response, method: str, path: str) -> ModelT:
    return _validate(model, json_body(response, method=method, path=path), method, path)


async def _walk(
    window: Window,
    page: Callable[[datetime, datetime], Awaitable[tuple[list[RecordT], bool]]],
    when: Callable[[RecordT], datetime | None],
    identity: Callable[[RecordT], Hashable],
    path: str,
) -> list[RecordT]:
    """Follow 202 pages forward: next ``earliest`` = last record's time + 1 ms, de-duplicated."""
    seen: set[Hashable] = set()
    records: list[RecordT] = []
    start = window.earliest
    for _ in range(MAX_PAGES):
        items, more = await page(start, window.latest)
        for item in items:
            key = identity(item)
            if key not in seen:
                seen.add(key)
                records.append(item)
        if not more:
            return records
        last = when(items[-1]) if items else None
        if last is None:
            raise IncompleteHistory(
                "more records announced but the last one has no usable timestamp",
                records,
                status=202,
                path=path,
            )
        nxt = last + timedelta(milliseconds=1)
        if nxt <= start or nxt >= window.latest:
            return records
        start = nxt
    raise IncompleteHistory(f"more than {MAX_PAGES} pages", records, status=202, path=path)


async def _walk_halving(
    window: Window,
    page: Callable[[datetime, datetime], Awaitable[tuple[list[RecordT], bool]]],
    when: Callable[[RecordT], datetime | None],
    identity: Callable[[RecordT], Hashable],
    path: str,
) -> list[RecordT]:
    """:func:`_walk`; a window that still times out after its re-send is split in halves (§1)."""
    try:
        return await _walk(window, page, when, identity, path)
    except ApiError as error:
        span = window.latest - window.earliest
        if not (error.code or "").endswith("UnexpectedError") or span <= MIN_WINDOW:
            raise
    middle = window.earliest + span / 2
    older = await _walk_halving(Window(window.earliest, middle), page, when, identity, path)
    newer = await _walk_halving(Window(middle, window.latest), page, when, identity, path)
    seen = {identity(r) for r in older}
    return older + [r for r in newer if identity(r) not in seen]


__all__ = [
    "CONNECTION_PATH",
    "PROVISIONING_PATH",
    "USAGE_PATH",
    "DateRangeError",
    "DiagnosticsReads",
    "IncompleteHistory",
    "ServicePlan",
    "Window",
]
