"""The one-line header (profile, account, environment) and status bar (tokens, listener, poller).

Both render plain ``Content`` built from parts: nothing from outside is ever parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Static

if TYPE_CHECKING:
    from m2m_tui.api.tokens import AuthSnapshot


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    total = int(seconds)
    if total >= 3600:
        return f"{total // 3600}h{(total % 3600) // 60:02d}"
    return f"{total // 60:02d}:{total % 60:02d}"


@dataclass
class ListenerState:
    """What the status bar shows about the callback listener."""

    state: str = "off"
    """off, starting, listening, following (a journal ``m2m-tui listen`` writes), failed,
    unavailable."""
    address: str | None = None
    public_url: str | None = None
    accepted: int = 0
    rejected: int = 0
    detail: str | None = None
    problem: str | None = None
    """Following: what is wrong with the journal right now (``journal unreachable``)."""


@dataclass
class HeaderInfo:
    profile: str | None = None
    account: str | None = None
    environment: str | None = None
    read_only: bool = False
    demo: bool = False
    user: str | None = None


def header_content(info: HeaderInfo, width: int) -> Content:
    parts: list[str | tuple[str, str]] = [(" m2m-tui ", "bold reverse")]
    if info.demo:
        parts.append((" DEMO ", "bold $warning-muted on $warning"))
    if info.read_only:
        parts.append((" READ-ONLY ", "bold $error-muted on $error"))
    fields = [
        ("profile", info.profile),
        ("account", info.account),
        ("env", info.environment),
    ]
    if width >= 100 and info.user:
        fields.append(("user", info.user))
    for label, value in fields:
        parts.append(f"  {label} " if width >= 80 else "  ")
        parts.append((value or "-", "bold"))
    return Content.assemble(*parts)


def status_content(
    auth: AuthSnapshot | None,
    listener: ListenerState,
    poller: str,
    now: float,
    width: int,
) -> Content:
    """``session 17:42 bearer 58:10 | cb 127.0.0.1:9001 ok 3 bad 0 | poller idle``."""
    parts: list[str | tuple[str, str]] = []
    if auth is None or not auth.logged_in:
        parts.append(("not logged in", "$text-muted"))
        if auth is not None and auth.login_failures:
            parts.append((f"  {auth.login_failures} failed login(s)", "$warning"))
    else:
        session_left = auth.session_seconds_left(now)
        bearer_left = auth.bearer_seconds_left(now)
        low = session_left is not None and session_left < 120
        parts.append("session ")
        parts.append((_clock(session_left), "bold $warning" if low else "bold"))
        parts.append(" bearer ")
        parts.append((_clock(bearer_left), "bold"))
    if auth is not None and auth.renewing:
        parts.append(("  renewing…", "bold $accent"))
    if auth is not None and auth.guard_tripped:
        parts.append(("  LOGIN GUARD", "bold $error"))
    parts.append(("  │ ", "$text-muted"))
    if listener.state == "listening":
        parts.append("cb ")
        where = listener.address or "?"
        if width >= 100 and listener.public_url:
            where += f" → {listener.public_url}"
        parts.append((where, "bold"))
        parts.append((f" ✓{listener.accepted}", "$success"))
        parts.append((f" ✗{listener.rejected}", "$error" if listener.rejected else "$text-muted"))
    elif listener.state == "following":
        # Another process (``m2m-tui listen``) receives; we read its journal.
        parts.append("cb ")
        parts.append(("following", "bold"))
        if listener.problem:  # before the journal's name, which may be cut at 80 columns
            parts.append((f" {listener.problem}", "bold $error"))
        if listener.detail:
            parts.append((f" {listener.detail}", "$text-muted"))
    else:
        parts.append((f"cb {listener.state}", "$text-muted"))
    parts.append(("  │ ", "$text-muted"))
    parts.append(f"poller {poller}")
    return Content.assemble(*parts)


class AppHeader(Static):
    """One line: app name, demo/read-only badges, profile, account, environment."""

    DEFAULT_CSS = """
    AppHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def on_mount(self) -> None:
        self.update_info()

    def on_resize(self) -> None:
        self.update_info()

    def update_info(self) -> None:
        info = getattr(self.app, "header_info", None)
        if info is not None:
            self.update(header_content(info, self.app.size.width))


class StatusBar(Static):
    """Session countdowns, listener address and counts, poller; repaints once a second."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def on_mount(self) -> None:
        self.refresh_status()
        if getattr(self.app, "live_clock", True):
            self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        app = self.app
        auth_of = getattr(app, "auth_snapshot", None)
        auth = auth_of() if callable(auth_of) else None
        listener = getattr(app, "listener_state", ListenerState())
        poller = getattr(app, "poller_status", "idle")
        clock = getattr(app, "clock", None)
        now = clock() if callable(clock) else 0.0
        self.update(status_content(auth, listener, poller, now, app.size.width))
