"""This session's requests: what was accepted, what timed out, what is still awaited.

A provisioning POST is never resent (it could act twice), so after a timeout the engineer
does not know whether the suspend happened. If it did, ThingSpace's callbacks will name the
device with a requestId nobody here submitted. The ledger remembers what timed out, per
device, for an hour; the first such callback about one of those devices adopts its requestId,
and the request is tracked from then on like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the desk is built before the first frame: its value types load later
    from m2m_tui.desk.actions import SubmittedRequest, Target
    from m2m_tui.tracking.journal.interface import Location
    from m2m_tui.tracking.records import CallbackRow, RequestAction
    from m2m_tui.tracking.tracker_events import RequestChanged

#: How long after a timeout a callback about the same device is taken as its answer.
WATCH_SECONDS = 3600.0
#: The states after which nothing more happens to a request.
FINAL_STATES = frozenset({"completed", "failed", "timed_out"})


@dataclass(frozen=True, slots=True)
class UnconfirmedRequest:
    action: RequestAction
    account: str | None
    target: Any
    target_label: str
    pollable: bool
    sent_at: float
    device_keys: frozenset[str]


class UnconfirmedRequests:
    """What timed out, oldest first; a match is handed out once."""

    def __init__(self) -> None:
        self._items: list[UnconfirmedRequest] = []

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[UnconfirmedRequest]:
        return list(self._items)

    def add(self, item: UnconfirmedRequest) -> bool:
        """Remember ``item``; False when it names no device (nothing could match it)."""
        if not item.device_keys:
            return False
        self._items.append(item)
        return True

    def claim(self, device_key: str | None, now: float) -> UnconfirmedRequest | None:
        """The oldest timed-out request about ``device_key`` still in its window, removed."""
        self._items = [i for i in self._items if now - i.sent_at <= WATCH_SECONDS]
        if not device_key:
            return None
        for index, item in enumerate(self._items):
            if device_key in item.device_keys:
                return self._items.pop(index)
        return None


class TimeoutWatch:
    """Matches callbacks about unknown requests to the POSTs that timed out."""

    def __init__(self) -> None:
        self.pending = UnconfirmedRequests()

    def adoptions(
        self, callbacks: Iterable[Any], is_known: Callable[[str], bool], now: float
    ) -> list[tuple[UnconfirmedRequest, str]]:
        """(timed-out request, the requestId ThingSpace gave it) for each new match.

        ``callbacks`` carry ``request_id``, ``device_key``, ``duplicate`` and ``ours``
        (CallbackReceived) or no ``ours`` (journal rows, checked with ``is_known``).
        """
        found: list[tuple[UnconfirmedRequest, str]] = []
        if not len(self.pending):
            return found
        taken: set[str] = set()
        for callback in callbacks:
            request_id = callback.request_id
            if callback.duplicate or getattr(callback, "ours", False) or request_id in taken:
                continue
            if is_known(request_id):
                continue
            item = self.pending.claim(callback.device_key, now)
            if item is not None:
                taken.add(request_id)
                found.append((item, request_id))
        return found


def callbacks_since(journal_path: Location, item: UnconfirmedRequest) -> list[CallbackRow]:
    """What already arrived about the device since the POST was sent (it can beat the timeout)."""
    from m2m_tui.desk.queries import callbacks_about

    return callbacks_about(journal_path, item.device_keys, item.sent_at)


class Ledger:
    """The requests of this session, in the order ThingSpace accepted them."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.requests: list[SubmittedRequest] = []
        self._awaiting: dict[str, SubmittedRequest] = {}
        self.timeouts = TimeoutWatch()

    def __len__(self) -> int:
        return len(self.requests)

    @property
    def last(self) -> SubmittedRequest | None:
        return self.requests[-1] if self.requests else None

    def add(self, record: SubmittedRequest) -> None:
        self.requests.append(record)
        self._awaiting[record.request_id] = record

    @property
    def awaiting(self) -> list[SubmittedRequest]:
        """Requests of this session whose final state was not seen yet."""
        return list(self._awaiting.values())

    def quit_warning(self, *, forgets: bool) -> list[str]:
        """What quitting now leaves unfinished, as confirm lines (empty: nothing does).

        ``forgets``: the journal goes with the app (the demo). Otherwise the requests are
        journaled and the next start tracks them again (a walk found ctrl+q right after a
        suspend quit without a word).
        """
        waiting = self.awaiting
        if not waiting:
            return []
        ids = ", ".join(record.request_id for record in waiting[:3])
        more = f" and {len(waiting) - 3} more" if len(waiting) > 3 else ""
        lines = [f"Not finished yet: {len(waiting)} request(s) of this session ({ids}{more})."]
        if forgets:
            lines.append("The demo forgets them: its simulator and journal end with it.")
        else:
            lines.append(
                "They are in the journal: the next start tracks them again "
                "(`m2m-tui export` shows them meanwhile)."
            )
        return lines

    def get(self, request_id: str) -> SubmittedRequest | None:
        for record in reversed(self.requests):
            if record.request_id == request_id:
                return record
        return None

    def about(self, target: Target) -> list[SubmittedRequest]:
        """This session's requests about ``target``: a device by any of its identifiers, a
        filter by its description."""
        from m2m_tui.desk.actions import FilterTarget

        if isinstance(target, FilterTarget):
            return [r for r in self.requests if r.target_label == target.description]
        identity = target.identity
        return [r for r in self.requests if r.concerns(identity)]

    def actions_today(self, target: Target) -> int:
        """State changes on ``target`` in the last 24 h (they count against the daily limit)."""
        since = self.clock() - 86400
        return sum(
            1 for r in self.about(target) if r.action.changes_state and r.submitted_at > since
        )

    def watch(self, item: UnconfirmedRequest) -> bool:
        """Watch callbacks for ``item``'s device; False when nothing could match it."""
        return self.timeouts.pending.add(item)

    @property
    def watching(self) -> int:
        return len(self.timeouts.pending)

    def finished(
        self, changed: Mapping[str, RequestChanged]
    ) -> list[tuple[SubmittedRequest, RequestChanged]]:
        """Requests of this session that reached a final state in ``changed`` (each once)."""
        done: list[tuple[SubmittedRequest, RequestChanged]] = []
        if not self._awaiting:
            return done
        for request_id, change in changed.items():
            if change.state not in FINAL_STATES:
                continue
            record = self._awaiting.pop(request_id, None)
            if record is not None:
                done.append((record, change))
        return done
