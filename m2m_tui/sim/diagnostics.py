"""Routes of the diagnostics reads, registered on the simulator app in one call."""

from __future__ import annotations

from aiohttp import web

from m2m_tui.sim import accounts, history


def register(app: web.Application, m2m: str) -> None:
    """Add the history, plan, account and group reads under the ``m2m`` prefix."""
    app[history.SEEN_KEY] = set()
    app.router.add_post(
        f"{m2m}/devices/connections/actions/listHistory", history.connection_history
    )
    app.router.add_post(f"{m2m}/devices/history/actions/list", history.provisioning_history)
    app.router.add_post(f"{m2m}/devices/usage/actions/list", history.usage_history)
    app.router.add_get(f"{m2m}/plans/{{accountName}}", accounts.service_plans)
    app.router.add_get(f"{m2m}/accounts/{{accountName}}", accounts.account_info)
    for path in ("statesandservices", "stateandservices"):
        app.router.add_get(f"{m2m}/accounts/{{accountName}}/{path}", accounts.states_and_services)
    app.router.add_get(f"{m2m}/groups/{{accountName}}", accounts.device_groups)
    app.router.add_get(f"{m2m}/groups/{{accountName}}/name/{{groupName}}", accounts.group_detail)
    app.router.add_get(f"{m2m}/groups/{{accountName}}/name/{{groupName}}/", accounts.group_detail)
