"""What the client needs to log in, kept as secrets so they never print."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr


@dataclass(frozen=True)
class Credentials:
    """The app's OAuth key pair and the UWS API user (not the portal login)."""

    app_key: str
    app_secret: SecretStr = field(repr=False)
    username: str
    password: SecretStr = field(repr=False)

    @classmethod
    def of(cls, app_key: str, app_secret: str, username: str, password: str) -> Credentials:
        return cls(app_key, SecretStr(app_secret), username, SecretStr(password))


#: "page": one page of a device list; "small": every other call.
CallKind = Literal["small", "page"]


@dataclass(frozen=True)
class CallLimits:
    """How long one call may take in total, and how many answer bytes it may read."""

    deadline: float
    max_bytes: int


@dataclass(frozen=True)
class ClientSettings:
    """Where ThingSpace is and how patient to be with it."""

    #: Scheme and host, e.g. ``https://thingspace.verizon.com``; paths are appended.
    base_url: str = "https://thingspace.verizon.com"
    oauth_path: str = "/api/ts/v1/oauth2"
    m2m_path: str = "/api/m2m/v1"
    timeout: float = 30.0
    connect_timeout: float = 10.0
    #: Renew the bearer this many seconds before ThingSpace says it expires.
    bearer_margin: float = 120.0
    #: Log in again before a call when the session has been idle this long (ThingSpace: 20 min).
    session_idle_renew: float = 18 * 60.0
    #: Consecutive rejected logins after which the client refuses to try until told to.
    login_guard: int = 2
    #: Total seconds one call may take, retries and back-off included: ``timeout`` bounds each
    #: read, so without this a server trickling a byte at a time could hold a call for ever.
    call_deadline: float = 60.0
    #: The same for one page of the device list (up to 2000 devices).
    page_deadline: float = 180.0
    #: Largest answer accepted, decompressed: tokens, status, actions, callback lists.
    max_answer_bytes: int = 1 << 20
    #: Largest device-list page accepted (2000 listed devices come to about 2 MB).
    max_page_bytes: int = 16 << 20
    verify_tls: bool = True
    max_connections: int = 20
    user_agent: str = "m2m-tui"

    def limits(self, kind: CallKind = "small") -> CallLimits:
        """Deadline and size cap for a call kind: a device page may be big, the rest are small.

        The deadline is never shorter than one attempt's connect and read timeouts, so a
        profile that raises ``timeout`` for a slow link is not cut short by the default.
        """
        floor = self.timeout + self.connect_timeout
        if kind == "page":
            return CallLimits(max(self.page_deadline, floor), self.max_page_bytes)
        return CallLimits(max(self.call_deadline, floor), self.max_answer_bytes)

    def oauth_url(self, name: str) -> str:
        return self.base_url.rstrip("/") + self.oauth_path + "/" + name

    def m2m_url(self, path: str) -> str:
        return self.base_url.rstrip("/") + self.m2m_path + path
