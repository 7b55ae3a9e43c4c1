"""Find a device by any identifier, read its card, act on it.

The identifier input recognises the kind as you type; Enter looks the device up with a
single-device device list call. Actions on the shown device go through the shared flow in
:mod:`m2m_tui.ui.screens.flow` (parameters, confirm, submit, hand to the tracker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget

from m2m_tui.api.errors import ThingSpaceError
from m2m_tui.api.identifiers import DeviceKind, KindGuess
from m2m_tui.desk.actions import DeviceTarget, RequestAction, device_target, state_conflict
from m2m_tui.ui.focus import focus_now, unless_typing
from m2m_tui.ui.host import host
from m2m_tui.ui.messages import RequestFinished, RequestSubmitted
from m2m_tui.ui.screens.device_picture import PictureLookup
from m2m_tui.ui.screens.flow import ActionFlow
from m2m_tui.ui.widgets.device_card import DeviceCard, device_summary, summary_text
from m2m_tui.ui.widgets.identifier import IdentifierInput

if TYPE_CHECKING:
    from m2m_tui.api.models import Device
    from m2m_tui.api.models.callbacks import SuspensionStatus
    from m2m_tui.desk.device_picture import DevicePicture
    from m2m_tui.tracking.records import DeviceRow
    from m2m_tui.ui.services import Services

STATE_ACTIONS = {"suspend", "restore", "activate", "deactivate"}


class DevicesScreen(ActionFlow, PictureLookup):
    AUTO_FOCUS = "#identifier"
    REFRESH_AFTER_SUBMIT = 2.0
    """Seconds before the card is read again after a state change was submitted."""
    HELP_TITLE = "Devices"
    HELP_TEXT = (
        "Paste any identifier and press Enter. Keys act on the device shown; "
        "capital letters change its state and always ask first."
    )
    BINDINGS = [
        Binding(
            "slash",
            "focus_identifier",
            "Find",
            tooltip="Type or paste another identifier",
            priority=True,  # "/" then an identifier in one burst: ui/focus.py
        ),
        Binding("escape", "focus_card", "Leave the input (keys work again)", show=False),
        Binding("h", "recent", "Recent", show=False),
        Binding("f", "filter", "Filter", show=False),
        Binding(
            "s",
            "suspension_status",
            "Status",
            show=False,
            tooltip="Suspension status (the answer comes by callback)",
        ),
        Binding("S", "suspend", "Suspend"),
        Binding("R", "restore", "Restore"),
        Binding("A", "activate", "Activate"),
        Binding("D", "deactivate", "Deactivate"),
        Binding("g", "requests", "Reqs", show=False, tooltip="Requests submitted this session"),
        Binding("i", "inbox", "Inbox", show=False, tooltip="Every callback received"),
        Binding(
            "u",
            "registration",
            "Cb URLs",
            show=False,
            tooltip="Callback registration of the account",
        ),
        Binding("y", "app.copy_last_request", "Copy request id", show=False),
        Binding("o", "app.open_last_request", "Open the last request submitted", show=False),
        Binding("c", "copy_summary", "Copy device summary", show=False),
        Binding(
            "m",
            "copy_ticket",
            "Ticket",
            show=False,
            tooltip="Copy a Markdown ticket summary with the diagnosis",
        ),
        Binding("j", "picture_json", "Raw JSON of the card and its histories", show=False),
        Binding("L", "logout", "Log out", show=False),
        # Priority, so a burst of digits typed on the card is read in order (ui/focus.py);
        # in the identifier the digits are typed as usual (SkipAction).
        Binding(
            "1", "open_recent(1)", "Open recent device 1-9 (when listed)", show=False, priority=True
        ),
        *(Binding(str(i), f"open_recent({i})", show=False, priority=True) for i in range(2, 10)),
        Binding("0", "open_recent(0)", show=False, priority=True),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.device: Device | None = None
        self.target: DeviceTarget | None = None
        self.recent_rows: list[DeviceRow] = []
        #: The card lists recent (or demo) devices, so 1-9 open one; otherwise digits type.
        self.listing_recent = False
        #: What the identifier held when Enter was last pressed: "/" then starts afresh.
        self.entered: str | None = None
        self.demo_rows: list[DeviceRow] = []
        self.picture: DevicePicture | None = None
        self.suspension: tuple[DeviceTarget, SuspensionStatus] | None = None
        """The last suspension status received this session, and the device it is about."""

    def compose_body(self) -> list[Widget]:
        return [IdentifierInput(id="lookup"), DeviceCard(id="card", times=self.services.times)]

    def on_mount(self) -> None:
        self.query_one(IdentifierInput).input.focus()
        self.load_recent()

    # ------------------------------------------------------------------ recent devices

    @work(group="recent", exclusive=True, exit_on_error=False, description="recent devices")
    async def load_recent(self) -> None:
        self.recent_rows = await self.services.recent.recent(9)
        # Not over a lookup already on its way: the list read late used to replace the card,
        # and the lookup's answer then had no card to land on (seen as a flaky test).
        if self.device is None and self.query_one(DeviceCard).picture is None:
            self._show_recent()

    def _show_recent(self) -> None:
        card = self.query_one(DeviceCard)
        rows, title = self.recent_rows, "Recent devices (Esc, then 1-9 opens one):"
        if not rows and self.services.demo_services is not None:
            from m2m_tui.desk.demo import demo_device_rows

            rows = self.demo_rows = demo_device_rows()
            title = f"Demo devices to try (type one above, or Esc then 1-{len(rows)}):"
        if not rows:
            card.show_text(
                Content.styled(
                    "No device yet. Paste an identifier above and press Enter.\n"
                    "Devices you look up are remembered here (1-9 opens one).",
                    "$text-muted",
                )
            )
            return
        self.listing_recent = True
        lines = [Content.styled(title, "bold")]
        width = max(22, *(len(row.device_id) for row in rows))
        for number, row in enumerate(rows, start=1):
            summary = row.summary if isinstance(row.summary, dict) else {}
            state = str(summary.get("state") or "")
            lines.append(
                Content.assemble(
                    (f" {number} ", "bold $accent"),
                    (f"{row.kind.upper():<6} {row.device_id:<{width}}", "bold"),
                    (f" {state:<10}", "$text-muted"),
                    (f" {row.account}", "$text-muted"),
                )
            )
        card.show_text(Content("\n").join(lines))

    def action_recent(self) -> None:
        from m2m_tui.ui.screens.dialogs import PickDialog

        items = [
            (f"{row.kind.upper():<6} {row.device_id}  {row.account}", row)
            for row in self.recent_rows
        ]

        def picked(row: Any) -> None:
            if row is not None:
                self._open_row(row)

        self.app.push_screen(
            PickDialog("Recent devices", items, "No device looked up yet."), picked
        )

    def action_open_recent(self, number: int) -> None:
        unless_typing(self)
        rows = self.recent_rows or (self.demo_rows if self.device is None else [])
        if self.listing_recent and 0 < number <= len(rows):
            self._open_row(rows[number - 1])
            return
        # No list on the card, or no such line in it: the digit starts an identifier typed
        # without "/" first (walks typed identifiers so and opened devices they did not ask
        # for: on a card, every digit; on a one-line list, the first "1" of the identifier).
        self._type_identifier(str(number))

    def _type_identifier(self, digit: str) -> None:
        """Start a new identifier with ``digit``, typed into the input as the keys after it
        will be (queued behind its focus event, so select-on-focus cannot swallow it)."""
        field = self.query_one(IdentifierInput).input
        field.value = ""
        focus_now(field)
        field.post_message(events.Key(digit, digit))

    def _open_row(self, row: DeviceRow) -> None:
        try:
            kind = DeviceKind.parse(row.kind)
        except ValueError:
            self.notify(f"cannot look up kind {row.kind}", severity="warning", markup=False)
            return
        self.query_one(IdentifierInput).value = row.device_id
        self.lookup(kind, row.device_id, row.account or None)

    # ------------------------------------------------------------------ lookup

    def action_focus_identifier(self) -> None:
        field = self.query_one(IdentifierInput).input
        if field.has_focus and field.value != self.entered:
            return  # typing one: "/" is never typed into an identifier, and changes nothing
        focus_now(field)
        # Selected, so the next identifier replaces the one entered (also after a lookup
        # error: the walk saw "/5559999999" appended to a rejected "12345").
        field.select_all()

    def action_focus_card(self) -> None:
        self.query_one(DeviceCard).focus()

    @on(IdentifierInput.Lookup)
    def _lookup_requested(self, event: IdentifierInput.Lookup) -> None:
        guess: KindGuess = event.guess
        widget = self.query_one(IdentifierInput)
        self.entered = widget.input.value
        if guess.problem or not guess.candidates:
            widget.show_problem(guess.problem or "type or paste an identifier")
            self.app.bell()
            return
        if guess.kind is not None:
            self.lookup(guess.kind, guess.value)
            return
        from m2m_tui.ui.screens.dialogs import KindChoiceDialog

        def chosen(kind: DeviceKind | None) -> None:
            if kind is not None:
                self.lookup(kind, guess.value)
            else:
                widget.input.focus()

        self.app.push_screen(KindChoiceDialog(guess.value, guess.candidates), chosen)

    def lookup(self, kind: DeviceKind, value: str, account: str | None = None) -> None:
        self.listing_recent = False
        self.query_one(IdentifierInput).show_note(f"looking up {kind.value.upper()} {value}…")
        self._lookup(kind, value, account or self.services.account)

    def refresh_device(self, target: DeviceTarget) -> None:
        """Read the shown device again, quietly: no focus change, no note, no recents.

        Skipped when the user has moved on to another device (or is typing one), so a late
        refresh never swaps the card back under them.
        """
        if self.target != target or self.query_one(IdentifierInput).input.has_focus:
            return
        if any(w.group == "lookup" and w.is_running for w in self.workers):
            return  # a lookup the user asked for is on its way; never cancel it
        self._lookup(DeviceKind.parse(target.kind), target.id, target.account, quiet=True)

    @work(group="lookup", exclusive=True, exit_on_error=False, description="device lookup")
    async def _lookup(
        self, kind: DeviceKind, value: str, account: str | None, *, quiet: bool = False
    ) -> None:
        from m2m_tui.api.models import DeviceId

        client = self.services.client
        widget = self.query_one(IdentifierInput)
        if client is None:
            widget.show_problem("not logged in")
            return
        try:
            device_id = DeviceId(id=value, kind=kind)
        except ValueError as exc:
            widget.show_problem(str(exc).splitlines()[-1])
            return
        if not account:
            await self._lookup_card_only(device_id, quiet=quiet)
            return
        picture = await self._fetch_picture(device_id, account, quiet=quiet)
        device = picture.device.value
        if device is None or quiet:
            return
        widget.show_note(f"{kind.value.upper()} {value}: found (/ for another)")
        label = f"{kind.value.upper()} {value}"
        self._remember(device.accountName or account, kind.value, value, label, device)

    @work(group="remember", exit_on_error=False, description="remember the lookup")
    async def _remember(
        self, account: str, kind: str, value: str, label: str, device: Device
    ) -> None:
        """Journal the lookup for the recent list, apart from the lookup: with a team's
        database down this waits for its connect timeout, and the lookup is done already."""
        await self.services.recent.remember(account, kind, value, label, device_summary(device))
        self.recent_rows = await self.services.recent.recent(9)

    async def _lookup_card_only(self, device_id: Any, *, quiet: bool) -> None:
        """No account known: the device list across accounts, the card fields only."""

        widget = self.query_one(IdentifierInput)
        try:
            device = await self._lookup_any_account(device_id)
        except ThingSpaceError as exc:
            widget.show_problem(f"{exc.message} - {exc.hint}")
            self.app.bell()
            return
        kind, value = device_id.kind, device_id.id
        self.query_one(DeviceCard).drop_picture()
        self.show_device(device, device_target(device, kind.value, value, None), focus=not quiet)
        if not quiet:
            widget.show_note(f"{kind.value.upper()} {value}: found (/ for another)")

    async def _lookup_any_account(self, device_id: Any) -> Device:
        from m2m_tui.api.errors import NotFoundError
        from m2m_tui.api.models import DeviceListRequest

        client = self.services.client
        assert client is not None
        page = await client.list_devices(DeviceListRequest(deviceId=device_id))
        if not page.devices:
            raise NotFoundError(f"no device {device_id}", status=200)
        return page.devices[0]

    def show_device(self, device: Device, target: DeviceTarget, *, focus: bool = True) -> None:
        card = self.query_one(DeviceCard)
        if target != self.target:
            card.clear_outcome()  # the last answer was about another device
        self.device = device
        self.target = target
        card.show(device, self.services.clock())
        if focus:
            card.focus()
        self.refresh_bindings()

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STATE_ACTIONS or action == "suspension_status":
            if self.target is None:
                return None
            if action in STATE_ACTIONS and self.services.read_only:
                return False  # never possible this session: not offered in the footer
            if action in STATE_ACTIONS and self.state_conflict(RequestAction(action)):
                return None  # dim: pressing it says why (ActionFlow.on_key)
        return True

    def state_conflict(self, action: RequestAction) -> str | None:
        if self.device is None:
            return "no device on the card: look one up first (/ then its identifier)"
        conflict = state_conflict(action, self.device.state)
        if conflict is None:
            return None
        return f"{conflict} (as the card read it; / and Enter reads the line again)"

    def action_suspension_status(self) -> None:
        self._act(RequestAction.SUSPENSION_STATUS)

    def action_suspend(self) -> None:
        self._act(RequestAction.SUSPEND)

    def action_restore(self) -> None:
        self._act(RequestAction.RESTORE)

    def action_activate(self) -> None:
        self._act(RequestAction.ACTIVATE)

    def action_deactivate(self) -> None:
        self._act(RequestAction.DEACTIVATE)

    def _act(self, action: RequestAction) -> None:
        if self.target is None:
            self.notify("look a device up first (/)", severity="warning")
            return
        plans = [self.device.service_plan or ""] if self.device else []
        self.start_action(action, self.target, plans=plans)

    def after_submit(self, action: RequestAction) -> None:
        if self.target is not None and action.changes_state:
            # The card is now stale: look the device up again shortly.
            target = self.target
            self.set_timer(self.REFRESH_AFTER_SUBMIT, lambda: self.refresh_device(target))

    def on_request_submitted(self, message: RequestSubmitted) -> None:
        self.refresh_bindings()

    def on_request_finished(self, message: RequestFinished) -> None:
        """A request about the shown device finished: show what it said, and the new state."""
        request, target = message.request, self.target
        if target is None or not request.concerns(target.identity):
            return  # about another device (the same device by any identifier counts)
        if request.action.changes_state:
            self.refresh_device(target)
        self._show_outcome(request.request_id, target)

    @work(group="outcome", exclusive=True, exit_on_error=False, description="request outcome")
    async def _show_outcome(self, request_id: str, target: DeviceTarget) -> None:
        """The suspension panel (or the failure) of the request, above the device's fields."""
        from m2m_tui.desk.picture_text import suspension_from
        from m2m_tui.ui.widgets.suspension_panel import outcome_panels

        data = await self.services.queries.request_detail(request_id)
        if self.target != target:
            return  # the user moved on while the journal was read
        card = self.query_one(DeviceCard)
        card.show_outcome(outcome_panels(data.outcomes, self.services.times))
        for outcome in data.outcomes:
            status = suspension_from(outcome.suspension_items())
            if status is not None:
                self.suspension = (target, status)
                self._rediagnose()

    # ------------------------------------------------------------------ other keys

    def action_filter(self) -> None:
        from m2m_tui.ui.screens.filter import FilterScreen

        self.app.push_screen(FilterScreen(self.services))

    def action_requests(self) -> None:
        from m2m_tui.ui.screens.requests import RequestsScreen

        self.app.push_screen(RequestsScreen(self.services))

    async def action_inbox(self) -> None:
        await self.app.run_action("inbox")

    async def action_registration(self) -> None:
        await self.app.run_action("registration")

    def action_copy_summary(self) -> None:
        if self.device is None:
            self.notify("no device shown", severity="warning")
            return
        host(self).copy_text(summary_text(self.device, self.services.times), "device summary")

    async def action_logout(self) -> None:
        await host(self).end_session()
        self.app.pop_screen()
