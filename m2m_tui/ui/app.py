"""The App: themes, bindings, command palette, screens, the one worker-error handler.

Screens do the work with the :class:`~m2m_tui.ui.services.Services` the app builds once and
hands to each of them; the app keeps the state the bars follow (reactives), starts tracking
through :class:`~m2m_tui.ui.app_tracking.AppTracking`, and turns every failure into a toast or
a dialog, never a crash.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker

from m2m_tui.desk.queries import JournalQueries, RecentDevices
from m2m_tui.desk.requests import RequestDesk
from m2m_tui.desk.session import LoginGuard, Session, guard_path
from m2m_tui.desk.settings_files import SettingsFiles
from m2m_tui.desk.settings_state import SettingsState
from m2m_tui.ui.app_requests import RequestNotices
from m2m_tui.ui.app_tracking import AppTracking
from m2m_tui.ui.messages import SessionChanged
from m2m_tui.ui.notice_hold import NoticeApp
from m2m_tui.ui.services import Services
from m2m_tui.ui.themes import (
    DEFAULT_THEME,
    app_variable_defaults,
    checked_theme,
    fallback_theme,
    load_themes,
)
from m2m_tui.ui.tracking_link import FLUSH_INTERVAL
from m2m_tui.ui.widgets.bars import HeaderInfo, ListenerState

if TYPE_CHECKING:
    from m2m_tui.api.client import ThingSpaceClient
    from m2m_tui.api.tokens import AuthSnapshot
    from m2m_tui.desk.actions import SubmittedRequest
    from m2m_tui.desk.demo import DemoServices, DemoSetup
    from m2m_tui.desk.settings import LoadedSettings, Profile
    from m2m_tui.desk.times import Times
    from m2m_tui.desk.tracking import DeskTracking

VALIDATE_AFTER = 0.3
#: A copied text up to this long is echoed whole in the toast; a longer one is summarised.
ECHO_LIMIT = 80


def copied_preview(text: str) -> str:
    """What the "copied" toast shows of ``text``: all of a short line (an id), else its size
    and how it starts (a walk saw a whole Markdown ticket as a toast taller than the screen)."""
    lines = text.strip().splitlines()
    if len(lines) <= 1 and len(text) <= ECHO_LIMIT:
        return text
    start = lines[0][:50] + ("…" if len(lines[0]) > 50 else "") if lines else ""
    return f"{len(text):,} characters, {len(lines)} lines, starting {start!r}"


BARS_TICK = 1.0
"""Seconds between two readings of the bars' state (the countdowns move once a second)."""


@dataclass
class AppOptions:
    """Everything the command line (or a test) decides before the app starts."""

    loaded: LoadedSettings | SettingsFiles
    """Validated settings, or the files read for the first frame (validated after it)."""
    profile: str | None = None
    read_only: bool = False
    demo: DemoSetup | None = None
    journal: str | Path | None = None
    """A journal file, or a team's ``postgresql://`` URL (``--journal``)."""
    follow: bool = False
    """Follow ``journal`` as written by a separate ``m2m-tui listen`` instead of listening."""
    clock: Callable[[], float] | None = None
    """A fixed clock for snapshots (the status bar's countdowns then never move)."""
    watchdog: bool = True
    user_themes: Path | None = None
    builtin_themes: list[Path] | None = None
    persist_settings: bool = True
    extra_problems: list[str] = field(default_factory=list)
    retry: Any = None
    """A RetryPolicy for the client (tests use a fast one)."""
    data_dir: Path | None = None
    """The login guard's folder (default: the app's data dir)."""


class M2MApp(NoticeApp):
    CSS_PATH = "app.tcss"
    TITLE = "m2m-tui"
    BINDINGS = [
        *NoticeApp.NOTICE_BINDINGS,
        Binding("question_mark", "help", "more", key_display="?", tooltip="Every key (also f1)"),
        Binding("f1", "help", "Help", priority=True, show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        # Priority: a Tab in a burst of typed keys moves the focus before the next key is read
        # (ui/focus.py; Textual's own Tab binding is on the screen, handled too late).
        Binding("tab", "focus_next", show=False, priority=True),
        Binding("shift+tab", "focus_previous", show=False, priority=True),
    ]

    # What the header and status bar show: set here, followed by the bars (never pushed).
    header_info: var[HeaderInfo] = var(HeaderInfo)
    auth: var[AuthSnapshot | None] = var(None)
    listener_state: var[ListenerState] = var(ListenerState)
    poller_status: var[str] = var("idle")
    now: var[float] = var(0.0)
    """The bars' clock: a live clock moves it once a second; a fixed one never."""

    def __init__(self, options: AppOptions) -> None:
        super().__init__()
        self.options = options
        self.settings = SettingsState(options.loaded)
        self.demo_services: DemoServices | None = None
        if options.demo:
            from m2m_tui.desk.demo import DemoServices

            self.demo_services = DemoServices(options.demo)
        clock: Callable[[], float] = options.clock or time.time
        self.session = Session(
            guard=LoginGuard(guard_path(options.data_dir)),
            read_only=options.read_only,
            retry=options.retry,
            clock=clock,
            on_notice=self.client_notice,
        )
        self.session.profile_name = options.profile
        journal = options.journal
        if journal is None and self.demo_services is not None:
            journal = self.demo_services.journal_path
        if journal is None:
            from m2m_tui.locate import journal_path

            journal = journal_path()
        self.journal_path: str | Path = journal
        self.queries = JournalQueries(journal)
        self.recent = RecentDevices(journal, create=not options.follow)
        self.desk = RequestDesk(
            journal, read_only=options.read_only, clock=clock, recent=self.recent
        )
        self.notices = RequestNotices(self, self.desk)
        #: What every screen is given: the desk objects, never the app itself.
        self.services = Services(
            session=self.session,
            desk=self.desk,
            queries=self.queries,
            recent=self.recent,
            settings=self.settings,
            notices=self.notices,
            clock=clock,
            journal_path=journal,
            demo_services=self.demo_services,
        )
        self.config_ready = self.services.config_ready
        self.tracking_link = AppTracking(self)
        if not os.environ.get("TEXTUAL_ANIMATIONS") and not self.settings.animations:
            self.animation_level = "none"
        self.settings_theme: str | None = None
        """A theme applied from the settings (not the user's choice: not saved back)."""
        self.theme_problems = self._install_themes()

    # ------------------------------------------------------------------ themes

    def _install_themes(self) -> list[str]:
        loaded = load_themes(self.options.user_themes, self.options.builtin_themes)
        names = {theme.name for theme in loaded.themes}
        if DEFAULT_THEME not in names:
            loaded.themes.append(fallback_theme())
        for theme in loaded.themes:
            self.register_theme(theme)
        if os.environ.get("TEXTUAL_THEME"):
            return loaded.problems
        wanted = self.settings.theme_name(self.options.profile) or DEFAULT_THEME
        if wanted not in self.available_themes:
            loaded.problems.append(f"theme {wanted!r} is not known; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME
        self.theme = wanted
        return loaded.problems

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Our own theme variables (``ui/themes.APP_VARIABLES``), for themes that omit them."""
        return app_variable_defaults(self.current_theme)

    def validate_theme(self, theme_name: str) -> str:
        """Never let a theme stop the app: one Textual cannot apply is reported and skipped."""
        return checked_theme(self, theme_name)

    def _theme_changed(self, theme: Theme) -> None:
        if not self.options.persist_settings or self.demo_services is not None:
            return
        if theme.name == self.settings_theme:
            self.settings_theme = None
            return  # applied from the settings, not chosen by the user
        self.run_worker(
            partial(self._save_theme, theme.name),
            thread=True,
            group="settings",
            exit_on_error=False,
            description="save theme",
        )

    def _save_theme(self, name: str) -> None:
        from m2m_tui.desk.settings import save_setting

        try:
            save_setting("theme", name, path=self.settings.path)
        except (OSError, ValueError) as exc:
            self.call_from_thread(
                self.notify, f"theme not saved: {exc}", severity="warning", markup=False
            )

    # ------------------------------------------------------------------ lifecycle

    def get_default_screen(self) -> Screen[Any]:
        from m2m_tui.ui.screens.login import LoginScreen

        return LoginScreen(self.services)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        if self.settings.validated is None:
            # Once the first frame is out: importing pydantic-settings in a thread holds the GIL.
            self.call_after_refresh(self.set_timer, VALIDATE_AFTER, self._start_validation)
        else:
            self._config_ready(self.settings.validated)
        if self.theme_problems:
            self.notify(
                "\n".join(self.theme_problems[:4]),
                title="Theme files skipped",
                severity="warning",
                timeout=10,
                markup=False,
            )
        if self.demo_services is not None:
            self.run_worker(
                self.tracking_link.start_demo(),
                group="services",
                exit_on_error=False,
                description="demo",
            )
        self._start_watchdog()
        self.set_interval(FLUSH_INTERVAL, self.tracking_link.flush, name="tracking-flush")
        self.sync_bars()
        self.set_interval(BARS_TICK, self.sync_bars, name="bars-clock")

    def _start_validation(self) -> None:
        from m2m_tui.ui.settings_link import validate_settings

        validate_settings(self)

    def _config_ready(self, loaded: LoadedSettings) -> None:
        from m2m_tui.ui.settings_link import settings_ready

        settings_ready(self, loaded)

    async def on_unmount(self) -> None:
        if self.callback_restore is not None:
            from m2m_tui.ui.screens.registration import restore_registrations

            with contextlib.suppress(Exception):
                await restore_registrations(self.services)
        with contextlib.suppress(Exception):
            await self.session.aclose()
        with contextlib.suppress(Exception):
            await self.desk.close()
        if self.demo_services is not None:
            with contextlib.suppress(Exception):
                await self.demo_services.close()
        self.recent.close()
        self.queries.close()

    def _start_watchdog(self) -> None:
        if self.options.watchdog:
            from m2m_tui.ui.watchdog import TerminalWatchdog

            TerminalWatchdog(self).start()

    # ------------------------------------------------------------------ session

    # The session's state, read through the services (kept here for tests and the palette).

    @property
    def clock(self) -> Callable[[], float]:
        return self.services.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.services.clock = clock

    @property
    def callback_restore(self) -> Any:
        return self.services.callback_restore

    @property
    def client(self) -> ThingSpaceClient | None:
        return self.session.client

    @property
    def profile(self) -> Profile | None:
        return self.session.profile

    @property
    def read_only(self) -> bool:
        return self.session.read_only

    @property
    def times(self) -> Times:
        return self.services.times

    @property
    def account(self) -> str | None:
        return self.session.account

    def auth_snapshot(self) -> AuthSnapshot | None:
        return self.session.auth_snapshot()

    @property
    def tracking(self) -> DeskTracking | None:
        return self.desk.tracking

    @property
    def submitted(self) -> list[SubmittedRequest]:
        return self.services.submitted

    def sync_bars(self) -> None:
        """Read what the bars show into the reactives; a bar repaints only what changed."""
        services = self.services
        self.header_info = services.header_info()
        self.auth = self.session.auth_snapshot()
        self.listener_state = services.listener_state()
        self.poller_status = services.poller_status()
        self.now = services.clock()  # a fixed clock (snapshots) never moves it

    def on_session_changed(self, _message: SessionChanged) -> None:
        self.sync_bars()

    def client_notice(self, text: str) -> None:
        """The client renewed a token by itself: say so, briefly."""
        self.notify(text, title="Session", timeout=4, markup=False)
        self.sync_bars()

    async def action_quit(self) -> None:
        """Quit, first asking if the login form holds a profile not saved."""
        from m2m_tui.ui.screens.login_form import confirm_quit

        confirm_quit(self, self.services)

    def session_started(self) -> None:
        """The login screen's session logged in: bars, tracking and the devices screen."""
        from m2m_tui.ui.screens.devices import DevicesScreen

        client, profile = self.session.client, self.session.profile
        if client is not None and profile is not None:
            self.desk.logged_in(client, profile.account, self.read_only)
        self.sync_bars()
        if self.session.profile is not None:
            self.tracking_link.start(self.session.profile)
        self.push_screen(DevicesScreen(self.services))

    async def end_session(self) -> None:
        await self.session.logout()
        self.sync_bars()

    def copy_text(self, text: str, what: str) -> None:
        self.copy_to_clipboard(text)
        self.notify(f"copied {what}: {copied_preview(text)}", timeout=4, markup=False)

    # ------------------------------------------------------------------ errors

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The app's own workers (demo services, settings) fail into the same handler."""
        from textual.worker import WorkerState

        if event.state is WorkerState.ERROR:
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker[Any]) -> None:
        error = worker.error
        if error is not None:
            self.report_error(error, worker.description or worker.name or "background work")

    def report_error(self, error: BaseException, context: str = "") -> None:
        """The one place a failure becomes a toast (known) or a dialog (unexpected)."""
        from m2m_tui.ui.error_reports import report_error

        report_error(self, error, context)
        self.sync_bars()

    # ------------------------------------------------------------------ commands

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every described binding of the current screen, then the app's own commands."""
        from m2m_tui.ui.palette import app_commands

        yield from app_commands(self, screen)
        yield from super().get_system_commands(screen)

    def action_help(self) -> None:
        from m2m_tui.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def action_inbox(self) -> None:
        from m2m_tui.ui.screens.inbox import CallbacksInboxScreen

        if not isinstance(self.screen, CallbacksInboxScreen):
            self.push_screen(CallbacksInboxScreen(self.services))

    def action_registration(self) -> None:
        from m2m_tui.ui.screens.registration import RegistrationScreen

        if not isinstance(self.screen, RegistrationScreen):
            self.push_screen(RegistrationScreen(self.services))

    def action_open_last_request(self) -> None:
        """Straight to the detail of the request just submitted (or found after a timeout)."""
        last = self.desk.last
        if last is None:
            self.notify("no request submitted yet", timeout=3)
            return
        from m2m_tui.ui.screens.request_detail import RequestDetailScreen

        self.push_screen(RequestDetailScreen(self.services, last.request_id))

    def action_copy_last_request(self) -> None:
        last = self.desk.last
        if last is not None:
            self.copy_text(last.request_id, "request id")
        else:
            self.notify("no request submitted yet", timeout=3)
