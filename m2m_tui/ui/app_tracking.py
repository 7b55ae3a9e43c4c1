"""What the screen adds to the desk's tracking: starting it, and its feed to every screen.

The desk (:class:`m2m_tui.desk.tracking.DeskTracking`) owns the journal, poller and listener;
this starts it for the demo or a logged-in profile, says in one toast when a part could not
start, and turns each flush of the feed into one :class:`TrackingUpdate` per screen of the
stack (a screen under a dialog or a detail screen hears it too, so none catches up later).
Owned by the app, like :class:`~m2m_tui.ui.app_requests.RequestNotices`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from m2m_tui.ui.tracking_link import TrackingUpdate

if TYPE_CHECKING:
    from m2m_tui.desk.settings import Profile
    from m2m_tui.ui.app import M2MApp


class AppTracking:
    def __init__(self, app: M2MApp) -> None:
        self.app = app
        self.services = app.services

    async def start_demo(self) -> None:
        """The demo's simulator and tracking, started beside the first screen."""
        from m2m_tui.desk.tracking import DeskTracking
        from m2m_tui.ui.screens.login import LoginScreen

        demo = self.services.demo_services
        assert demo is not None
        tracking = DeskTracking(demo.tracking_settings())
        self.services.desk.use_tracking(tracking)
        await demo.start(tracking)
        client = self.services.client
        if client is not None:
            tracking.attach_client(client.request_status)
        for screen in self.app.screen_stack:
            if isinstance(screen, LoginScreen):
                screen.demo_ready()
        self.app.sync_bars()

    def start(self, profile: Profile) -> None:
        """Start tracking for a real profile: the journal and poller always; its listener when
        it names a public URL or a fixed port, or following a journal another process writes
        (``--journal``). A listener that cannot start only removes the callback path."""
        services, app = self.services, self.app
        tracking, client = services.tracking, services.client
        if tracking is not None:
            if client is not None:
                tracking.attach_client(client.request_status)
            return
        from m2m_tui.desk.tracking import checked_profile_settings

        settings, problem = checked_profile_settings(
            profile,
            services.journal_path,
            follow=app.options.follow,
            name=services.session.profile_name,
        )
        if problem:  # e.g. a callback username without a password: it would accept anyone
            app.notify(
                f"callbacks off: {problem}", title="Callbacks", severity="warning", markup=False
            )
        app.run_worker(
            self._run(settings, profile.callback.public_url),
            group="tracking",
            exit_on_error=False,
            description="request tracking",
        )

    async def _run(self, settings: Any, public_url: str | None) -> None:
        app = self.app
        try:
            tracking = await self.services.desk.start_tracking(settings, public_url)
        except Exception as exc:  # the journal itself cannot be used: say so
            app.notify(
                f"request tracking not started: {exc}",
                title="Tracking",
                severity="error",
                markup=False,
            )
        else:
            if tracking.listener_error:
                app.notify(
                    f"callbacks off: {tracking.listener_error}. Requests are still journaled "
                    "and polled; suspension status and filter actions cannot finish here.",
                    title="Callbacks",
                    severity="warning",
                    timeout=15,
                    markup=False,
                )
        app.sync_bars()

    def flush(self) -> None:
        """One coalesced update per flush: the bars follow, the notices speak, and every
        screen of the stack hears it."""
        tracking = self.services.tracking
        batch = tracking.feed.flush() if tracking is not None else None
        if batch is None:
            return
        app = self.app
        app.sync_bars()
        self.services.notices.batch(batch)
        for screen in app.screen_stack:
            screen.post_message(TrackingUpdate(batch))
