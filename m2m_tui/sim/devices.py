"""``POST /api/m2m/v1/devices/actions/list``: single-device lookup and paged account listing.

The single-device form is what the TUI uses most, so its errors (kind, identifier, not found,
account) follow §6/§8.2 exactly. The listing pages the way production consumers rely on: sorted
by ``DeviceId``, ``hasMoreData`` with HTTP 202 while more remain, ``largestDeviceIdSeen`` to
continue (without it, by date added; ``earliest`` is inclusive). List entries carry only the
``DeviceId`` extended attribute (paging needs it, and a production consumer reads it there),
or none when ``list_extended_attributes`` is off; the full set, with the PrimaryPlaceOfUse*
keys, is returned for single-device queries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from m2m_tui.sim.errors import check_characters, m2m_error, read_json_object
from m2m_tui.sim.inventory import Device
from m2m_tui.sim.selection import (
    check_account,
    not_found,
    parse_filter,
    parse_identifier,
    parse_identifier_filters,
)
from m2m_tui.sim.state import STATE_KEY


def _int_field(body: dict[str, Any], key: str, minimum: int) -> int | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    try:
        number = int(value)
        if isinstance(value, bool | float):
            raise ValueError(value)
    except (TypeError, ValueError):
        number = minimum - 1
    if number < minimum:
        raise m2m_error(f"INPUT_INVALID.{key[0].upper()}{key[1:]}.Invalid", f"{key} is invalid.")
    return number


def _date_field(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise m2m_error(
            "INPUT_INVALID.DateTime.Invalid",
            f"{key} must be an ISO-8601 date-time with an offset, e.g. 2015-09-16T00:00:01Z.",
        )
    return moment


def _list_entry(device: Device, extended: bool) -> dict[str, Any]:
    entry = device.to_wire(extended=False)
    if extended:
        entry["extendedAttributes"] = [{"key": "DeviceId", "value": str(device.device_id)}]
    else:
        entry.pop("extendedAttributes", None)
    return entry


async def list_devices(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json_object(request)
    check_characters(body)
    account = check_account(state, body.get("accountName"))
    if body.get("deviceId") is not None:
        kind, value = parse_identifier(body["deviceId"])
        device = state.find_device(kind, value)
        if device is None or (account is not None and device.account != account):
            raise not_found(kind, value)
        return web.json_response({"hasMoreData": False, "devices": [device.to_wire(True)]})
    if account is None:
        if len(state.config.accounts) > 1:
            raise m2m_error(
                "REQUEST_FAILED.MultipleAccounts",
                "The user has several accounts; name one in accountName.",
            )
        account = state.config.primary_account
    criteria = parse_filter(body, with_state=True)
    criteria.identifiers = parse_identifier_filters(body)
    earliest = _date_field(body, "earliest")
    latest = _date_field(body, "latest")
    limit = _int_field(body, "maxNumberOfDevices", 1) or state.config.page_size
    limit = min(limit, state.config.page_size)
    seen = _int_field(body, "largestDeviceIdSeen", 0)
    after = seen or 0
    matched = [
        d
        for d in state.account_devices(account)
        if d.device_id > after
        and criteria.matches(d)
        and (earliest is None or d.created_at >= earliest)
        and (latest is None or d.created_at <= latest)
    ]
    if seen is None:  # without largestDeviceIdSeen, results come by date added
        matched.sort(key=lambda d: (d.created_at, d.device_id))
    page = matched[:limit]
    more = len(matched) > limit
    extended = state.config.list_extended_attributes
    return web.json_response(
        {"hasMoreData": more, "devices": [_list_entry(d, extended) for d in page]},
        status=202 if more else 200,
    )
