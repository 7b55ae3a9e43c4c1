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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class HeaderInfo:
    """What the header shows: which profile, account and environment, and the badges."""

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


def painted(content: Content) -> tuple[object, ...]:
    """What a repaint would change: the text and its styles (``Content ==`` sees text only)."""
    return (content.plain, *content.spans)


class AppHeader(Static):
    """One line: app name, demo/read-only badges, profile, account, environment.

    It follows the app's ``header_info`` reactive (watched, never pushed to by a screen)."""

    DEFAULT_CSS = """
    AppHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.info = HeaderInfo()
        self._shown: tuple[object, ...] | None = None

    def on_mount(self) -> None:
        self.watch(self.app, "header_info", self._follow, init=True)

    def _follow(self, info: HeaderInfo | None) -> None:
        self.info = info or HeaderInfo()
        self._paint()

    def on_resize(self) -> None:
        self._paint()

    def _paint(self) -> None:
        content = header_content(self.info, self.app.size.width)
        key = painted(content)
        if key != self._shown:  # an unchanged header is not repainted
            self._shown = key
            self.update(content)


class StatusBar(Static):
    """Session countdowns, listener address and counts, poller.

    It follows the app's ``auth``, ``listener_state``, ``poller_status`` and ``now`` reactives
    and repaints only when the text it shows changes (the clock ticks once a second for the
    whole app, not once per bar)."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.auth: AuthSnapshot | None = None
        self.listener = ListenerState()
        self.poller = "idle"
        self.now = 0.0
        self._shown: tuple[object, ...] | None = None

    def on_mount(self) -> None:
        app = self.app
        self.watch(app, "auth", self._follow_auth)
        self.watch(app, "listener_state", self._follow_listener)
        self.watch(app, "poller_status", self._follow_poller)
        self.watch(app, "now", self._follow_now)

    def _follow_auth(self, auth: AuthSnapshot | None) -> None:
        self.auth = auth
        self._paint()

    def _follow_listener(self, listener: ListenerState | None) -> None:
        self.listener = listener or ListenerState()
        self._paint()

    def _follow_poller(self, poller: str | None) -> None:
        self.poller = poller or "idle"
        self._paint()

    def _follow_now(self, now: float | None) -> None:
        self.now = now or 0.0
        self._paint()

    def on_resize(self) -> None:
        self._paint()

    def _paint(self) -> None:
        content = status_content(
            self.auth, self.listener, self.poller, self.now, self.app.size.width
        )
        key = painted(content)
        if key != self._shown:  # a tick that changes no digit (nor style) repaints nothing
            self._shown = key
            self.update(content)
