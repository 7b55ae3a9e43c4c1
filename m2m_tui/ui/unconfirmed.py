"""Requests whose POST timed out: ThingSpace may have accepted them under an id we never saw.

A provisioning POST is never resent (it could act twice), so after a timeout the engineer
does not know whether the suspend happened. If it did, ThingSpace's callbacks will name the
device with a requestId nobody here submitted. This remembers what timed out, per device, for
an hour; the first such callback about one of those devices adopts its requestId, and the
request is tracked from then on like any other (the tracker re-reads the callbacks already
journaled for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2m_tui.ui.actions import Action

if TYPE_CHECKING:
    from m2m_tui.tracking.records import CallbackRow

#: How long after a timeout a callback about the same device is taken as its answer.
WATCH_SECONDS = 3600.0


def device_keys(target_wire: Any) -> frozenset[str]:
    """``kind:id`` keys, the way the listener keys callbacks (a filter target has none)."""
    if not isinstance(target_wire, list):
        return frozenset()
    keys = set()
    for entry in target_wire:
        if isinstance(entry, dict) and entry.get("id") and entry.get("kind"):
            keys.add(f"{str(entry['kind']).strip().lower()}:{str(entry['id']).strip()}")
    return frozenset(keys)


@dataclass(frozen=True, slots=True)
class UnconfirmedRequest:
    action: Action
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


def callbacks_since(journal_path: Path, item: UnconfirmedRequest) -> list[CallbackRow]:
    """What already arrived about the device since the POST was sent (it can beat the timeout)."""
    from m2m_tui.desk.queries import callbacks_about

    return callbacks_about(journal_path, item.device_keys, item.sent_at)
