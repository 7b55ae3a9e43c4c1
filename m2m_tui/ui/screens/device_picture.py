"""The device screen's picture: fetch every section in parallel, paint each as it lands.

A mixin of :class:`~m2m_tui.ui.screens.devices.DevicesScreen` (kept apart for size): the
lookup worker calls ``_fetch_picture``; the behaviour (what to fetch, the rules, the text) is
in :mod:`m2m_tui.desk`. Also the ticket summary (``m``) and raw JSON (``j``) of the picture,
and the diagnosis again once a suspension status arrives for the device shown (R2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from m2m_tui.api.errors import ThingSpaceError
from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.desk.actions import DeviceTarget, device_target
from m2m_tui.desk.device_picture import SECTIONS
from m2m_tui.ui.host import host
from m2m_tui.ui.screens.base import AppScreen
from m2m_tui.ui.widgets.device_card import DeviceCard
from m2m_tui.ui.widgets.identifier import IdentifierInput

if TYPE_CHECKING:
    from m2m_tui.api.models import Device
    from m2m_tui.api.models.callbacks import SuspensionStatus
    from m2m_tui.desk.device_picture import DevicePicture, Section

#: Kinds every history call accepts: typed as one of these, the histories start with the lookup.
HISTORY_KINDS = (DeviceKind.MDN, DeviceKind.ICCID, DeviceKind.IMEI)


class PictureLookup(AppScreen):
    """What the devices screen shows about one device beyond its card fields."""

    device: Device | None
    target: DeviceTarget | None
    picture: DevicePicture | None
    suspension: tuple[DeviceTarget, SuspensionStatus] | None

    def show_device(self, device: Device, target: DeviceTarget, *, focus: bool = True) -> None:
        raise NotImplementedError

    async def _fetch_picture(self, device_id: Any, account: str, *, quiet: bool) -> DevicePicture:
        """The whole picture in parallel (desk.device_picture); each section is painted as it
        lands, the diagnosis once every section has an answer or an error."""
        from datetime import UTC, datetime, timedelta

        from m2m_tui.api.history import DiagnosticsReads
        from m2m_tui.desk.device_picture import CONNECTION_DAYS, DevicePicture, fetch_picture

        client = self.services.client
        assert client is not None
        card = self.query_one(DeviceCard)
        now = datetime.fromtimestamp(self.services.clock(), UTC)
        shown = DevicePicture(
            account=account,
            identifier=device_id,
            now=now,
            connections_since=now - timedelta(days=CONNECTION_DAYS),
        )
        kind, value = device_id.kind, device_id.id
        card.begin_picture(shown, keep_device=quiet)
        self.picture = shown

        def landed(section: Section[Any]) -> None:
            setattr(shown, section.name, section)
            if card.picture is not shown:
                return  # the user moved on
            if section.name == "device":
                self._device_landed(shown, kind, value, account, quiet=quiet)
            card.section_landed(shown, section)
            if all(getattr(shown, name).done for name in SECTIONS):
                diagnosis = shown.diagnosis(suspension=self._suspension_for(self.target))
                card.show_diagnosis(shown, diagnosis)
                self.services.desk.pictures.keep(shown, diagnosis)

        await fetch_picture(
            DiagnosticsReads(client),
            account,
            device_id,
            kind_certain=kind in HISTORY_KINDS,
            now=now,
            on_section=landed,
        )
        return shown

    def _device_landed(
        self, picture: DevicePicture, kind: DeviceKind, value: str, account: str, *, quiet: bool
    ) -> None:
        device, error = picture.device.value, picture.device.error
        widget = self.query_one(IdentifierInput)
        if device is None:
            text = (
                f"{error.message} - {error.hint}"
                if isinstance(error, ThingSpaceError)
                else (picture.device.error_text or "no answer")
            )
            if quiet:
                self.notify(f"could not refresh the card: {text}", severity="warning", markup=False)
                return
            widget.show_problem(text)
            self.app.bell()
            self.device = self.target = None  # nothing to act on: the card shows no device
            self.refresh_bindings()
            return
        target = device_target(device, kind.value, value, account)
        if quiet and self.target != target:
            return
        self.show_device(device, target, focus=not quiet)

    def _rediagnose(self) -> None:
        """A suspension status arrived for the shown device: the diagnosis can say more (R2)."""
        card = self.query_one(DeviceCard)
        picture = card.picture
        if picture is None or card.diagnosis is None:
            return  # the picture still loading will use it when complete
        diagnosis = picture.diagnosis(suspension=self._suspension_for(self.target))
        card.show_diagnosis(picture, diagnosis)
        self.services.desk.pictures.keep(picture, diagnosis)

    def _suspension_for(self, target: DeviceTarget | None) -> SuspensionStatus | None:
        if self.suspension is None or target is None:
            return None
        known, status = self.suspension
        return status if not known.identity.isdisjoint(target.identity) else None

    def action_copy_ticket(self) -> None:
        from m2m_tui.desk.picture_text import picture_markdown

        card = self.query_one(DeviceCard)
        picture, diagnosis = card.picture, card.diagnosis
        if picture is None or diagnosis is None:
            self.notify("no complete device picture yet (look one up with /)", severity="warning")
            return
        host(self).copy_text(picture_markdown(picture, diagnosis), "ticket summary")

    def action_picture_json(self) -> None:
        from m2m_tui.desk.picture_text import picture_json
        from m2m_tui.ui.screens.request_dialogs import RawJsonScreen

        picture = self.query_one(DeviceCard).picture
        if picture is None:
            self.notify("no device shown", severity="warning")
            return
        title = (
            f"{picture.identifier.kind.value.upper()} {picture.identifier.id}: card and histories"
        )
        self.app.push_screen(RawJsonScreen(title, picture_json(picture)))
