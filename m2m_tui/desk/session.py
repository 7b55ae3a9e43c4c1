"""The session: which profile, which client, logged in or not, read-only, and the login guard.

ThingSpace locks a UWS user after five failed logins, and only Verizon support unlocks it.
The app must never be what locks a user, so failed logins are counted per base URL and user
in a small file of the app's data dir (:class:`LoginGuard`), kept across restarts with their
times: two rejected passwords, quit, restart, and the third attempt still needs an explicit
confirmation that says how many have failed and how many ThingSpace allows. A successful
login clears the count. No secret is ever written to that file.

Plain async Python (no Textual): the login screen shows these steps and asks the question;
``tests/desk/test_session.py`` runs them headless against the simulator.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from m2m_tui.desk.settings_files import write_private
from m2m_tui.desk.times import Times
from m2m_tui.locate import data_dir

if TYPE_CHECKING:
    from m2m_tui.api.client import ThingSpaceClient
    from m2m_tui.api.retry import RetryPolicy
    from m2m_tui.api.tokens import AuthSnapshot
    from m2m_tui.desk.settings import Profile

GUARD_FILE = "login-guard.json"
#: Failed logins after which ThingSpace locks the UWS user (``api.errors.LOCKOUT_LIMIT``;
#: repeated here because importing the API layer costs the first frame ~0.2 s).
LOCKOUT_LIMIT = 5
#: Failed logins after which every further attempt needs the user's explicit confirmation.
CONFIRM_AFTER = 2


def guard_path(folder: Path | None = None) -> Path:
    """The login guard's file: in the app's data dir (``M2M_TUI_DATA_DIR`` wins)."""
    return (folder or data_dir()) / GUARD_FILE


class LoginGuard:
    """Failed logins per (base URL, UWS user), with their times, in a 0600 JSON file.

    Read on every question so two app instances on one host see each other's failures.
    Unreadable or broken files count as empty (the guard must never stop a login by itself
    being broken) and are rewritten on the next change.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unsaved: dict[str, list[float]] | None = None
        """Counts kept in memory when the file cannot be written (e.g. a read-only home)."""

    @staticmethod
    def key(base_url: str, username: str) -> str:
        return f"{base_url.rstrip('/')} {username.strip()}"

    def _load(self) -> dict[str, list[float]]:
        if self.unsaved is not None:
            return {k: list(v) for k, v in self.unsaved.items()}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries = raw.get("failures") if isinstance(raw, dict) else None
        if not isinstance(entries, dict):
            return {}
        return {
            str(key): [float(t) for t in times if isinstance(t, int | float)]
            for key, times in entries.items()
            if isinstance(times, list)
        }

    def _save(self, entries: dict[str, list[float]]) -> None:
        body = {"version": 1, "failures": {k: v for k, v in entries.items() if v}}
        try:
            write_private(self.path, json.dumps(body, indent=1).encode(), 0o600)
        except OSError:
            self.unsaved = entries  # still guards this run; never blocks a login
        else:
            self.unsaved = None

    def failures(self, base_url: str, username: str) -> list[float]:
        """Times (epoch seconds) of the failed logins since the last success."""
        return self._load().get(self.key(base_url, username), [])

    def record_failure(self, base_url: str, username: str, when: float) -> int:
        entries = self._load()
        times = entries.setdefault(self.key(base_url, username), [])
        times.append(when)
        self._save(entries)
        return len(times)

    def clear(self, base_url: str, username: str) -> None:
        entries = self._load()
        if entries.pop(self.key(base_url, username), None) is not None:
            self._save(entries)


class ConfirmationNeeded(Exception):
    """A login past the second failure: the user must say yes to exactly one more attempt."""

    def __init__(
        self, base_url: str, username: str, failures: list[float], times: Times | None = None
    ) -> None:
        self.base_url = base_url
        self.times = times or Times()
        """How the last failure's time is written (zone labelled, as on every screen)."""
        self.username = username
        self.failures = len(failures)
        self.last_failed_at = max(failures) if failures else None
        super().__init__(self.title)

    @property
    def title(self) -> str:
        return "Try to log in again?"

    @property
    def lines(self) -> list[str]:
        """What the confirmation says: how many failed, how many ThingSpace allows."""
        last = ""
        if self.last_failed_at is not None:
            last = f" (last at {self.times.minute(self.last_failed_at)})"
        left = max(0, LOCKOUT_LIMIT - self.failures)
        return [
            f"{self.failures} login(s) for {self.username} at {self.base_url} have failed{last}.",
            f"ThingSpace locks the user after {LOCKOUT_LIMIT} failed attempts "
            f"({left} left); only Verizon support can unlock it.",
            "Check the username and password first. Confirm to make ONE more attempt.",
        ]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class PasswordAlreadyRejected(ValueError):
    """The same password ThingSpace rejected for this user is submitted again: refused before
    any request, since each rejection counts towards the lock-out."""

    def __init__(self, username: str) -> None:
        super().__init__(
            f"ThingSpace already rejected this password for {username}: change the password "
            "(or the user) first; a resubmitted password counts towards the lock-out"
        )


@dataclass
class LoginStep:
    """A step of the login for a screen to show: token, then session."""

    index: int
    state: str  # running, ok, failed
    detail: str = ""


StepHandler = Callable[[LoginStep], None]
NoticeHandler = Callable[[str], None]


class Session:
    """One engineer's session: the chosen profile, its client, and whether they may change
    anything. Failed logins go through :class:`LoginGuard` (persisted)."""

    def __init__(
        self,
        *,
        guard: LoginGuard | None = None,
        read_only: bool = False,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        on_notice: NoticeHandler | None = None,
    ) -> None:
        self.guard = guard or LoginGuard(guard_path())
        self.read_only_flag = read_only
        """``--read-only`` on the command line: read-only whatever the profile says."""
        self.retry = retry
        self.clock = clock
        self.on_notice = on_notice
        """Called when the client renewed a token by itself (a front end shows it briefly)."""
        self.profile_name: str | None = None
        """The profile chosen (logged in, or being filled in on the login screen)."""
        self.profile: Profile | None = None
        """The profile logged in with (None before the first successful login)."""
        self.client: ThingSpaceClient | None = None
        self.times = Times()
        """How times are written in this session's texts (the front end sets the zone)."""
        self._salt = os.urandom(16)  # what secrets.token_bytes is, without its import
        self._rejected: dict[str, bytes] = {}
        """Per (base URL, user): a salted digest of the password rejected last (memory only)."""
        self._retired: ThingSpaceClient | None = None

    # ------------------------------------------------------------------ state

    @property
    def logged_in(self) -> bool:
        return self.client is not None and self.client.auth_snapshot().logged_in

    @property
    def read_only(self) -> bool:
        return self.read_only_flag or bool(self.profile and self.profile.read_only)

    def read_only_for(self, profile: Profile | None) -> bool:
        """Whether ``profile`` (e.g. the one picked, not yet logged in) would be read-only."""
        return self.read_only_flag or bool(profile and profile.read_only)

    @property
    def account(self) -> str | None:
        return self.profile.account if self.profile else None

    def auth_snapshot(self) -> AuthSnapshot | None:
        return self.client.auth_snapshot() if self.client is not None else None

    def failed_logins(self, profile: Profile) -> int:
        return len(self.guard.failures(profile.base_url, profile.username or ""))

    def check_guard(self, profile: Profile, *, confirmed: bool = False) -> None:
        """Raise :class:`ConfirmationNeeded` when this attempt needs the user's yes."""
        failures = self.guard.failures(profile.base_url, profile.username or "")
        if len(failures) >= CONFIRM_AFTER and not confirmed:
            raise ConfirmationNeeded(profile.base_url, profile.username or "", failures, self.times)

    def _digest(self, profile: Profile) -> bytes:
        password = profile.password.get_secret_value() if profile.password else ""
        import hashlib  # (at first use: not before the first frame)

        return hashlib.sha256(self._salt + password.encode()).digest()

    def check_not_rejected(self, profile: Profile) -> None:
        """Raise :class:`PasswordAlreadyRejected` for the password last rejected for this user."""
        key = LoginGuard.key(profile.base_url, profile.username or "")
        if self._rejected.get(key) == self._digest(profile):
            raise PasswordAlreadyRejected(profile.username or "")

    # ------------------------------------------------------------------ login

    def client_for(self, profile: Profile) -> ThingSpaceClient:
        """The client for ``profile``: the current one when host and user are the same."""
        from m2m_tui.api.client import ThingSpaceClient
        from m2m_tui.api.credentials import ClientSettings, Credentials

        credentials = Credentials.of(
            profile.app_key or "",
            profile.app_secret.get_secret_value() if profile.app_secret else "",
            profile.username or "",
            profile.password.get_secret_value() if profile.password else "",
        )
        current = self.client
        if (
            current is not None
            and current.settings.base_url == profile.base_url
            and current.username == profile.username
        ):
            current.set_credentials(credentials)
            return current
        settings = ClientSettings(
            base_url=profile.base_url, timeout=profile.timeout, verify_tls=profile.verify_tls
        )
        client = ThingSpaceClient(
            credentials, settings, retry=self.retry, on_notice=self._notice, clock=self.clock
        )
        self._retired = current
        self.client = client
        return client

    def _notice(self, text: str) -> None:
        if self.on_notice is not None:
            self.on_notice(text)

    async def login(
        self,
        name: str,
        profile: Profile,
        *,
        confirmed: bool = False,
        on_step: StepHandler | None = None,
    ) -> None:
        """Token, then session. Raises :class:`ConfirmationNeeded` before any request when
        the guard asks for a yes, and the client's typed errors otherwise; a rejected password
        is counted (persisted) and never retried."""
        from m2m_tui.api.errors import LoginRejected

        step = on_step or (lambda _step: None)
        self.check_not_rejected(profile)
        self.check_guard(profile, confirmed=confirmed)
        self.profile_name = name
        client = self.client_for(profile)
        await self._close_retired()
        step(LoginStep(0, "running", f"asking {profile.base_url} for a bearer token…"))
        started = time.monotonic()
        await client.fetch_token()
        step(LoginStep(0, "ok", f"{time.monotonic() - started:.1f}s"))
        step(LoginStep(1, "running", f"logging in as {profile.username}…"))
        started = time.monotonic()
        if confirmed:
            client.allow_login_attempt()  # the client's own in-memory guard agrees
        base, user = profile.base_url, profile.username or ""
        try:
            await client.login()
        except LoginRejected as exc:
            self._rejected[LoginGuard.key(base, user)] = self._digest(profile)
            count = self.guard.record_failure(base, user, self.clock())
            exc.attempt = count
            locked = "lock" in (exc.code or "").lower()
            if not locked:
                exc.hint = (  # counted across restarts, unlike the client's own count
                    f"UWS username or password rejected (attempt {count}; "
                    f"{LOCKOUT_LIMIT} failed attempts lock this user)"
                )
            raise
        self.guard.clear(base, user)
        self._rejected.pop(LoginGuard.key(base, user), None)
        self.profile = profile
        step(LoginStep(1, "ok", f"{time.monotonic() - started:.1f}s"))

    async def _close_retired(self) -> None:
        retired, self._retired = self._retired, None
        if retired is not None:
            with contextlib.suppress(Exception):
                await retired.aclose()

    async def logout(self) -> None:
        """End the VZ-M2M session (best effort: an expired one counts as logged out)."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.logout()

    async def aclose(self) -> None:
        client, self.client = self.client, None
        await self._close_retired()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
