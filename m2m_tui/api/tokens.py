"""The two tokens every M2M call needs, their clocks, and the guard on failed logins.

The bearer lives an hour from first issue; the session expires after 20 idle minutes and comes
back as HTTP 400 ``SessionToken.Expired`` rather than 401 (``thingspace-api.md`` §2, §9).
This module only keeps state; the client decides when to renew.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pydantic import SecretStr


@dataclass(frozen=True)
class AuthSnapshot:
    """What a status bar shows about the two tokens; no secret in it."""

    bearer_expires_at: float | None
    session_last_used_at: float | None
    session_idle_limit: float
    logged_in: bool
    renewing: bool
    login_failures: int
    guard_tripped: bool

    def bearer_seconds_left(self, now: float | None = None) -> float | None:
        if self.bearer_expires_at is None:
            return None
        return max(0.0, self.bearer_expires_at - (now if now is not None else time.time()))

    def session_seconds_left(self, now: float | None = None) -> float | None:
        if self.session_last_used_at is None or not self.logged_in:
            return None
        idle = (now if now is not None else time.time()) - self.session_last_used_at
        return max(0.0, self.session_idle_limit - idle)


@dataclass
class TokenState:
    """Mutable token state; wall-clock times so a status bar can show countdowns."""

    bearer: SecretStr | None = field(default=None, repr=False)
    bearer_expires_at: float = 0.0
    session: SecretStr | None = field(default=None, repr=False)
    session_used_at: float = 0.0
    login_failures: int = 0
    guard_overridden: bool = False
    renewing: int = 0

    def bearer_fresh(self, margin: float, now: float) -> bool:
        return self.bearer is not None and now < self.bearer_expires_at - margin

    def session_fresh(self, idle_renew: float, now: float) -> bool:
        return self.session is not None and now - self.session_used_at < idle_renew

    def set_bearer(self, token: SecretStr, expires_in: float, now: float) -> None:
        self.bearer = token
        self.bearer_expires_at = now + expires_in

    def set_session(self, token: SecretStr, now: float) -> None:
        self.session = token
        self.session_used_at = now
        self.login_failures = 0
        self.guard_overridden = False

    def touch_session(self, now: float) -> None:
        self.session_used_at = now

    def drop_session(self) -> None:
        self.session = None

    def drop_bearer(self) -> None:
        self.bearer = None
        self.bearer_expires_at = 0.0

    def snapshot(self, idle_limit: float, guard: int) -> AuthSnapshot:
        return AuthSnapshot(
            bearer_expires_at=self.bearer_expires_at if self.bearer is not None else None,
            session_last_used_at=self.session_used_at if self.session is not None else None,
            session_idle_limit=idle_limit,
            logged_in=self.session is not None,
            renewing=self.renewing > 0,
            login_failures=self.login_failures,
            guard_tripped=self.login_failures >= guard and not self.guard_overridden,
        )


def same_secret(a: SecretStr | None, b: SecretStr | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.get_secret_value() == b.get_secret_value()
