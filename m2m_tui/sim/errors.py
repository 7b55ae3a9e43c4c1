"""The three error envelopes ThingSpace answers with, and the JSON helpers that raise them.

Handlers raise :class:`SimError`; a middleware turns it into the response, so every error
leaves the simulator in exactly one of the documented shapes (``thingspace-api.md`` §8.1):
M2M ``{"errorCode","errorMessage"}``, WSO2 gateway ``{"fault":{...}}`` and OAuth
``{"error","error_description"}``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

SERVICE = "UnifiedWebService"

# Codes the documentation does not give; chosen to follow the documented naming pattern.
FEATURE_NOT_ENABLED = f"{SERVICE}.REQUEST_FAILED.FeatureNotEnabled"
INVALID_CREDENTIALS = f"{SERVICE}.REQUEST_FAILED.InvalidCredentials"
USER_LOCKED = f"{SERVICE}.REQUEST_FAILED.UserLocked"
DAILY_LIMIT = f"{SERVICE}.REQUEST_FAILED.DeviceActionLimit.Exceeded"
REQUEST_ID_INVALID = f"{SERVICE}.INPUT_INVALID.RequestId.Invalid"
STATUS_NOT_SUPPORTED = f"{SERVICE}.REQUEST_FAILED.RequestStatus.NotSupported"
CALLBACK_NOT_FOUND = f"{SERVICE}.REQUEST_FAILED.CallbackService.NotFound"

GATEWAY_DESCRIPTION_INVALID = "Access failure for API: /m2m/v1, version: v1. Make sure you have given the correct access token"
GATEWAY_DESCRIPTION_MISSING = (
    "Invalid Credentials. Make sure your API invocation call has a header: "
    "'Authorization : Bearer ACCESS_TOKEN'"
)

_FORBIDDEN_CHARACTERS = ("'", "<", "\\")


class SimError(Exception):
    """An error answer: HTTP status, JSON body and extra headers."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(json.dumps(body))
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> web.Response:
        return web.json_response(self.body, status=self.status, headers=self.headers)


def m2m_error(code: str, message: str, status: int = 400) -> SimError:
    """An M2M error; ``code`` may omit the ``UnifiedWebService.`` prefix."""
    full = code if code.startswith(f"{SERVICE}.") else f"{SERVICE}.{code}"
    return SimError(status, {"errorCode": full, "errorMessage": message})


def gateway_fault(
    status: int, code: str, message: str, description: str, headers: dict[str, str] | None = None
) -> SimError:
    """A WSO2 API-gateway fault (bad bearer, throttling, unknown resource)."""
    body = {"fault": {"code": code, "message": message, "description": description}}
    return SimError(status, body, headers)


def oauth_error(status: int, error: str, description: str) -> SimError:
    return SimError(status, {"error": error, "error_description": description})


def account_not_found(name: object) -> SimError:
    return m2m_error(
        "REQUEST_FAILED.AccountNotFound",
        f"Account {name} not found. Check the account name, including its leading zeros.",
    )


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or the documented error for an empty/malformed body."""
    raw = await request.read()
    if not raw.strip():
        raise m2m_error("INPUT_INVALID.RequestUndefined", "The request body is empty.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise m2m_error(
            "INPUT_INVALID.RequestUndefined", "The request body is not valid JSON."
        ) from None
    if not isinstance(body, dict):
        raise m2m_error("INPUT_INVALID.RequestUndefined", "The request body must be a JSON object.")
    return body


def check_characters(value: Any) -> None:
    """Reject ``'``, ``<`` and ``\\`` anywhere in the input, as the M2M services do."""
    if isinstance(value, str):
        if any(ch in value for ch in _FORBIDDEN_CHARACTERS):
            raise m2m_error(
                "INPUT_INVALID.Request.InvalidCharacter",
                "The request contains an invalid character (', < or \\).",
            )
    elif isinstance(value, dict):
        for item in value.values():
            check_characters(item)
    elif isinstance(value, list):
        for item in value:
            check_characters(item)


def optional_str(body: dict[str, Any], key: str) -> str | None:
    """``body[key]`` when it is a non-empty string, None when absent/empty, else an error."""
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise m2m_error("REQUEST_FAILED.UnexpectedError", f"The value of {key} must be a string.")
    return value
