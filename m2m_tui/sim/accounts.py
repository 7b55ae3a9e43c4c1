"""Account-level reads of the simulator: plans, account, states and services, device groups
(``thingspace-diagnostics.md`` §5-§7), all drawn from the inventory so they agree with it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from m2m_tui.sim.errors import FEATURE_NOT_ENABLED, m2m_error
from m2m_tui.sim.inventory import SERVICE_PLANS
from m2m_tui.sim.selection import check_account
from m2m_tui.sim.state import STATE_KEY, SimState

#: Allowance (KB) and carrier code of each plan the inventory uses.
PLAN_DETAILS: dict[str, tuple[int, str]] = {
    "M2MPLAN4G": (5120, "84777"),
    "M2MPLAN5G": (1024 * 1024, "84790"),
    "M2M4G1GB": (1024 * 1024, "84781"),
    "M2MLTEBASIC": (250, "84702"),
    "M2MPLAN3G": (0, "74644"),
}


def plan_list() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for code, name in SERVICE_PLANS.items():
        size, carrier = PLAN_DETAILS.get(code, (0, "00000"))
        out.append(
            {
                "name": name,
                "code": code,
                "sizeKb": size,
                "carrierServicePlanCode": carrier,
                "extendedAttributes": [],
            }
        )
    return out


def _account(request: web.Request) -> tuple[SimState, str]:
    state = request.app[STATE_KEY]
    name = check_account(state, request.match_info["accountName"], required=True)
    assert name is not None
    return state, name


async def service_plans(request: web.Request) -> web.Response:
    """``GET /v1/plans/{accountName}``: the array form (§5)."""
    _account(request)
    return web.json_response(plan_list())


async def account_info(request: web.Request) -> web.Response:
    """``GET /v1/accounts/{accountName}`` (§6.1); the pools key is a switch."""
    state, name = _account(request)
    spec = state.config.account(name)
    org = spec.organization if spec is not None else "Demo Organization"
    prefix = "".join(ch for ch in org.upper() if ch.isalpha())[:8] or "ACCT"
    pools = [
        {"poolName": f"{prefix}STATIC001", "poolType": "Static IP", "isDefaultPool": True},
        {"poolName": f"{prefix}DYNAMIC001", "poolType": "Dynamic IP", "isDefaultPool": False},
    ]
    body = {
        "accountName": name,
        "accountNumber": name,
        "organizationName": org,
        "isProvisioningAllowed": True,
        "carriers": ["Verizon Wireless"],
        "features": ["Static IP", "Dynamic IP", "Customer PN"],
        state.config.diagnostics.pools_key: pools,
        "servicePlans": plan_list(),
    }
    return web.json_response(body)


async def states_and_services(request: web.Request) -> web.Response:
    """Both paths (§6.2); an account without the feature gets a 400."""
    state, name = _account(request)
    if name != state.config.primary_account:
        raise m2m_error(
            FEATURE_NOT_ENABLED, f"Custom states and services are not enabled for account {name}."
        )
    return web.json_response(
        {
            "engagement": [
                {
                    "engagementId": "1234",
                    "chargingGroup": "Engagement1234",
                    "services": [
                        {
                            "name": "Svc1",
                            "description": "Usage Segmentation - Main Line.",
                            "states": [
                                {
                                    "name": "Svc1 Activate",
                                    "workflowSequenceNumber": 1,
                                    "servicePlans": ["4523aef7250f67205fd5"],
                                },
                                {
                                    "name": "Svc1 No Telematics",
                                    "workflowSequenceNumber": 3,
                                    "servicePlans": ["4d4090c0f2d48814c94d"],
                                },
                            ],
                        }
                    ],
                }
            ]
        }
    )


def _groups(state: SimState, account: str) -> list[str]:
    seen: dict[str, None] = {}
    for device in state.account_devices(account):
        for group in device.groups:
            seen.setdefault(group, None)
    return list(seen)


async def device_groups(request: web.Request) -> web.Response:
    """``GET /v1/groups/{accountName}``: every group the account's devices name (§7.1)."""
    state, name = _account(request)
    default = f"Default: {name}"
    out: list[dict[str, Any]] = []
    for group in sorted(_groups(state, name), key=lambda g: (g != default, g)):
        out.append(
            {
                "name": group,
                "description": (
                    "All devices that are not in another device group." if group == default else ""
                ),
                "isDefaultGroup": group == default,
                "extendedAttributes": [],
            }
        )
    return web.json_response(out)


async def group_detail(request: web.Request) -> web.Response:
    """``GET /v1/groups/{accountName}/name/{groupName}?next=n``, paged by DeviceId (§7.2)."""
    state, name = _account(request)
    group = request.match_info["groupName"]
    if group not in _groups(state, name):
        raise m2m_error("REQUEST_FAILED.DeviceGroupNotFound", f"Device group {group} not found.")
    raw_next = request.query.get("next", "0") or "0"
    if not raw_next.isdigit():
        raise m2m_error("INPUT_INVALID.Next.Invalid", "next must be a device number.")
    after = int(raw_next)
    members = [d for d in state.account_devices(name) if group in d.groups and d.device_id > after]
    size = state.config.diagnostics.group_page_size
    page, more = members[:size], len(members) > size
    body = {
        "name": group,
        "description": "",
        "hasMoreData": more,
        "devices": [{"deviceIds": [dict(i) for i in d.main_ids()]} for d in page],
    }
    headers = {}
    if more:
        base = f"/api/m2m/v1/groups/{quote(name, safe='')}/name/{quote(group, safe='')}"
        headers["Location"] = f"{base}/?next={page[-1].device_id}"
    return web.json_response(body, status=202 if more else 200, headers=headers)
