"""Devices by filter: account, group, plan, CustomField1-5; a table that pages as you scroll."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.api.models.devices import check_account_name
from m2m_tui.desk.actions import FilterTarget, RequestAction, listed_conflicts
from m2m_tui.ui.focus import focus_now, unless_typing
from m2m_tui.ui.screens.base import AppScreen
from m2m_tui.ui.screens.flow import ActionFlow
from m2m_tui.ui.widgets.device_card import when

if TYPE_CHECKING:
    from m2m_tui.api.models import Device
    from m2m_tui.api.paging import DevicePager
    from m2m_tui.ui.services import Services

TABLE_STATE_STYLES = {
    "active": "bold green",
    "suspend": "bold yellow",
    "deactive": "bold red",
    "pre-active": "bold cyan",
}
PAGE_SIZE = 50
FETCH_MARGIN = 10
FIELDS = (
    ("account", "Account"),
    ("group", "Group"),
    ("plan", "Plan"),
    ("cf1", "Custom1"),
    ("cf2", "Custom2"),
    ("cf3", "Custom3"),
    ("cf4", "Custom4"),
    ("cf5", "Custom5"),
)
ID_PREFERENCE = ("mdn", "imei", "iccid", "meid", "esn", "eid", "msisdn")


class PagedTable(DataTable[Any]):
    """A DataTable that says when it is scrolled near its end (mouse wheel included)."""

    class NearEnd(Message):
        pass

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value > old_value and new_value >= self.max_scroll_y - FETCH_MARGIN:
            self.post_message(self.NearEnd())


def main_identifier(device: Device) -> tuple[str, str] | None:
    for kind in ID_PREFERENCE:
        value = device.identifier(kind)
        if value:
            return kind, value
    return None


class FilterScreen(ActionFlow, AppScreen):
    AUTO_FOCUS = "#q-group"
    HELP_TITLE = "Devices by filter"
    HELP_TEXT = (
        "Fill any of group, plan and custom fields (the account is required), Enter searches. "
        "Actions apply to EVERY device the filter matches, not only the loaded rows."
    )
    BINDINGS = [
        Binding("escape", "back", "Back"),
        # First after Back: the stop key must be visible at 80 columns while listing.
        Binding("x", "stop_listing", "Stop listing", tooltip="Stop; the devices listed stay"),
        # Priority: "/" then text in one burst goes to the form (ui/focus.py).
        Binding("slash", "focus_form", "Edit", tooltip="Edit the filter", priority=True),
        Binding("a", "list_all", "List all", tooltip="List every matching device, page by page"),
        Binding(
            "s",
            "suspension_status",
            "Status",
            show=False,
            tooltip="Suspension status of every matching device (by callback)",
        ),
        Binding("S", "suspend", "Suspend all"),
        Binding("R", "restore", "Restore all"),
        Binding("D", "deactivate", "Deactivate all"),
        Binding("m", "more", "Load more", show=False),
        Binding("o", "app.open_last_request", "Open the last request submitted", show=False),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.target: FilterTarget | None = None
        self.devices: dict[str, tuple[str, str]] = {}
        #: How many listed devices are in each state (what the confirm warns about).
        self.states: Counter[str] = Counter()
        #: Pages the current search (by DeviceId, or by date added when pages carry none).
        self.pager: DevicePager | None = None
        self.more = False
        self.loading = False

    def compose_body(self) -> list[Widget]:
        cells: list[Widget] = []
        for key, label in FIELDS:
            cells.append(
                Horizontal(
                    Static(label, classes="label"),
                    Input(id=f"q-{key}", compact=True, max_length=50),
                    classes="cell",
                )
            )
        table = PagedTable(id="results", cursor_type="row", zebra_stripes=True)
        table.add_columns("Identifier", "State", "Plan", "Conn", "Last connection", "Groups")
        return [
            Grid(*cells, id="filter-form"),
            Static("", id="filter-count"),
            table,
        ]

    def on_mount(self) -> None:
        self.query_one("#q-account", Input).value = self.services.account or ""
        self.query_one("#q-group", Input).focus()
        self._count("Fill the filter, Enter searches (account + group, plan or custom fields).")

    def _count(self, text: str, style: str = "$text-muted") -> None:
        self.query_one("#filter-count", Static).update(Content.styled(text, style))

    def _value(self, key: str) -> str:
        return self.query_one(f"#q-{key}", Input).value.strip()

    def form_target(self) -> FilterTarget:
        account = self._value("account")
        if not account:
            raise ValueError("the account is required (e.g. 0000123456-00001)")
        try:  # here, not in the request model, whose pydantic error would show only its tail
            check_account_name(account)
        except ValueError:
            raise ValueError("account must look like 0000123456-00001") from None
        fields = tuple(
            (f"CustomField{i}", self._value(f"cf{i}")) for i in range(1, 6) if self._value(f"cf{i}")
        )
        target = FilterTarget(
            account, self._value("group") or None, self._value("plan") or None, fields
        )
        if not target.selects_devices:
            raise ValueError("give a group, a plan or a custom field")
        return target

    @on(Input.Submitted)
    def _search(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            target = self.form_target()
        except ValueError as exc:
            self._count(str(exc), "$error")
            return
        self.target = target
        self.devices.clear()
        self.states.clear()
        self.pager = None
        self.more = False
        self.query_one(DataTable).clear()
        self._count("searching…", "$accent")
        self.load_page()

    def _listing_text(self) -> str:
        pages = self.pager.pages if self.pager is not None else 0
        return f"listing… page {pages + 1} · {len(self.devices):,} devices so far (x stops)"

    @work(group="filter-page", exclusive=True, exit_on_error=False, description="device list")
    async def load_page(self, all_pages: bool = False) -> None:
        """The next page; with ``all_pages`` every page to the end, until ``x`` stops it."""
        from m2m_tui.api.errors import ThingSpaceError
        from m2m_tui.api.models import CustomField, DeviceListRequest
        from m2m_tui.api.paging import DevicePager

        target = self.target
        client = self.services.client
        if target is None or client is None:
            return
        self.loading = True
        self.refresh_bindings()
        try:
            if self.pager is None:
                request = DeviceListRequest(
                    accountName=target.account,
                    groupName=target.group,
                    servicePlan=target.plan,
                    customFields=[CustomField(key=k, value=v) for k, v in target.custom_fields]
                    or None,
                    maxNumberOfDevices=PAGE_SIZE,
                )
                self.pager = DevicePager(client.list_devices, request)
            while True:
                if all_pages or self.devices:
                    self._count(self._listing_text(), "$accent")
                devices = await self.pager.next_page()
                if not all_pages or not self.pager.more:
                    break
                self._listed(devices)
        except ThingSpaceError as exc:
            # PagingStalled among them: the rows so far stay, and the text says they are not all.
            self.more = self.pager is not None and self.pager.more
            self._count(f"{exc.message}: {exc.hint}", "$error")
            return
        except ValueError as exc:
            self._count(str(exc).splitlines()[-1], "$error")
            return
        finally:
            self.loading = False
            self.refresh_bindings()
        self._listed(devices)
        count = len(self.devices)
        if count == 0:
            self._count("no device matches", "$warning")
        elif self.more:
            self._count(f"{count:,} devices loaded, more as you scroll (m loads more)", "$accent")
        else:
            self._count(f"{count:,} devices", "bold")

    def _listed(self, devices: list[Device]) -> None:
        """A page arrived: its rows, and the target the actions apply to, say how many."""
        assert self.pager is not None and self.target is not None
        target = self.target
        self._add_rows(devices)
        self.more = self.pager.more
        self.target = FilterTarget(
            target.account,
            target.group,
            target.plan,
            target.custom_fields,
            loaded=len(self.devices),
            more=self.more,
        )
        self.refresh_bindings()

    def _add_rows(self, devices: list[Device]) -> None:
        table = self.query_one(DataTable)
        with self.app.batch_update():
            for device in devices:
                main = main_identifier(device)
                if main is None:
                    continue
                key = f"{main[0]}:{main[1]}"
                if key in self.devices:
                    continue
                self.devices[key] = (main[0], main[1])
                state = device.state or "?"
                self.states[state] += 1
                # Rich Text cells: a str cell would be parsed as markup.
                table.add_row(
                    Text(f"{main[0].upper()} {main[1]}"),
                    Text(state, style=TABLE_STATE_STYLES.get(state, "")),
                    Text(device.service_plan or "-"),
                    Text("yes" if device.connected else "no"),
                    Text(when(device.lastConnectionDate, times=self.services.times)),
                    Text(", ".join(device.groupNames)),
                    key=key,
                )
        if devices and table.row_count == len(devices) and not table.has_focus:
            table.focus()

    @on(DataTable.RowHighlighted, "#results")
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if self.more and not self.loading and event.cursor_row >= table.row_count - FETCH_MARGIN:
            self.load_page()

    @on(PagedTable.NearEnd)
    def _scrolled_near_end(self) -> None:
        if self.more and not self.loading:
            self.load_page()

    @on(DataTable.RowSelected, "#results")
    def _open(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is None or key not in self.devices:
            return
        kind, value = self.devices[key]
        account = self.target.account if self.target else None
        self.app.pop_screen()
        from m2m_tui.ui.screens.devices import DevicesScreen

        screen = self.app.screen
        if isinstance(screen, DevicesScreen):
            screen.query_one("#lookup").value = value  # type: ignore[attr-defined]
            screen.lookup(DeviceKind.parse(kind), value, account)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("suspension_status", "suspend", "restore", "deactivate"):
            if self.target is None or not self.devices:
                return None
            if action != "suspension_status" and self.services.read_only:
                return False  # never possible this session: not offered in the footer
        if action == "more" and not self.more:
            return None
        if action == "list_all":
            return self.more and not self.loading  # hidden when there is nothing more
        if action == "stop_listing":
            return self.loading  # shown in the footer only while pages are being listed
        return True

    def confirm_notes(self, action: RequestAction) -> list[str]:
        note = listed_conflicts(action, self.states)
        return [] if note is None else [note]

    def _act(self, action: RequestAction) -> None:
        if self.target is None:
            self.notify("search first", severity="warning")
            return
        self.start_action(action, self.target)

    def action_suspension_status(self) -> None:
        self._act(RequestAction.SUSPENSION_STATUS)

    def action_suspend(self) -> None:
        self._act(RequestAction.SUSPEND)

    def action_restore(self) -> None:
        self._act(RequestAction.RESTORE)

    def action_deactivate(self) -> None:
        self._act(RequestAction.DEACTIVATE)

    def action_more(self) -> None:
        if self.more and not self.loading:
            self.load_page()

    def action_list_all(self) -> None:
        if self.more:
            self.load_page(all_pages=True)

    def action_stop_listing(self) -> None:
        """Stop listing; the rows listed stay, and ``m``/``a`` go on from where it stopped."""
        if not self.loading:
            return
        self.workers.cancel_group(self, "filter-page")
        self.loading = False
        self.more = self.pager.more if self.pager is not None else False
        pages = self.pager.pages if self.pager is not None else 0
        self._count(
            f"stopped at page {pages} · {len(self.devices):,} devices listed, kept"
            + (" (m or a lists more)" if self.more else ""),
            "$warning",
        )
        self.refresh_bindings()

    def action_focus_form(self) -> None:
        unless_typing(self)
        focus_now(self.query_one("#q-group", Input))

    def action_back(self) -> None:
        self.app.pop_screen()
