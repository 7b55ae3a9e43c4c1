"""The last picture of each device looked up this session, found again by any identifier.

The journal keeps requests and callbacks, not the histories: the picture lives here, in
memory, so the request detail of a request about the device can show its histories as raw
JSON and add them to the ticket summary and the Markdown export. Its diagnosis is also
journaled (``on_keep``, the desk), so ``m2m-tui export`` in another process has it too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from m2m_tui.desk.ticket import TicketBook

if TYPE_CHECKING:  # the desk is built at start-up, before pydantic and httpx may be imported
    from m2m_tui.desk.device_picture import DevicePicture
    from m2m_tui.desk.diagnosis import Diagnosis


@dataclass(frozen=True)
class ShelvedPicture:
    picture: DevicePicture
    diagnosis: Diagnosis

    @property
    def identity(self) -> frozenset[str]:
        return picture_identity(self.picture)


def picture_identity(picture: DevicePicture) -> frozenset[str]:
    """``kind:id`` keys of the identifier typed and every one the device reported."""
    from m2m_tui.tracking.records import device_key  # (the desk is built before 1st frame)

    typed = picture.identifier
    keys = {device_key(typed.kind.value, typed.id)}
    device = picture.device.value
    if device is not None:
        keys.update(device_key(d.kind, d.id) for d in device.deviceIds if d.kind and d.id)
    return frozenset(keys)


class PictureShelf:
    """At most ``size`` pictures, the newest kept; a newer picture of a device replaces its last."""

    def __init__(
        self, size: int = 20, on_keep: Callable[[ShelvedPicture], None] | None = None
    ) -> None:
        self.size = size
        #: Told of every picture kept (the desk journals its diagnosis for the export).
        self.on_keep = on_keep
        self._items: OrderedDict[frozenset[str], ShelvedPicture] = OrderedDict()
        #: What each device's ticket says, as the engineer stated it (R6, R8, R11).
        self.tickets = TicketBook()

    def keep(self, picture: DevicePicture, diagnosis: Diagnosis) -> None:
        shelved = ShelvedPicture(picture, diagnosis)
        for key in [k for k in self._items if not k.isdisjoint(shelved.identity)]:
            del self._items[key]
        self._items[shelved.identity] = shelved
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        if self.on_keep is not None:
            self.on_keep(shelved)

    def find(self, keys: Iterable[str]) -> ShelvedPicture | None:
        """The newest picture of the device with any of these ``kind:id`` keys."""
        wanted = frozenset(keys)
        for identity in reversed(self._items):
            if not identity.isdisjoint(wanted):
                return self._items[identity]
        return None

    def for_target(self, target: Any) -> ShelvedPicture | None:
        """The picture of a single-device request target (``{"devices": [{id, kind}]}`` or the
        bare list), if any."""
        if isinstance(target, dict):
            target = target.get("devices")
        if not isinstance(target, list) or len(target) != 1 or not isinstance(target[0], dict):
            return None
        kind, value = target[0].get("kind"), target[0].get("id")
        if not isinstance(kind, str) or not isinstance(value, str):
            return None
        from m2m_tui.tracking.records import device_key

        return self.find([device_key(kind, value)])
