"""The device screen's picture: fetch every section in parallel, paint each as it lands.

A mixin of :class:`~m2m_tui.ui.screens.devices.DevicesScreen` (kept apart for size): the
lookup worker calls ``_fetch_picture``; the behaviour (what to fetch, the rules, the text) is
in :mod:`m2m_tui.desk`. Also the ticket summary (``m``) and raw JSON (``j``) of the picture,
and the diagnosis again once a suspension status arrives for the device shown (R2).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from m2m_tui.api.errors import ThingSpaceError
from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.desk.actions import DeviceTarget, device_target
from m2m_tui.desk.device_picture import SECTIONS
from m2m_tui.ui.host import host
from m2m_tui.ui.screens.base import AppScreen
from m2m_tui.ui.widgets.device_card import DeviceCard
from m2m_tui.ui.widgets.footer import SteadyFooter
from m2m_tui.ui.widgets.identifier import IdentifierInput

if TYPE_CHECKING:
    from m2m_tui.api.models import Device
    from m2m_tui.api.models.callbacks import SuspensionStatus
    from m2m_tui.desk.device_picture import DevicePicture, Section
    from m2m_tui.desk.diagnosis import Diagnosis

#: Kinds every history call accepts: typed as one of these, the histories start with the lookup.
HISTORY_KINDS = (DeviceKind.MDN, DeviceKind.ICCID, DeviceKind.IMEI)
#: Longest the footer waits, once the device is in, for the rest of its picture to be painted.
FOOTER_HOLD = 0.3
#: Longest the device's card waits for the answers asked with it, to paint them in one frame.
PAINT_WINDOW = 0.05


class PaintWindow:
    """Repaints held back (a Textual batch) for at most ``seconds``, or until ``close()``.

    The device's answer and its histories' are asked at the same moment and land within
    milliseconds of each other; a frame painted for the device alone (a relayout of the
    screen, the card's focus) made every other answer wait for it before its own frame.
    """

    def __init__(self, screen: AppScreen) -> None:
        self.screen = screen
        self._batch = ExitStack()
        self._open = False

    def open(self, seconds: float) -> None:
        if self._open:
            return
        self._open = True
        self._batch.enter_context(self.screen.app.batch_update())
        self.screen.app.set_timer(seconds, self.close)  # the app outlives the screen

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        self._batch.close()
        self.screen.check_idle()  # the screen paints what was held


class PictureLookup(AppScreen):
    """What the devices screen shows about one device beyond its card fields."""

    BINDINGS = [
        Binding(
            "t",
            "ticket_facts",
            "What the ticket says (IMEI, last report)",
            show=False,
            tooltip="The IMEI on the ticket and when the device last reported: R6, R8, R11",
        ),
    ]

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

        footer = self.query_one(SteadyFooter)
        window = PaintWindow(self)

        def landed(section: Section[Any]) -> None:
            setattr(shown, section.name, section)
            if card.picture is not shown:
                return  # the user moved on
            complete = all(getattr(shown, name).done for name in SECTIONS)
            if section.name == "device" and not complete:
                # The other answers were asked at the same moment and are due now: paint
                # them in the device's frame, and the footer (the device's keys, once focus
                # moves to the card) after them.
                window.open(PAINT_WINDOW)
                footer.hold(FOOTER_HOLD)
            if section.name == "device":
                self._device_landed(shown, kind, value, account, quiet=quiet)
            card.section_landed(shown, section)
            if complete:
                diagnosis = self._diagnose(shown)
                card.show_diagnosis(shown, diagnosis)
                window.close()
                footer.release()
                # Shelved (and journaled) once the frame that shows it is painted.
                card.call_after_refresh(self.services.desk.pictures.keep, shown, diagnosis)

        try:
            await fetch_picture(
                DiagnosticsReads(client),
                account,
                device_id,
                kind_certain=kind in HISTORY_KINDS,
                now=now,
                on_section=landed,
            )
        finally:
            window.close()
            footer.release()
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

    def _diagnose(self, picture: DevicePicture) -> Diagnosis:
        """The rules on the picture, the last suspension status of the device, and what its
        ticket says (``t``)."""
        from m2m_tui.desk.picture_shelf import picture_identity

        ticket = self.services.desk.pictures.tickets.find(picture_identity(picture))
        return picture.diagnosis(
            suspension=self._suspension_for(self.target), **ticket.diagnosis_args()
        )

    def _rediagnose(self) -> None:
        """A suspension status arrived for the shown device (R2), or the engineer said what its
        ticket says (R6, R8, R11): the diagnosis can say more."""
        card = self.query_one(DeviceCard)
        picture = card.picture
        if picture is None or card.diagnosis is None:
            return  # the picture still loading will use it when complete
        diagnosis = self._diagnose(picture)
        card.show_diagnosis(picture, diagnosis)
        self.services.desk.pictures.keep(picture, diagnosis)

    def action_ticket_facts(self) -> None:
        """``t``: the IMEI on the ticket and the device's last report, for the diagnosis."""
        from datetime import UTC, datetime

        from m2m_tui.desk.picture_shelf import picture_identity
        from m2m_tui.desk.ticket import TicketFacts
        from m2m_tui.ui.screens.ticket_dialog import TicketDialog

        card = self.query_one(DeviceCard)
        picture = card.picture
        if picture is None or card.diagnosis is None:
            self.notify("no complete device picture yet (look one up with /)", severity="warning")
            return
        shown = picture
        tickets = self.services.desk.pictures.tickets
        identity = picture_identity(picture)
        now = datetime.fromtimestamp(self.services.clock(), UTC)
        label = f"{picture.identifier.kind.value.upper()} {picture.identifier.id}"

        def stated(facts: TicketFacts | None) -> None:
            if facts is None:
                return
            tickets.state(identity, facts)
            if card.picture is shown:
                self._rediagnose()

        dialog = TicketDialog(label, tickets.find(identity), now, self.services.times)
        self.app.push_screen(dialog, stated)

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
