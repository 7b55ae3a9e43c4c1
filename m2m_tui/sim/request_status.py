"""``GET /v1/accounts/{accountName}/requests/{requestId}/status`` (SEED0).

Only single-device activate/deactivate/suspend/restore requests can be polled; every other
request finishes only by callback, and the simulator says so with an error, so the app's
"poll or wait for the callback" decision gets exercised.
"""

from __future__ import annotations

from aiohttp import web

from m2m_tui.sim.errors import REQUEST_ID_INVALID, STATUS_NOT_SUPPORTED, m2m_error
from m2m_tui.sim.selection import check_account
from m2m_tui.sim.state import STATE_KEY


async def request_status(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    account = check_account(state, request.match_info["accountName"], required=True)
    request_id = request.match_info["requestId"]
    record = state.requests.get(request_id)
    if record is None or record.account != account:
        raise m2m_error(
            REQUEST_ID_INVALID, f"Request {request_id} was not found for account {account}."
        )
    if not record.single_device or record.action == "suspension_status":
        raise m2m_error(
            STATUS_NOT_SUPPORTED,
            "Status is only available for single-device Activate, Deactivate, Suspend and "
            "Resume requests; this request reports its results by callback.",
        )
    return web.json_response({"requestId": record.request_id, "status": record.status})
