"""Callback listener registration (``thingspace-api.md`` §4.1): one URL per service per account.

Registering a service again replaces the URL silently, which is exactly how a support tool
can steal a customer's production callbacks; the simulator keeps that behaviour so the app's
"confirm before replacing" path can be exercised.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from m2m_tui.sim.errors import (
    CALLBACK_NOT_FOUND,
    account_not_found,
    m2m_error,
    optional_str,
    read_json_object,
)
from m2m_tui.sim.state import STATE_KEY, Registration, SimState

SERVICE_NAMES = frozenset(
    {
        "CarrierService",
        "DeviceSuspensionStatus",
        "DeviceService",
        "DevicePRLInformation",
        "DeviceProfileService",
        "DeviceUsage",
        "DiagnosticsService",
        "EnhancedConnectivityService",
        "StateService",
        "AlertService",
        "ExternalProvisioningChanges",
        "ResumeTrackingNotification",
        "SubscriptionNotificationService",
        "PromoChanges",
        "DevicePromoUsage",
        "ExtendedEnhancedConnectivityService",
        "IntelligenceService",
        "NetworkEventService",
        "NiddService",
        "PwnService",
        "QoS",
        "SMSDeliveryConfirmation",
        "VIPCallbackService",
    }
)
ALLOWED_PORTS = frozenset([80, 443, *range(9001, 9007), *range(50551, 50560), *range(28200, 28221)])


def _account(request: web.Request, state: SimState) -> str:
    name = request.match_info["accountName"]
    if state.config.account(name) is None:
        raise account_not_found(name)
    return name


async def list_callbacks(request: web.Request) -> web.Response:
    """``GET /v1/callbacks/{accountName}``: a JSON array, passwords in clear like production."""
    state = request.app[STATE_KEY]
    account = _account(request, state)
    found = [r.to_wire() for (acct, _), r in state.registrations.items() if acct == account]
    return web.json_response(found)


async def register_callback(request: web.Request) -> web.Response:
    """``POST /v1/callbacks/{accountName}`` with ``{name, url, username?, password?}``."""
    state = request.app[STATE_KEY]
    account = _account(request, state)
    body = await read_json_object(request)
    name = optional_str(body, "name")
    url = optional_str(body, "url")
    if name is None:
        raise m2m_error("INPUT_INVALID.ServiceName.NotDefined", "The service name is required.")
    if name not in SERVICE_NAMES:
        raise m2m_error("INPUT_INVALID.ServiceName.Invalid", f"Unknown callback service {name}.")
    if url is None:
        raise m2m_error("INPUT_INVALID.Url.NotDefined", "The callback URL is required.")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise m2m_error("INPUT_INVALID.Url.Invalid", f"The callback URL {url} is not valid.")
    if state.config.enforce_callback_ports:
        effective = port or (443 if parts.scheme == "https" else 80)
        if effective not in ALLOWED_PORTS:
            raise m2m_error(
                "INPUT_INVALID.Url.Invalid", f"Port {effective} is not allowed for callbacks."
            )
    state.registrations[(account, name)] = Registration(
        account, name, url, optional_str(body, "username"), optional_str(body, "password")
    )
    return web.json_response({"accountName": account, "serviceName": name})


async def deregister_callback(request: web.Request) -> web.Response:
    """``DELETE /v1/callbacks/{accountName}/name/{serviceName}``."""
    state = request.app[STATE_KEY]
    account = _account(request, state)
    name = request.match_info["serviceName"]
    if state.registrations.pop((account, name), None) is None:
        raise m2m_error(
            CALLBACK_NOT_FOUND, f"No {name} callback is registered for account {account}."
        )
    return web.json_response({"accountName": account, "serviceName": name})
