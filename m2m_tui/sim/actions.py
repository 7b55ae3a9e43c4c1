"""The asynchronous M2M calls: activate, deactivate, suspend, restore and suspension status.

Each validates its body synchronously (400 with the documented codes), answers
``{"requestId"}`` at once and leaves the work to a background task, as ThingSpace does
(``thingspace-api.md`` §5, §5.1). With the ``early_callbacks`` fault the work and the first
callback sends happen before the answer, to reproduce the race listeners must handle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from m2m_tui.sim.delivery import DELIVERY_KEY
from m2m_tui.sim.errors import (
    FEATURE_NOT_ENABLED,
    check_characters,
    m2m_error,
    optional_str,
    read_json_object,
)
from m2m_tui.sim.history import session_user
from m2m_tui.sim.inventory import SERVICE_PLANS
from m2m_tui.sim.processing import ActionParams, run_provisioning, run_suspension_status
from m2m_tui.sim.selection import (
    DeviceFilter,
    Target,
    check_account,
    parse_custom_fields,
    parse_filter,
    parse_identifier,
    resolve_identifiers,
)
from m2m_tui.sim.state import STATE_KEY, RequestRecord, SimState

PROVISIONING_ACTIONS = ("activate", "deactivate", "suspend", "restore")
_ZIP = re.compile(r"\d{5}")
_PLACE_KEYS = {
    "addressLine1": "PrimaryPlaceOfUseAddressLine1",
    "city": "PrimaryPlaceOfUseCity",
    "state": "PrimaryPlaceOfUseState",
    "zip": "PrimaryPlaceOfUseZipCode",
    "country": "PrimaryPlaceOfUseCountry",
    "firstName": "PrimaryPlaceOfUseFirstName",
    "lastName": "PrimaryPlaceOfUseLastName",
}


def _too_many(state: SimState, count: int) -> None:
    limit = state.config.max_devices_per_request
    if count > limit:
        raise m2m_error(
            "INPUT_INVALID.MaxRequestsExceeded",
            f"A request can name at most {limit} devices ({count} given).",
        )


def _both_selections() -> Exception:
    return m2m_error(
        "INPUT_INVALID.Request.Invalid",
        "Select devices either by identifier or by filter parameters, not both.",
    )


def _no_devices() -> Exception:
    return m2m_error("INPUT_INVALID.Devices.NotDefined", "No devices were specified.")


def _device_entries(state: SimState, devices: Any) -> list[Target]:
    """``devices: [{"deviceIds": [{id, kind}, ...]}, ...]`` resolved to inventory devices."""
    if not isinstance(devices, list) or not devices:
        raise _no_devices()
    _too_many(state, len(devices))
    targets = []
    for entry in devices:
        ids = entry.get("deviceIds") if isinstance(entry, dict) else None
        targets.append(resolve_identifiers(state, ids))
    return targets


def _filtered(state: SimState, account: str | None, criteria: DeviceFilter) -> list[Target]:
    if account is None:
        raise m2m_error(
            "INPUT_INVALID.Account.NotDefined", "The accountName is required with filters."
        )
    found = [d for d in state.account_devices(account) if criteria.matches(d)]
    _too_many(state, len(found))
    return [Target(d, d.main_ids()) for d in found]


def _place_of_use(body: dict[str, Any]) -> dict[str, str]:
    raw = body.get("primaryPlaceOfUse")
    if not isinstance(raw, dict):
        return {}
    flat: dict[str, Any] = {}
    for part in ("address", "customerName"):
        if isinstance(raw.get(part), dict):
            flat.update(raw[part])
    return {attr: str(flat[key]) for key, attr in _PLACE_KEYS.items() if flat.get(key)}


def _activate_params(body: dict[str, Any], account: str | None) -> ActionParams:
    plan = optional_str(body, "servicePlan")
    if plan is None:
        raise m2m_error("INPUT_INVALID.ServicePlan.NotDefined", "The servicePlan is required.")
    if plan not in SERVICE_PLANS:
        raise m2m_error(
            "REQUEST_FAILED._servicePlan_.NotFound", f"Service plan {plan} was not found."
        )
    zip_code = optional_str(body, "mdnZipCode")
    if zip_code is None:
        raise m2m_error("INPUT_INVALID.MdnZipCode.NotDefined", "The mdnZipCode is required.")
    if not _ZIP.fullmatch(zip_code):
        raise m2m_error("INPUT_INVALID.MdnZipCode.Invalid", "The mdnZipCode must be 5 digits.")
    return ActionParams(
        request_account=account,
        service_plan=plan,
        zip_code=zip_code,
        group=optional_str(body, "groupName"),
        custom_fields=parse_custom_fields(body.get("customFields")),
        place_of_use=_place_of_use(body),
    )


def _record(
    state: SimState, account: str | None, action: str, targets: list[Target], single: bool
) -> RequestRecord:
    effective = account or (targets[0].device.account if targets else None)
    record = RequestRecord(state.new_request_id(), effective, action, single, len(targets))
    state.requests[record.request_id] = record
    return record


async def _held(state: SimState, job: Callable[[float], Coroutine[Any, Any, None]]) -> None:
    """The request's work, after the test's gate opens (when one is set)."""
    if state.processing_gate is not None:
        await state.processing_gate.wait()
    await job(state.config.processing_delay)


async def _run(
    request: web.Request,
    record: RequestRecord,
    job: Callable[[float], Coroutine[Any, Any, None]],
) -> web.Response:
    """Start the work (or finish it first, with early callbacks) and answer the requestId."""
    state = request.app[STATE_KEY]
    if state.config.faults.early_callbacks:
        await job(0.0)
    else:
        state.spawn(_held(state, job), name=f"{record.action} {record.request_id}")
    return web.json_response({"requestId": record.request_id})


async def provisioning(request: web.Request) -> web.Response:
    """``POST /v1/devices/actions/{activate,deactivate,suspend,restore}``."""
    state = request.app[STATE_KEY]
    action = request.match_info["action"]
    body = await read_json_object(request)
    check_characters(body)
    account = check_account(state, body.get("accountName"))
    devices = body.get("devices")
    if action == "activate":
        if not devices:
            raise _no_devices()
        params = _activate_params(body, account)
        targets = _device_entries(state, devices)
    else:
        criteria = parse_filter(body)
        if devices and not criteria.empty:
            raise _both_selections()
        if action == "deactivate" and optional_str(body, "reasonCode") is None:
            raise m2m_error("INPUT_INVALID.ReasonCode.NotDefined", "The reasonCode is required.")
        if devices:
            targets = _device_entries(state, devices)
        elif not criteria.empty:
            targets = _filtered(state, account, criteria)
        else:
            raise _no_devices()
        params = ActionParams(request_account=account, reason_code=optional_str(body, "reasonCode"))
    params.event_by = session_user(request)
    single = isinstance(devices, list) and len(devices) == 1
    record = _record(state, account, action, targets, single)
    deliverer = request.app[DELIVERY_KEY]

    def job(delay: float) -> Coroutine[Any, Any, None]:
        return run_provisioning(state, deliverer, record, targets, params, delay)

    return await _run(request, record, job)


async def suspension_status(request: web.Request) -> web.Response:
    """``POST /v1/devices/suspension/status``: results only by DeviceSuspensionStatus callback."""
    state = request.app[STATE_KEY]
    body = await read_json_object(request)
    check_characters(body)
    account = check_account(state, body.get("accountName"))
    ids = body.get("deviceIds")
    raw_filter = body.get("filter")
    if ids and raw_filter:
        raise _both_selections()
    if account is not None and not _feature_enabled(state, account):
        raise _feature_error(account)
    if ids:
        if not isinstance(ids, list):
            raise _no_devices()
        _too_many(state, len(ids))
        targets = [resolve_identifiers(state, [obj]) for obj in ids]
        for target, obj in zip(targets, ids, strict=True):
            if account is not None and target.device.account != account:
                kind, value = parse_identifier(obj)
                raise m2m_error(
                    "INPUT_INVALID.Device.Account.Invalid",
                    f"Device {kind.value.upper()} {value} does not belong to account {account}.",
                )
    elif isinstance(raw_filter, dict):
        targets = _filtered(state, account, parse_filter(raw_filter))
    else:
        raise _no_devices()
    for name in sorted({t.device.account for t in targets}):
        if not _feature_enabled(state, name):
            raise _feature_error(name)
    record = _record(state, account, "suspension_status", targets, single=False)
    deliverer = request.app[DELIVERY_KEY]

    def job(delay: float) -> Coroutine[Any, Any, None]:
        return run_suspension_status(state, deliverer, record, targets, delay)

    return await _run(request, record, job)


def _feature_enabled(state: SimState, account: str) -> bool:
    spec = state.config.account(account)
    return spec is not None and spec.suspension_status


def _feature_error(account: str) -> Exception:
    return m2m_error(
        FEATURE_NOT_ENABLED,
        f"The device suspension status feature is not enabled for account {account}. "
        "Contact Customer Support or your Verizon Sales Representative to enable it.",
    )
