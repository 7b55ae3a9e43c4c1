"""What the screens use of the session, built once by the app and handed to each screen.

Screens used to reach every desk object through the app (``self.m2m.desk``, ``getattr(app,
...)``), so each screen depended on the whole App. Now the app builds one :class:`Services`
value and passes it to every screen it makes; a screen passes it on to the screens it opens.
The values the bars show are derived here too (the app turns them into reactives).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2m_tui.desk.times import DEFAULT_ZONE, Times
from m2m_tui.ui.tracking_link import listener_state
from m2m_tui.ui.widgets.bars import HeaderInfo, ListenerState

if TYPE_CHECKING:
    from m2m_tui.api.client import ThingSpaceClient
    from m2m_tui.desk.actions import SubmittedRequest
    from m2m_tui.desk.demo import DemoServices
    from m2m_tui.desk.queries import JournalQueries, RecentDevices
    from m2m_tui.desk.requests import RequestDesk
    from m2m_tui.desk.session import Session
    from m2m_tui.desk.settings import Profile
    from m2m_tui.desk.settings_state import SettingsState
    from m2m_tui.desk.tracking import DeskTracking
    from m2m_tui.ui.app_requests import RequestNotices


@dataclass(eq=False)
class Services:
    """The desk objects of one app run: the session, the requests, the journal reads."""

    session: Session
    desk: RequestDesk
    """Every request of this session: submit, journal, track, announce (headless)."""
    queries: JournalQueries
    """The screens' only way to read the journal (each read in a thread)."""
    recent: RecentDevices
    settings: SettingsState
    notices: RequestNotices
    """Toasts and messages for what the desk answers (submitted, finished, found)."""
    clock: Callable[[], float]
    journal_path: str | Path
    """The one journal of this app: tracking, recent devices and the screens all read it."""
    demo_services: DemoServices | None = None
    config_ready: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the settings are validated (the first frame had only the profile names)."""
    callback_restore: Any = None
    """Callback registrations to put back on exit (screens/registration.py)."""

    # ------------------------------------------------------------------ session

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
    def account(self) -> str | None:
        return self.session.account

    @property
    def times(self) -> Times:
        """How every screen writes times: the profile's ``time_zone``, else the file's (UTC)."""
        zone = self.profile.time_zone if self.profile is not None else None
        validated = self.settings.validated
        zone = zone or (validated.config.time_zone if validated is not None else None)
        return Times(zone or DEFAULT_ZONE)

    @property
    def tracking(self) -> DeskTracking | None:
        """The session's tracking (journal, poller, listener), once started."""
        return self.desk.tracking

    @property
    def submitted(self) -> list[SubmittedRequest]:
        """The requests ThingSpace accepted this session, oldest first."""
        return self.desk.ledger.requests

    # ------------------------------------------------------------------ what the bars show

    def header_info(self) -> HeaderInfo:
        session = self.session
        profile = session.profile
        if profile is None:
            found = self.settings.profile(session.profile_name)
            profile = found[1] if found else None
        client = session.client
        return HeaderInfo(
            profile=session.profile_name,
            account=profile.account if profile else None,
            environment="demo"
            if self.demo_services
            else (profile.environment_name if profile else None),
            read_only=session.read_only_for(profile),
            demo=self.demo_services is not None,
            user=client.username if client and session.logged_in else None,
        )

    def listener_state(self) -> ListenerState:
        if self.tracking is None:
            if self.demo_services is not None and not self.demo_services.ready.is_set():
                return ListenerState("starting")
            return ListenerState("off")
        return listener_state(self.tracking)

    def poller_status(self) -> str:
        return "idle" if self.tracking is None else self.tracking.poller_text()
