"""What happens after a request is accepted: real state changes and the callback messages.

Provisioning changes the inventory for good (a suspended line shows ``suspend`` in the next
device lookup), counts against the per-line daily limit, and reports each device in a
CarrierService message; suspension status reports each device, then the completion message,
exactly as SEED1 shows (numbers as strings, ``YYYY-MM-DD HH:MM:SS`` dates).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.sim.delivery import Deliverer
from m2m_tui.sim.errors import DAILY_LIMIT, SERVICE
from m2m_tui.sim.history import record_event
from m2m_tui.sim.inventory import EASTERN, Device
from m2m_tui.sim.selection import Target
from m2m_tui.sim.state import RequestRecord, SimState

CARRIER_SERVICE = "CarrierService"
SUSPENSION_SERVICE = "DeviceSuspensionStatus"
COMPLETED_COMMENT = "Request Completed Processing"


@dataclass
class ActionParams:
    """The parts of a provisioning body that change devices, not which devices."""

    request_account: str | None = None
    service_plan: str | None = None
    zip_code: str | None = None
    group: str | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    reason_code: str | None = None
    place_of_use: dict[str, str] = field(default_factory=dict)
    event_by: str | None = None
    """The UWS user whose session sent the request (provisioning history's ``eventBy``)."""


class ActionFailed(Exception):
    """A per-device failure, reported in a callback's faultResponse."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = f"{SERVICE}.{code}" if not code.startswith(SERVICE) else code
        self.text = text


def _local_date(moment: datetime) -> date:
    return moment.astimezone(EASTERN).date()


def auto_resume_date(device: Device) -> date | None:
    """When a suspended line returns to active by itself (its allowance runs out)."""
    if device.suspend_date is None:
        return None
    allowance = max(0, device.max_suspend_days - device.prior_suspended_days)
    return _local_date(device.suspend_date) + timedelta(days=allowance)


def _end_suspension(device: Device, now: datetime) -> None:
    if device.suspend_date is not None:
        days = (_local_date(now) - _local_date(device.suspend_date)).days
        device.prior_suspended_days += max(0, days)
    device.suspend_date = None


def _state_error(action: str, device: Device) -> ActionFailed:
    return ActionFailed(
        "INPUT_INVALID.DeviceState.Invalid",
        f"INPUT_INVALID. Device state {device.state} is not valid for {action}.",
    )


def apply_action(
    state: SimState, action: str, target: Target, params: ActionParams
) -> dict[str, Any]:
    """Change one device; return its ``<action>Response`` or raise ActionFailed."""
    device = target.device
    now = state.wall_now()
    if params.request_account is not None and device.account != params.request_account:
        raise ActionFailed(
            "INPUT_INVALID.Device.Account.Invalid",
            f"INPUT_INVALID. Device does not belong to account {params.request_account}.",
        )
    today = state.today()
    limit = state.config.daily_action_limit
    if device.daily_actions.get(today, 0) >= limit:
        raise ActionFailed(
            DAILY_LIMIT,
            f"REQUEST_FAILED. The line already had {limit} provisioning actions today; "
            "try again tomorrow.",
        )
    response: dict[str, Any] = {"deviceIds": target.requested}
    if action == "activate":
        if device.state == "active":
            raise ActionFailed(
                "REQUEST_FAILED.DeviceAlreadyActive", "REQUEST_FAILED. Device is already active"
            )
        if device.state not in ("pre-active", "deactive"):
            raise _state_error(action, device)
        _activate(state, device, params, now)
        response = {
            "deviceIds": [{"id": i["id"], "kind": i["kind"].lower()} for i in device.wire_ids()],
            "servicePlan": device.service_plan,
        }
    elif action == "suspend":
        if device.state != "active":
            raise _state_error(action, device)
        device.state = "suspend"
        device.connected = False
        device.suspend_date = now
        device.times_suspended += 1
        resume = auto_resume_date(device)
        response["autoResumeDate"] = resume.isoformat() if resume else ""
    elif action == "restore":
        if device.state != "suspend":
            raise _state_error(action, device)
        _end_suspension(device, now)
        device.state = "active"
    elif action == "deactivate":
        if device.state not in ("active", "suspend"):
            raise _state_error(action, device)
        _end_suspension(device, now)
        device.state = "deactive"
        device.connected = False
        device.ip_address = None
        response["reasonCode"] = params.reason_code or ""
    device.daily_actions[today] = device.daily_actions.get(today, 0) + 1
    return response


def _activate(state: SimState, device: Device, params: ActionParams, now: datetime) -> None:
    ids = state.id_factory
    if DeviceKind.MDN not in device.ids:
        mdn = ids.mdn()
        device.ids = {DeviceKind.MDN: mdn, **device.ids}
        if DeviceKind.ICCID in device.ids:
            device.ids[DeviceKind.MSISDN] = "1" + mdn
        state.index_device(device)
    device.state = "active"
    device.service_plan = params.service_plan or device.service_plan
    device.last_activation_date = now
    device.last_activation_by = "UWS API"
    device.ip_address = device.ip_address or ids.ip()
    device.suspend_date = None
    if params.group and params.group not in device.groups:
        device.groups.append(params.group)
    device.custom_fields.update(params.custom_fields)
    if params.place_of_use:
        device.place_of_use = dict(params.place_of_use)
    elif params.zip_code:
        device.place_of_use.setdefault("PrimaryPlaceOfUseZipCode", params.zip_code)


def _failure(record: RequestRecord, target: Target, error: ActionFailed) -> dict[str, Any]:
    return {
        "requestId": record.request_id,
        "deviceIds": [{"id": i["id"], "kind": i["kind"].capitalize()} for i in target.requested],
        "faultResponse": {"faultcode": error.code, "faultstring": error.text},
        "status": "Failed",
    }


async def run_provisioning(
    state: SimState,
    deliverer: Deliverer,
    record: RequestRecord,
    targets: list[Target],
    params: ActionParams,
    delay: float,
) -> None:
    """Apply ``record.action`` to every target after ``delay``, then send CarrierService."""
    if delay > 0:
        await asyncio.sleep(delay)
    by_account: dict[str, list[dict[str, Any]]] = {}
    ok = True
    for target in targets:
        try:
            inner = apply_action(state, record.action, target, params)
        except ActionFailed as error:
            if error.code == DAILY_LIMIT:
                record_event(
                    target.device, record.action, params.event_by, state.wall_now(), "Failed"
                )
            ok = False
            payload = _failure(record, target, error)
            record.results.append(
                {"deviceId": target.device.device_id, "status": "Failed", "faultcode": error.code}
            )
        else:
            record_event(target.device, record.action, params.event_by, state.wall_now())
            payload = {
                "requestId": record.request_id,
                "deviceIds": target.requested,
                "deviceResponse": {f"{record.action}Response": inner},
                "status": "Success",
            }
            record.results.append({"deviceId": target.device.device_id, "status": "Success"})
        account = params.request_account or target.device.account
        by_account.setdefault(account, []).append(payload)
    record.status = "Success" if ok else "Failed"
    if state.config.carrier_callback_delay > 0:
        # ThingSpace's status flips before its CarrierService callbacks go out.
        await asyncio.sleep(state.config.carrier_callback_delay)
    for account, messages in by_account.items():
        await deliverer.deliver(account, CARRIER_SERVICE, record.request_id, messages)


def suspension_item(state: SimState, target: Target) -> dict[str, Any]:
    """One ``deviceSuspensionStatusResponse`` entry, every number as a string (SEED1)."""
    device = target.device
    today = _local_date(state.wall_now())
    used = device.prior_suspended_days
    suspend_date = expected = ""
    remaining_auto = 0
    resume = auto_resume_date(device)
    if device.state == "suspend" and device.suspend_date is not None and resume is not None:
        used += max(0, (today - _local_date(device.suspend_date)).days)
        suspend_date = device.suspend_date.astimezone(EASTERN).strftime("%Y-%m-%d %H:%M:%S")
        expected = resume.isoformat()
        remaining_auto = max(0, (resume - today).days)
    return {
        "deviceIds": target.requested,
        "state": device.state,
        "suspendDate": suspend_date,
        "expectedResumeDate": expected,
        "daysRemainingAutoResume": str(remaining_auto),
        "maxSuspendDaysAllowed": str(device.max_suspend_days),
        "numDaysSuspendedLast12Months": str(used),
        "numDaysSuspendAllowedCurrent12Months": str(max(0, device.max_suspend_days - used)),
        "timesSuspendedLast12Months": str(device.times_suspended),
    }


async def run_suspension_status(
    state: SimState,
    deliverer: Deliverer,
    record: RequestRecord,
    targets: list[Target],
    delay: float,
) -> None:
    """One DeviceSuspensionStatus message per device, then the completion message."""
    if delay > 0:
        await asyncio.sleep(delay)
    by_account: dict[str, list[dict[str, Any]]] = {}
    for target in targets:
        payload = {
            "requestId": record.request_id,
            "deviceResponse": {"deviceSuspensionStatusResponse": [suspension_item(state, target)]},
        }
        by_account.setdefault(target.device.account, []).append(payload)
        record.results.append({"deviceId": target.device.device_id, "status": "Success"})
    record.status = "Success"
    if not by_account and record.account is not None:
        by_account[record.account] = []
    completion = {
        "requestId": record.request_id,
        "deviceResponse": {},
        "comment": COMPLETED_COMMENT,
    }
    for account, messages in by_account.items():
        await deliverer.deliver(
            account, SUSPENSION_SERVICE, record.request_id, messages, completion
        )
