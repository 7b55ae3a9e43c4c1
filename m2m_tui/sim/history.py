"""The three per-device history reads of the simulator (``thingspace-diagnostics.md`` §1-§4).

Answers are derived from the device, so they always agree with the device list: data
sessions are the device's story sessions or are generated from the seed and the device's
dates (none while it is suspended or deactivated: a loss of service cuts the open session),
provisioning events are the ones seeded at start-up plus every action done through the
simulator (with the user who did it), and daily usage is the sum of each UTC day's Stop bytes.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.sim.errors import check_characters, m2m_error, read_json_object
from m2m_tui.sim.inventory import EASTERN, Device
from m2m_tui.sim.selection import not_found, parse_identifier
from m2m_tui.sim.state import STATE_KEY, SimState
from m2m_tui.sim.timeline import DataSession, ProvisioningEvent

#: Generated sessions reach back this far (stories bring their own).
GENERATED_DAYS = 120
EVENT_TYPES = {
    "activate": "Activation Confirmed",
    "suspend": "Suspend",
    "restore": "Restore",
    "deactivate": "Deactivate",
}
SEEN_KEY: web.AppKey[set[str]] = web.AppKey("m2m_sim_history_seen", set)


def _rng(state: SimState, device: Device, salt: str) -> random.Random:
    return random.Random(f"{state.config.seed}:{device.device_id}:{salt}")


def generated_sessions(device: Device, rng: random.Random) -> list[DataSession]:
    """Roughly daily sessions ending at ``lastConnectionDate`` (the newest Start)."""
    last = device.last_connection_date
    if device.state == "pre-active" or last is None:
        return []
    ip = device.ip_address or "10.0.0.1"
    horizon = max(device.created_at, last - timedelta(days=GENERATED_DAYS))
    sessions: list[DataSession] = []
    start = last
    newest = True
    while start > horizon:
        length = timedelta(seconds=rng.randint(300, 1200))
        still_open = newest and device.state == "active" and device.connected
        stop = None if still_open else start + length
        sessions.append(DataSession(start, stop, rng.randint(20_000, 90_000), ip))
        newest = False
        start -= timedelta(hours=rng.uniform(20.0, 28.0))
    sessions.reverse()
    return sessions


def device_sessions(state: SimState, device: Device) -> list[DataSession]:
    """The device's sessions up to now, cut where the line lost service."""
    base = (
        list(device.sessions)
        if device.sessions is not None
        else generated_sessions(device, _rng(state, device, "sessions"))
    )
    cut_at = service_lost_at(device)
    now = state.wall_now()
    out: list[DataSession] = []
    for session in base:
        kept = session.cut(cut_at) if cut_at is not None else session
        if kept is not None and kept.start <= now:
            out.append(kept)
    return out


def service_lost_at(device: Device) -> datetime | None:
    """When a suspended or deactivated line lost service (its newest such successful event)."""
    if device.state not in ("suspend", "deactive"):
        return None
    for event in sorted(device.events, key=lambda e: e.occurred_at, reverse=True):
        kind = event.event_type.lower()
        if event.status == "Success" and ("suspend" in kind or "deactiv" in kind):
            return event.occurred_at
    return device.suspend_date


def record_event(
    device: Device, action: str, user: str | None, when: datetime, status: str = "Success"
) -> None:
    """Append what a simulator action did (or failed to do) to the device's history."""
    device.events.append(
        ProvisioningEvent(
            occurred_at=when,
            event_type=EVENT_TYPES.get(action, action),
            event_by=user or "UWS API",
            status=status,
            service_plan=device.service_plan,
            mdn=device.ids.get(DeviceKind.MDN, ""),
            msisdn=device.ids.get(DeviceKind.MSISDN, ""),
        )
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(EASTERN).isoformat(timespec="seconds")


def connection_records(state: SimState, device: Device) -> list[tuple[datetime, dict[str, Any]]]:
    msisdn = device.ids.get(DeviceKind.MSISDN, "")
    out: list[tuple[datetime, dict[str, Any]]] = []
    for session in device_sessions(state, device):
        start_attrs = [{"key": "BytesUsed", "value": "0"}, {"key": "Event", "value": "Start"}]
        if msisdn:
            start_attrs.append({"key": "Msisdn", "value": msisdn})
        if session.ip:
            start_attrs.append({"key": "FramedIpAddress", "value": session.ip})
        out.append((session.start, _connection(session.start, start_attrs)))
        if session.stop is not None:
            stop_attrs = [
                {"key": "BytesUsed", "value": str(session.bytes_used)},
                {"key": "Event", "value": "Stop"},
            ]
            if msisdn:
                stop_attrs.append({"key": "Msisdn", "value": msisdn})
            out.append((session.stop, _connection(session.stop, stop_attrs)))
    out.sort(key=lambda pair: pair[0])
    return out


def _connection(moment: datetime, attrs: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "occurredAt": _stamp(moment),
        "extendedAttributes": [],
        "connectionEventAttributes": attrs,
    }


def provisioning_records(device: Device) -> list[tuple[datetime, dict[str, Any]]]:
    out = [
        (
            e.occurred_at,
            {
                "occurredAt": _stamp(e.occurred_at),
                "status": e.status,
                "eventBy": e.event_by,
                "eventType": e.event_type,
                "servicePlan": e.service_plan,
                "mdn": e.mdn,
                "msisdn": e.msisdn,
                "extendedAttributes": [],
            },
        )
        for e in device.events
    ]
    out.sort(key=lambda pair: pair[0])
    return out


def usage_records(state: SimState, device: Device) -> list[tuple[datetime, dict[str, Any]]]:
    """One record per UTC day with traffic; days without any are absent (§4.3 default)."""
    per_day: dict[datetime, int] = defaultdict(int)
    for session in device_sessions(state, device):
        if session.stop is not None:
            day = session.stop.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            per_day[day] += session.bytes_used
    rng = _rng(state, device, "sms")
    out: list[tuple[datetime, dict[str, Any]]] = []
    for day in sorted(per_day):
        mo = rng.choice((0, 0, 0, 1))
        if not per_day[day] and not mo:
            continue  # a day without usage is absent, not a zero record (§4.3 default)
        out.append(
            (
                day,
                {
                    "timestamp": day.isoformat().replace("+00:00", "Z"),
                    "bytesUsed": per_day[day],
                    "smsUsed": mo,
                    "source": "Raw Usage",
                    "servicePlan": device.service_plan,
                    "extendedAttributes": [
                        {"key": "MoSms", "value": str(mo)},
                        {"key": "MtSms", "value": "0"},
                    ],
                },
            )
        )
    return out


def _moment(body: dict[str, Any], key: str) -> datetime:
    value = body.get(key)
    if value is None or value == "":
        raise m2m_error(
            f"INPUT_INVALID.{key.capitalize()}.NotDefined", f"{key} is required (ISO-8601)."
        )
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


def _device(state: SimState, body: dict[str, Any]) -> Device:
    kind, value = parse_identifier(body.get("deviceId"))
    device = state.find_device(kind, value)
    if device is None:
        raise not_found(kind, value)
    return device


async def _maybe_time_out(request: web.Request, state: SimState, body: dict[str, Any]) -> None:
    """The documented timeout: the first identical request fails, its re-send is served."""
    cfg = state.config.diagnostics
    if cfg.max_window_days > 0:
        span = _moment(body, "latest") - _moment(body, "earliest")
        if span > timedelta(days=cfg.max_window_days):
            raise m2m_error(
                "REQUEST_FAILED.UnexpectedError", "The request could not be processed in time."
            )
    if not cfg.unexpected_error_once:
        return
    key = request.path + json.dumps(body, sort_keys=True)
    seen = request.app[SEEN_KEY]
    if key in seen:
        return
    seen.add(key)
    if cfg.timeout_delay > 0:
        await asyncio.sleep(cfg.timeout_delay)
    raise m2m_error("REQUEST_FAILED.UnexpectedError", "The request could not be processed in time.")


def _page(
    state: SimState, body: dict[str, Any], records: list[tuple[datetime, dict[str, Any]]]
) -> tuple[list[dict[str, Any]], bool] | None:
    """The window's records, capped; None when ``latest < earliest`` in the lenient mode."""
    earliest, latest = _moment(body, "earliest"), _moment(body, "latest")
    if latest < earliest:
        if state.config.diagnostics.strict_date_range:
            raise m2m_error(
                "INPUT_INVALID.DateRange.Invalid", "latest must not be before earliest."
            )
        return None
    inside = [record for moment, record in records if earliest <= moment <= latest]
    size = state.config.diagnostics.history_page_size
    return inside[:size], len(inside) > size


async def _read(request: web.Request) -> tuple[SimState, dict[str, Any]]:
    state = request.app[STATE_KEY]
    body = await read_json_object(request)
    check_characters(body)
    return state, body


async def connection_history(request: web.Request) -> web.Response:
    """``POST /v1/devices/connections/actions/listHistory`` (§2)."""
    state, body = await _read(request)
    device = _device(state, body)
    await _maybe_time_out(request, state, body)
    page = _page(state, body, connection_records(state, device))
    items, more = page if page is not None else ([], False)
    return web.json_response(
        {"connectionHistory": items, "hasMoreData": more}, status=202 if more else 200
    )


async def provisioning_history(request: web.Request) -> web.Response:
    """``POST /v1/devices/history/actions/list`` (§3): the SDK's array form by default."""
    state, body = await _read(request)
    device = _device(state, body)
    await _maybe_time_out(request, state, body)
    page = _page(state, body, provisioning_records(device))
    items, more = page if page is not None else ([], False)
    answer: dict[str, Any] = {"provisioningHistory": items, "hasMoreData": more}
    status = 202 if more else 200
    if state.config.diagnostics.provisioning_bare_object:
        return web.json_response(answer, status=status)
    return web.json_response([answer], status=status)


async def usage_history(request: web.Request) -> web.Response:
    """``POST /v1/devices/usage/actions/list`` (§4): a device, or a label (no labels here)."""
    state, body = await _read(request)
    if body.get("deviceId") is None:
        if not isinstance(body.get("label"), dict):
            raise m2m_error(
                "INPUT_INVALID.Device.Identifier.Invalid", "Give a deviceId or a label."
            )
        _moment(body, "earliest"), _moment(body, "latest")
        return web.json_response({"hasMoreData": False, "usageHistory": []})
    device = _device(state, body)
    await _maybe_time_out(request, state, body)
    page = _page(state, body, usage_records(state, device))
    items, more = page if page is not None else ([], False)
    return web.json_response(
        {"hasMoreData": more, "usageHistory": items}, status=202 if more else 200
    )


def session_user(request: web.Request) -> str | None:
    """The UWS user whose session made this call (who a provisioning event is ``eventBy``)."""
    state = request.app[STATE_KEY]
    session = state.sessions.get(request.headers.get("VZ-M2M-Token", "").strip())
    return session.username if session is not None else None
