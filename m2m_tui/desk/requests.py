"""Every request this engineer makes, from "confirmed" to "tracked, journaled, announced".

:class:`RequestDesk` is what a front end calls: ``can`` before asking for a confirm, ``submit``
to send, ``start_tracking`` once logged in, ``process`` with each feed batch. Its invariants:
- a request ThingSpace accepted is in the journal before ``submit`` returns ``Submitted``
  (whatever happened to the listener), and a pollable one is polled;
- the ``how`` of a ``Submitted`` says how it will really finish, from the live state;
- a callback-only request that cannot finish here is never sent without an explicit
  acceptance of the reason ``can`` gave;
- requests are matched to devices by identity (any identifier the device list reported).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from m2m_tui.desk.ledger import Ledger, UnconfirmedRequest, callbacks_since
from m2m_tui.desk.picture_shelf import PictureShelf

if TYPE_CHECKING:
    # Imported where used: the app builds its desk before the first frame, and these modules
    # (and the journal records they use) are about 20 dataclasses, some 15 ms (issue 8).
    from m2m_tui.api.client import ThingSpaceClient
    from m2m_tui.desk.actions import (
        ActionParams,
        Submitted,
        SubmittedRequest,
        Target,
        Unconfirmed,
    )
    from m2m_tui.desk.diagnosis_journal import DiagnosisJournal
    from m2m_tui.desk.feed import FeedBatch
    from m2m_tui.desk.policy import CallbackReach, Refused, Verdict
    from m2m_tui.desk.queries.devices import RecentDevices
    from m2m_tui.desk.tracking import DeskTracking
    from m2m_tui.tracking.journal.interface import Location
    from m2m_tui.tracking.records import RequestAction
    from m2m_tui.tracking.service import TrackingSettings
    from m2m_tui.tracking.tracker import TrackedRequest, Tracker
    from m2m_tui.tracking.tracker_events import RequestChanged


@dataclass(frozen=True)
class Finished:
    """A request of this session reached a final state."""

    request: SubmittedRequest
    change: RequestChanged
    tracked: TrackedRequest | None


@dataclass
class DeskUpdate:
    """What a feed batch meant for this session's requests."""

    adopted: list[Submitted] = field(default_factory=list)
    finished: list[Finished] = field(default_factory=list)


class RequestDesk:
    """The request lifecycle of one session (no UI)."""

    def __init__(
        self,
        journal_path: Location,
        *,
        client: ThingSpaceClient | None = None,
        account: str | None = None,
        read_only: bool = False,
        clock: Callable[[], float] = time.time,
        recent: RecentDevices | None = None,
        submitted_by: str | None = None,
    ) -> None:
        self.journal_path = journal_path
        self._submitted_by = submitted_by
        self.client = client
        self.account = account
        self.read_only = read_only
        self.clock = clock
        self.ledger = Ledger(clock)
        self.tracking: DeskTracking | None = None
        self._registered: dict[str, dict[str, str | None]] = {}
        self.diagnoses: DiagnosisJournal | None = None
        """Journals each shelved picture's diagnosis (``recent``: the lookups' journal)."""
        if recent is not None:
            from m2m_tui.desk.diagnosis_journal import DiagnosisJournal

            self.diagnoses = DiagnosisJournal(recent)
        self.pictures = PictureShelf(
            on_keep=self.diagnoses.kept if self.diagnoses is not None else None
        )
        """Device pictures looked up this session (the request detail shows its device's)."""

    # ------------------------------------------------------------------ session

    @property
    def submitted_by(self) -> str:
        """``user@host`` recorded on each request made here (tests name two "users")."""
        if self._submitted_by is None:
            from m2m_tui.desk.identity import local_submitter

            self._submitted_by = local_submitter()
        return self._submitted_by

    def logged_in(
        self, client: ThingSpaceClient, account: str | None, read_only: bool = False
    ) -> None:
        """A session opened: its client polls from now on."""
        self.client, self.account, self.read_only = client, account, read_only
        if self.tracking is not None:
            self.tracking.attach_client(client.request_status)

    def use_tracking(self, tracking: DeskTracking) -> None:
        """Adopt a tracking run that is started elsewhere (the demo starts its own)."""
        self.tracking = tracking
        if self.client is not None:
            tracking.attach_client(self.client.request_status)

    async def start_tracking(
        self, settings: TrackingSettings, public_url: str | None = None
    ) -> DeskTracking:
        """Journal and poller always; the listener when it can start (else its reason is kept).

        Raises only when the journal itself cannot be used."""
        from m2m_tui.desk.tracking import DeskTracking

        if self.tracking is not None:
            if self.client is not None:
                self.tracking.attach_client(self.client.request_status)
            return self.tracking
        tracking = DeskTracking(settings, public_url=public_url)
        self.tracking = tracking
        status_call = self.client.request_status if self.client is not None else None
        await tracking.start(status_call)
        return tracking

    async def close(self) -> None:
        if self.diagnoses is not None:
            await self.diagnoses.flush()
        if self.tracking is not None:
            await self.tracking.stop()

    def registrations_seen(self, account: str, registered: Mapping[str, str | None]) -> None:
        """The account's callback registration was read: service -> URL (None: none).

        The list is the whole truth: a service it does not name has nothing registered."""
        from m2m_tui.desk.policy import CALLBACK_SERVICE

        known: dict[str, str | None] = dict.fromkeys(CALLBACK_SERVICE.values())
        known.update(registered)
        self._registered[account] = known

    # ------------------------------------------------------------------ policy

    def can(self, action: RequestAction, target: Target) -> Verdict:
        """Allowed, Warned(reason: confirm it) or Refused(reason)."""
        from m2m_tui.desk.policy import CallbackReach, can

        reach = self._reach(target)
        if reach is None:
            reach = CallbackReach(why_not="request tracking is not running (log in first)")
        return can(action, target, read_only=self.read_only, reach=reach)

    def _reach(self, target: Target) -> CallbackReach | None:
        """Where callbacks for ``target``'s account can reach us; None without tracking."""
        account = target.account or self.account
        registered = self._registered.get(account or "")
        return self.tracking.reach(registered) if self.tracking is not None else None

    def consequences(
        self, action: RequestAction, target: Target, params: ActionParams
    ) -> list[str]:
        """The lines a confirm shows: effect, cost, how it is followed, and any warning."""
        from m2m_tui.desk.actions import consequences
        from m2m_tui.desk.policy import Warned, tracking_note

        lines = consequences(action, target, params, self.ledger.actions_today(target))
        tracking = self.tracking
        reach = self._reach(target) if tracking is not None and not tracking.error else None
        lines[-1] = tracking_note(action, target, reach)  # the truth, not the static note
        verdict = self.can(action, target)
        if isinstance(verdict, Warned):
            lines.append("WARNING: " + verdict.reason)
        return lines

    def callbacks_arrive(self) -> bool:
        """Can any callback reach this app now (own listener, or a followed journal)?"""
        tracking = self.tracking
        return tracking is not None and tracking.reach().receives

    def how(self, action: RequestAction, target: Target) -> str:
        """How a request accepted now will finish, from the real state of tracking."""
        from m2m_tui.desk.actions import is_pollable

        return self.how_for(is_pollable(action, target), action, target.account)

    def how_for(
        self, pollable: bool, action: RequestAction | None = None, account: str | None = None
    ) -> str:
        """Short form for notices and the detail. With ``action``, a registration known to
        name another URL for its callback service counts as no callback arriving."""
        from m2m_tui.desk.policy import CALLBACK_SERVICE, registered_elsewhere

        tracking = self.tracking
        if tracking is None or not tracking.started:
            return "NOT tracked: request tracking is not running"
        reach = tracking.reach(self._registered.get(account or self.account or ""))
        elsewhere = None
        if action is not None and reach.receives:
            elsewhere = registered_elsewhere(CALLBACK_SERVICE[action], reach)
        if pollable and tracking.polling:
            if elsewhere is not None:
                return f"polling (no callback can arrive: {elsewhere})"
            return "polling + callback" if reach.receives else "polling (no callback can arrive)"
        if elsewhere is not None:
            return f"callback only, and no callback can arrive: {elsewhere}"
        if reach.receives:
            return "callback only"
        return f"callback only, and no callback can arrive: {reach.why_not}"

    # ------------------------------------------------------------------ submit

    async def submit(
        self,
        action: RequestAction,
        target: Target,
        params: ActionParams | None = None,
        *,
        accept_warning: bool = False,
    ) -> Submitted | Unconfirmed | Refused:
        """Send one request (never retried) and, once accepted, journal it and track it."""
        from m2m_tui.api.errors import NotRetriedTimeout, ThingSpaceError
        from m2m_tui.desk.actions import (
            ActionParams,
            FilterTarget,
            Unconfirmed,
            build_request,
            is_pollable,
            post_request,
        )
        from m2m_tui.desk.policy import Refused, Warned

        verdict = self.can(action, target)
        if isinstance(verdict, Refused):
            return verdict
        if isinstance(verdict, Warned) and not accept_warning:
            return Refused(verdict.reason)
        client = self.client
        if client is None:
            return Refused("not logged in")
        try:
            request = build_request(action, target, params or ActionParams())
        except ValueError as exc:
            text = str(exc).splitlines()
            return Refused(text[-1] if text else str(exc), exc)
        sent_at = self.clock()
        try:
            request_id = await post_request(client, action, request)
        except NotRetriedTimeout as exc:
            watching = self._watch_timeout(action, target, sent_at)
            found = tuple(await self.adopt_earlier_callbacks()) if watching else ()
            return Unconfirmed(action, target.description, exc, watching, found)
        except ThingSpaceError as exc:
            return Refused(f"{action.label} refused: {exc}", exc)
        record = self._new_record(
            action,
            target.account,
            target.wire(),
            request_id,
            target.description,
            is_pollable(action, target),
            target.identity,
        )
        # Every device the filter matches was listed: the request settles once all answered.
        matched = target.loaded if isinstance(target, FilterTarget) and not target.more else None
        return await self._accepted(record, expected_devices=matched, sent_at=sent_at)

    def _new_record(
        self,
        action: RequestAction,
        account: str | None,
        target_wire: Any,
        request_id: str,
        target_label: str,
        pollable: bool,
        identity: frozenset[str],
    ) -> SubmittedRequest:
        from m2m_tui.desk.actions import SubmittedRequest, wire_keys

        return SubmittedRequest(
            action,
            account,
            target_wire,
            target_label,
            request_id,
            pollable,
            self.clock(),
            identity | wire_keys(target_wire),
        )

    async def _accepted(
        self,
        record: SubmittedRequest,
        *,
        expected_devices: int | None = None,
        sent_at: float | None = None,
    ) -> Submitted:
        """ThingSpace accepted a request: once tracking has started (or failed to), keep it,
        journaled (off the event loop) before anyone says "submitted"."""
        tracking = self.tracking
        if tracking is not None and not tracking.finished_starting:
            await tracking.wait_started()  # the journal is about to open: record it there
        self.ledger.add(record)
        tracker, problem = self._tracker_for()
        if tracker is not None:
            try:
                await tracker.asubmitted(
                    record.action,
                    record.account or "",
                    record.request_id,
                    **_target_args(record, expected_devices, sent_at),
                    submitted_by=self.submitted_by,
                )
            except Exception as exc:  # the request went through; only our record of it failed
                problem = f"{type(exc).__name__}: {exc}"
        return self._submitted(record, problem)

    def _keep(self, record: SubmittedRequest) -> Submitted:
        """A request found after its POST timed out: keep it in the ledger, journal it (in
        this thread: a rare path, taken from a feed batch), track it."""
        self.ledger.add(record)
        tracker, problem = self._tracker_for()
        if tracker is not None:
            try:
                tracker.submitted(
                    record.action,
                    record.account or "",
                    record.request_id,
                    **_target_args(record, None, None),
                    submitted_by=self.submitted_by,
                )
            except Exception as exc:  # the request went through; only our record of it failed
                problem = f"{type(exc).__name__}: {exc}"
        return self._submitted(record, problem, found_after_timeout=True)

    def _submitted(
        self, record: SubmittedRequest, problem: str | None, *, found_after_timeout: bool = False
    ) -> Submitted:
        from m2m_tui.desk.actions import Submitted

        how = (
            "NOT tracked: " + problem
            if problem
            else self.how_for(record.pollable, record.action, record.account)
        )
        return Submitted(record, how, problem is None, problem, found_after_timeout)

    def _tracker_for(self) -> tuple[Tracker | None, str | None]:
        """The tracker to hand a request to (polling started with our client), or why none."""
        tracking = self.tracking
        if tracking is None or tracking.tracker is None:
            reason = tracking.error if tracking is not None else None
            return None, reason or "request tracking is not running"
        if self.client is not None and not tracking.polling:
            tracking.attach_client(self.client.request_status)
        return tracking.tracker, None

    # ------------------------------------------------------------------ timeouts

    def _watch_timeout(self, action: RequestAction, target: Target, sent_at: float) -> bool:
        """Watch callbacks naming the device for the request's id; False when none can come."""
        from m2m_tui.desk.actions import is_pollable

        tracking = self.tracking
        if tracking is None or not tracking.reach().receives:
            return False
        item = UnconfirmedRequest(
            action,
            target.account,
            target.wire(),
            target.description,
            is_pollable(action, target),
            sent_at,
            target.identity,
        )
        return self.ledger.watch(item)

    async def adopt_earlier_callbacks(self) -> list[Submitted]:
        """Callbacks may have beaten the timeout: look for them in the journal."""
        found: list[Submitted] = []
        for item in self.ledger.timeouts.pending.items():
            rows = await asyncio.to_thread(callbacks_since, self.journal_path, item)
            if rows:
                found.extend(self._adopt(rows))
        return found

    def _adopt(self, callbacks: list[Any]) -> list[Submitted]:
        tracking = self.tracking
        tracker = tracking.tracker if tracking is not None else None
        known: Callable[[str], bool] = (
            (lambda rid: tracker.get(rid) is not None) if tracker else (lambda rid: False)
        )
        adopted: list[Submitted] = []
        for item, request_id in self.ledger.timeouts.adoptions(callbacks, known, self.clock()):
            record = self._new_record(
                item.action,
                item.account,
                item.target,
                request_id,
                item.target_label,
                item.pollable,
                item.device_keys,
            )
            adopted.append(self._keep(record))
        return adopted

    # ------------------------------------------------------------------ feed

    def process(self, batch: FeedBatch) -> DeskUpdate:
        """What a feed batch means here: timed-out requests found, requests finished."""
        update = DeskUpdate()
        if batch.callbacks and self.ledger.watching:
            update.adopted = self._adopt(batch.callbacks)
        tracker = self.tracking.tracker if self.tracking is not None else None
        for record, change in self.ledger.finished(batch.changed):
            tracked = tracker.get(record.request_id) if tracker is not None else None
            update.finished.append(Finished(record, change, tracked))
        return update

    def requests_about(self, target: Target) -> list[SubmittedRequest]:
        """This session's requests about ``target`` (a device: by any of its identifiers)."""
        return self.ledger.about(target)

    def actions_today(self, target: Target) -> int:
        return self.ledger.actions_today(target)

    @property
    def last(self) -> SubmittedRequest | None:
        return self.ledger.last


def _target_args(
    record: SubmittedRequest, expected_devices: int | None, sent_at: float | None
) -> dict[str, Any]:
    """The tracker's keywords for the request's target: its devices, or its filter.

    ``expected_devices`` (a filter's listed matches) lets it settle once all answered;
    ``sent_at`` keeps an earlier attempt's callbacks apart should the id be reused."""
    if isinstance(record.target, list):
        return {"devices": record.target, "sent_at": sent_at}
    return {"filter": record.target, "expected_devices": expected_devices, "sent_at": sent_at}


__all__ = ["DeskUpdate", "Finished", "RequestDesk"]
