"""Both logins of ThingSpace: the OAuth bearer (1 h fixed) and the M2M session (20 min idle).

The client has to juggle two tokens with two clocks and two error shapes (a 401 gateway fault
for the bearer, a 400 ``SessionToken.*`` body for the session), so the simulator reproduces each
rule of ``thingspace-api.md`` §2 exactly, including the lockout after failed logins.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from m2m_tui.sim.errors import (
    GATEWAY_DESCRIPTION_INVALID,
    GATEWAY_DESCRIPTION_MISSING,
    INVALID_CREDENTIALS,
    USER_LOCKED,
    gateway_fault,
    m2m_error,
    oauth_error,
    read_json_object,
)
from m2m_tui.sim.state import STATE_KEY, BearerToken, Session, SimState

M2M_PREFIX = "/api/m2m/"
LOGIN_PATH = "/api/m2m/v1/session/login"
SESSION_HEADER = "VZ-M2M-Token"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _check_client(request: web.Request, state: SimState) -> str:
    """The app key from a valid ``Authorization: Basic`` header, or 401 invalid_client."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    key, sep, secret = decoded.partition(":")
    cfg = state.config
    if (
        scheme.lower() != "basic"
        or not sep
        or not _same(key, cfg.app_key)
        or not _same(secret, cfg.app_secret)
    ):
        raise oauth_error(401, "invalid_client", "Client Authentication failed.")
    return key


async def token(request: web.Request) -> web.Response:
    """``POST /api/ts/v1/oauth2/token``: the same token again while it is still valid."""
    state = request.app[STATE_KEY]
    state.token_requests += 1
    form = await request.post()
    grant = form.get("grant_type")
    if not grant:
        raise oauth_error(400, "invalid_request", "Missing grant_type parameter value")
    if grant != "client_credentials":
        raise oauth_error(400, "unsupported_grant_type", "Unsupported grant_type value")
    app_key = _check_client(request, state)
    now = state.monotonic()
    current = next(
        (t for t in state.tokens.values() if t.app_key == app_key and t.expires_at > now), None
    )
    if current is None:
        current = BearerToken(
            state.new_id().replace("-", ""), app_key, now + state.config.token_ttl
        )
        state.tokens = {k: t for k, t in state.tokens.items() if t.expires_at > now}
        state.tokens[current.token] = current
        state.tokens_issued += 1
    expires_in = max(1, round(current.expires_at - now))
    return web.json_response(
        {
            "access_token": current.token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": "default",
        }
    )


async def revoke(request: web.Request) -> web.Response:
    """``POST /api/ts/v1/oauth2/revoke``: forget the token; echo it in a header, no body."""
    state = request.app[STATE_KEY]
    _check_client(request, state)
    form = await request.post()
    value = form.get("token")
    if not isinstance(value, str) or not value:
        raise oauth_error(400, "invalid_request", "Missing token parameter value")
    state.tokens.pop(value, None)
    return web.Response(status=200, headers={"RevokedAccessToken": value})


async def login(request: web.Request) -> web.Response:
    """``POST /api/m2m/v1/session/login``: a new session GUID, or a counted failure."""
    state = request.app[STATE_KEY]
    cfg = state.config
    body = await read_json_object(request)
    username = body.get("username")
    password = body.get("password")
    if not isinstance(username, str) or not username or not isinstance(password, str):
        raise m2m_error(
            "INPUT_INVALID.Credentials.NotDefined", "Both username and password are required."
        )
    if username in state.locked_users:
        state.login_failures += 1
        raise m2m_error(
            USER_LOCKED,
            f"User {username} is locked after {cfg.lockout_after} failed login attempts. "
            "Contact Verizon support to unlock it.",
        )
    if not (_same(username, cfg.username) and _same(password, cfg.password)):
        state.login_failures += 1
        state.failed_logins[username] += 1
        failures = state.failed_logins[username]
        if failures >= cfg.lockout_after:
            state.locked_users.add(username)
            note = "the user is now locked; contact Verizon support to unlock it."
        else:
            left = cfg.lockout_after - failures
            note = f"{left} attempt(s) left before the user is locked."
        raise m2m_error(
            INVALID_CREDENTIALS,
            f"Invalid username or password. Failed login attempt {failures} of "
            f"{cfg.lockout_after}: {note}",
        )
    state.failed_logins.pop(username, None)
    session = Session(state.new_id(), username, state.monotonic())
    state.sessions[session.token] = session
    state.logins += 1
    return web.json_response({"sessionToken": session.token})


async def logout(request: web.Request) -> web.Response:
    """``POST /api/m2m/v1/session/logout``: echo the token and forget it."""
    state = request.app[STATE_KEY]
    value = request.headers[SESSION_HEADER].strip()
    state.sessions.pop(value, None)
    return web.json_response({"sessionToken": value})


def _check_bearer(request: web.Request, state: SimState) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise gateway_fault(401, "900902", "Missing Credentials", GATEWAY_DESCRIPTION_MISSING)
    found = state.tokens.get(value.strip())
    if found is None or found.expires_at <= state.monotonic():
        raise gateway_fault(401, "900901", "Invalid Credentials", GATEWAY_DESCRIPTION_INVALID)


def _check_session(request: web.Request, state: SimState) -> None:
    value = request.headers.get(SESSION_HEADER, "").strip()
    if not value:
        raise m2m_error(
            "REQUEST_FAILED.SessionToken.Format",
            f"The {SESSION_HEADER} header is missing or malformed.",
        )
    session = state.sessions.get(value)
    if session is None:
        raise m2m_error("INPUT_INVALID.SessionToken.Invalid", "Session token is invalid.")
    now = state.monotonic()
    if now - session.last_used > state.config.session_idle:
        raise m2m_error("REQUEST_FAILED.SessionToken.Expired", "The Session has expired.")
    session.last_used = now


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Gateway bearer check on every matched M2M route, then the session (except login)."""
    matched = request.match_info.http_exception is None
    if matched and request.path.startswith(M2M_PREFIX):
        state = request.app[STATE_KEY]
        _check_bearer(request, state)
        if request.path != LOGIN_PATH:
            _check_session(request, state)
    return await handler(request)
