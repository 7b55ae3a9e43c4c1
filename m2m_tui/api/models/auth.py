"""OAuth token and VZ-M2M session bodies (``thingspace-api.md`` §2)."""

from __future__ import annotations

from pydantic import Field

from m2m_tui.api.models.base import InboundModel, OutboundModel, Secret


class OAuthToken(InboundModel):
    """``POST /api/ts/v1/oauth2/token`` answer. The same token comes back within its hour."""

    access_token: Secret
    token_type: str = "Bearer"
    expires_in: int = Field(default=3600, ge=0)
    scope: str | None = None
    refresh_token: Secret | None = None


class LoginRequest(OutboundModel):
    """``POST /v1/session/login``: the UWS API user, not the portal login."""

    username: str = Field(min_length=1)
    password: Secret


class SessionTokenResponse(InboundModel):
    """Login and logout both answer ``{"sessionToken": "<guid>"}``."""

    sessionToken: Secret


LoginResponse = SessionTokenResponse
LogoutResponse = SessionTokenResponse
