"""Tracking start-up owned by the desk: the journal and the poller always run once started;
the listener is only the callback path.

Before, one failure (the listener's port taken by ``m2m-tui listen``, say) failed the whole
start: no journal, no poller, and every request accepted afterwards was lost. Here a listener
that cannot start is dropped, with its reason kept for the screen, and tracking starts again
without it: requests are still journaled, pollable ones polled, and a restart finds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING

from m2m_tui.desk.feed import Feed
from m2m_tui.desk.policy import CallbackReach

if TYPE_CHECKING:
    from collections.abc import Mapping

    from m2m_tui.desk.settings import Profile
    from m2m_tui.tracking.journal.interface import Location
    from m2m_tui.tracking.poller import StatusCall
    from m2m_tui.tracking.service import TrackingService, TrackingSettings
    from m2m_tui.tracking.tracker import Tracker

log = logging.getLogger("m2m_tui.desk")

#: What to do about a callback path that is off, by cause (the confirm's last sentence).
FIX_NOT_CONFIGURED = (
    "Add callback.public_url (or a fixed callback.listen port) to the profile and log in "
    "again, or run `m2m-tui listen` and start the app with --journal to follow it."
)
FIX_REFUSED = "Correct the profile's [callback] section and log in again."
FIX_PORT_HELD = (
    "Run one listener: start the app with --journal PATH to follow the one that holds the "
    "port, or stop it and log in again."
)
FIX_WAIT = "Wait until it has started, then send it again."


def _listener_failure(exc: BaseException) -> tuple[str, str, str | None]:
    """(the notice, the short cause, the fix) for a listener that could not start. A port held
    by another m2m-tui or ``m2m-tui listen`` is the common case: say so, and how to follow it."""
    from m2m_tui.tracking.listener import ListenerError

    if isinstance(exc, ListenerError) and exc.address_in_use:
        where = str(exc).rsplit(": ", 1)[0]  # "cannot listen on HOST:PORT"
        cause = f"{where}: another m2m-tui or `m2m-tui listen` holds this port"
        notice = f"{cause}; run one listener and start the UI with --journal PATH to follow it"
        return notice, cause, FIX_PORT_HELD
    return str(exc), str(exc), None


def profile_settings(
    profile: Profile,
    journal: Location,
    *,
    follow: bool = False,
    name: str | None = None,
    listen: bool = True,
) -> TrackingSettings:
    """Tracking for a real profile: its listener when it names a public URL or a fixed port,
    or following a journal another process writes (``follow``). ``listen=False``: no
    listener whatever the profile says. Raises ValueError when the profile's callback
    credentials would accept anyone (a username without a password)."""
    from m2m_tui.tracking.listener_config import ListenerConfig
    from m2m_tui.tracking.poller import PollSchedule
    from m2m_tui.tracking.service import TrackingSettings

    callback = profile.callback
    wanted = listen and not follow and (callback.public_url or not callback.listen.endswith(":0"))
    listener = None
    if wanted:
        host, _, port = callback.listen.rpartition(":")
        listener = ListenerConfig(
            host=host or "127.0.0.1",
            port=int(port),
            username=callback.username,
            password=callback.password,
        )
    polling = profile.polling
    return TrackingSettings(
        journal_path=journal,
        listener=listener,
        follow=follow,
        profile=name,
        deadline=polling.deadline,
        schedule=PollSchedule(first=polling.initial_interval, longest=polling.max_interval),
    )


def checked_profile_settings(
    profile: Profile, journal: Location, *, follow: bool = False, name: str | None = None
) -> tuple[TrackingSettings, str | None]:
    """:func:`profile_settings`, or the same without a listener and the reason, when the
    profile's callback credentials would accept anyone (a username without a password)."""
    try:
        return profile_settings(profile, journal, follow=follow, name=name), None
    except ValueError as exc:
        return profile_settings(profile, journal, follow=follow, name=name, listen=False), str(exc)


class DeskTracking:
    """One :class:`TrackingService` for the session, its events queued on :attr:`feed`."""

    def __init__(
        self, settings: TrackingSettings, feed: Feed | None = None, public_url: str | None = None
    ) -> None:
        self.settings = settings
        """What was asked for (the listener stays here even when it could not start)."""
        self.feed = feed or Feed()
        self.public_url = public_url
        self._service: TrackingService | None = None
        self._done = asyncio.Event()
        self.error: str | None = None
        """Tracking could not start at all (the journal cannot be opened): nothing is tracked."""
        self.listener_error: str | None = None
        """The listener could not start: why. Tracking runs without callbacks."""
        self._listener_cause: str | None = None
        self._listener_fix: str | None = None

    # ------------------------------------------------------------------ state

    @property
    def started(self) -> bool:
        return self._service is not None

    @property
    def finished_starting(self) -> bool:
        return self._done.is_set()

    @property
    def service(self) -> TrackingService:
        if self._service is None:
            raise RuntimeError("tracking is not started")
        return self._service

    @property
    def tracker(self) -> Tracker | None:
        return None if self._service is None else self._service.tracker

    @property
    def listening(self) -> bool:
        service = self._service
        return service is not None and service.listener is not None and service.listener.running

    @property
    def following(self) -> bool:
        return self._service is not None and self.settings.follow

    @property
    def journal_problem(self) -> str | None:
        """Following a team's journal whose database cannot be reached: why (None when fine).
        Tracking reconnects by itself; device lookups do not need the journal."""
        return None if self._service is None else self._service.journal_problem

    @property
    def polling(self) -> bool:
        return self._service is not None and self._service.poller is not None

    @property
    def listener_url(self) -> str | None:
        service = self._service
        if service is None or service.listener is None:
            return None
        return service.listener.url

    def reach(self, registered: Mapping[str, str | None] | None = None) -> CallbackReach:
        """Whether callbacks can reach us, for :func:`m2m_tui.desk.policy.can`."""
        ours = {url for url in (self.public_url, self.listener_url) if url}
        why: str | None = None
        fix: str | None = None
        if not self.listening and not self.following:
            if self.listener_error:
                why = f"the callback listener failed to start ({self._listener_cause})"
                fix = self._listener_fix
            elif self.error:
                why = f"request tracking did not start ({self.error})"
            elif not self.finished_starting and self.settings.listener is not None:
                why, fix = "the callback listener is still starting", FIX_WAIT
            elif self._service is not None and self._service.listener is not None:
                why = "the callback listener has stopped"
            elif self.public_url:  # a listener was wanted: its settings were refused
                why = "the profile's callback settings were refused (see the Callbacks notice)"
                fix = FIX_REFUSED
            else:
                why = (
                    "the callback listener is off: no callback is configured (the profile "
                    "has no callback.public_url and no fixed callback.listen port)"
                )
                fix = FIX_NOT_CONFIGURED
        return CallbackReach(
            listening=self.listening,
            following=self.following,
            why_not=why,
            fix=fix,
            our_urls=frozenset(ours),
            registered=registered,
        )

    def poller_text(self) -> str:
        """For the status bar."""
        status = self.feed.poller_status
        if self._service is None or self._service.poller is None:
            return "idle (log in to poll)" if self._service is not None else "idle"
        if status is None:
            return "ready"
        if status.paused_until is not None:
            return "paused (" + (status.last_error or "backing off") + ")"
        return f"{status.tracked} polling" if status.tracked else "ready"

    # ------------------------------------------------------------------ lifecycle

    async def start(self, status_call: StatusCall | None = None) -> None:
        """Journal, resume, poll; listen when asked and possible. Raises only when the journal
        itself cannot be used (``error`` says why)."""
        try:
            try:
                service = await self._start(self.settings, status_call)
            except Exception as exc:
                if self.settings.listener is None:
                    raise
                self.listener_error, self._listener_cause, self._listener_fix = _listener_failure(
                    exc
                )
                log.warning("callback listener not started: %s", exc)
                without = dataclasses.replace(self.settings, listener=None, follow=False)
                service = await self._start(without, status_call)
        except Exception as exc:
            self.error = str(exc)
            self._done.set()
            raise
        service.tracker.subscribe(self.feed.push)
        self._service = service
        if service.listener is not None:
            self.feed.listener_status = service.listener.status()
        self._done.set()
        self.feed.flush()

    @staticmethod
    async def _start(settings: TrackingSettings, status_call: StatusCall | None) -> TrackingService:
        from m2m_tui.tracking.service import TrackingService

        service = TrackingService(settings, status_call)
        try:
            await service.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await service.stop()  # the journal writer and file a half start opened
            raise
        return service

    async def wait_started(self) -> None:
        """Until :meth:`start` finished, whichever way."""
        await self._done.wait()

    def attach_client(self, status_call: StatusCall) -> None:
        if self._service is not None:
            self._service.attach_status_call(status_call)

    async def stop(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.stop()

    def flush(self) -> None:
        self.feed.flush()
