"""Tracked requests, this session's and earlier ones, newest first, with live state.

The rows come from the journal through the desk's queries, a page at a time (an indexed
``LIMIT/OFFSET`` query, in a thread), and the table keeps a window of at most :data:`WINDOW`
rows: a journal of 10,000 requests opens as fast as an empty one. The tracker's live state is merged in for requests
it holds in memory, and each coalesced :class:`TrackingUpdate` changes only the cells of the
requests it names (inside ``batch_update``): a burst of callbacks costs a few repaints, and the
table is never cleared and rebuilt for an update. Sorting reorders the loaded window.
``m`` narrows to the requests submitted from this ``user@host`` ("mine") and back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import CellDoesNotExist

from m2m_tui.desk.queries import RequestsPage, RequestsQuery
from m2m_tui.tracking.records import RequestState
from m2m_tui.ui.focus import focus_now, unless_typing
from m2m_tui.ui.host import host
from m2m_tui.ui.messages import RequestSubmitted
from m2m_tui.ui.screens.base import AppScreen
from m2m_tui.ui.tracking_link import TrackingUpdate
from m2m_tui.ui.widgets.request_progress import RequestProgress
from m2m_tui.ui.widgets.request_rows import (
    ACTION_LABELS,
    SORTS,
    STATE_FILTERS,
    STATE_STYLE,
    Layout,
    RequestView,
    advice,
    age_text,
    by_text,
    matches,
    results_text,
    sort_value,
    state_text,
    target_text,
    view_of_submitted,
    view_of_summary,
    view_of_tracked,
)
from m2m_tui.ui.widgets.request_table import GapText, IdText, RequestTable

if TYPE_CHECKING:
    from m2m_tui.ui.services import Services

PAGE = 200
#: The first page only needs to fill a screen (and a little scrolling): fewer rows to add
#: means the view shows sooner, whatever the journal's size; the rest pages in on demand.
FIRST_PAGE = 60
#: Rows the live table holds at most (a DataTable change costs a pass over its rows).
WINDOW = 2000
#: Ages are shown in seconds below a minute: redrawn each second, or "4s" stays for 15 s.
AGE_REFRESH = 1.0


class RequestsScreen(AppScreen):
    CSS_PATH = "requests.tcss"
    HELP_TITLE = "Requests"
    HELP_TEXT = (
        "Tracked requests from the journal, this session's and earlier ones, updated live. "
        "Enter opens one: its timeline, per-device results, raw JSON, copy and export."
    )
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Open", tooltip="Open the request: timeline, results, JSON"),
        Binding("y", "copy", "Copy id", tooltip="Copy the highlighted request id (OSC 52)"),
        Binding(
            "slash",
            "find",
            "Find",
            tooltip="Filter by text: id, account, action, device",
            priority=True,  # "/" then text in one burst: ui/focus.py
        ),
        Binding("f", "cycle_state", "State", tooltip="Filter by state (cycles)"),
        Binding("o", "cycle_sort", "Sort", tooltip="Sort: newest, oldest, state, results, ..."),
        Binding("m", "toggle_mine", "Mine", tooltip="Only my requests (this user@host), or all"),
        # Rows update live; kept from the first version for a journal another program wrote.
        Binding("r", "reload", "Reload", tooltip="Read the journal again", show=False),
        # As on the device screen: a request's callbacks are the next thing one looks for.
        Binding("i", "inbox", "Inbox", show=False, tooltip="Every callback received"),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._views: dict[str, RequestView] = {}
        self._state_index = 0
        self._sort_index = 0
        self._generation = 0
        self._journal_loaded = 0
        self._total = 0
        self._loading = False
        self._error: str | None = None
        self._layout = Layout()
        #: Narrowed to this user@host's requests ("mine"), or everyone's.
        self._mine = False
        self._text_timer: Timer | None = None
        #: Pages shown so far (tests and bench/journal_growth.py wait on it).
        self.pages_shown = 0

    # ------------------------------------------------------------------ layout

    def shows_request(self, request_id: str) -> bool:
        return True  # every request of the session has a live row here

    def compose_body(self) -> list[Widget]:
        # No padding: each column's width holds its one-space gap (a column more at 80).
        table = RequestTable(id="requests", cursor_type="row", zebra_stripes=True, cell_padding=0)
        return [
            Horizontal(
                Input(placeholder="/ filter text", id="requests-text", compact=True),
                Static("", id="requests-info"),
                id="requests-top",
            ),
            table,
            RequestProgress(id="request-progress"),
            Static("", id="request-hint"),
        ]

    def on_mount(self) -> None:
        self._layout = Layout.for_width(self.app.size.width)
        self._add_columns()
        self.table.focus()
        self.action_reload()
        # Also with a fixed clock (tests, snapshots): only cells whose text changed are redrawn.
        self.set_interval(AGE_REFRESH, self._refresh_ages)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#requests", DataTable)

    def _add_columns(self) -> None:
        for label, key, width in self._layout.columns():
            self.table.add_column(label, key=key, width=width)

    def on_resize(self) -> None:
        layout = Layout.for_width(self.app.size.width)
        if layout != self._layout:
            self._layout = layout
            table = self.table
            table.clear(columns=True)
            self._add_columns()
            with self.app.batch_update():
                for view in self._views.values():
                    table.add_row(*self._cells(view), key=view.request_id)
                self._apply_sort()

    # ------------------------------------------------------------------ cells

    def _cells(self, view: RequestView) -> list[Any]:
        cells: list[Any] = [
            IdText(view.request_id),
            Text(ACTION_LABELS.get(view.action, view.action)),
            self._state_cell(view),
            self._results_cell(view),
            GapText(target_text(view.target), overflow="ellipsis", no_wrap=True),
        ]
        if self._layout.account:
            cells.append(GapText(view.account, overflow="ellipsis", no_wrap=True))
        cells.append(Text(age_text(self.services.clock() - view.submitted_at)))
        by = by_text(view, long=self._layout.host)  # the last column: no gap to keep
        cells.append(Text(by, overflow="ellipsis", no_wrap=True))
        return cells

    def _results_cell(self, view: RequestView) -> Text:
        style = self._color("error") if view.failures else ""
        return GapText(results_text(view), style=style, overflow="ellipsis", no_wrap=True)

    def _color(self, name: str) -> str:
        return str(self.app.theme_variables.get(name, ""))

    def _state_cell(self, view: RequestView) -> Text:
        style = STATE_STYLE.get(view.state)
        return Text(state_text(view), style=self._color(style) if style else "")

    def _update_row(self, view: RequestView) -> None:
        table = self.table
        key = view.request_id
        table.update_cell(key, "state", self._state_cell(view))
        table.update_cell(key, "results", self._results_cell(view))

    # ------------------------------------------------------------------ loading

    def _query(self, offset: int) -> RequestsQuery:
        text = self.query_one("#requests-text", Input).value.strip() or None
        limit = FIRST_PAGE if offset == 0 else PAGE
        states = STATE_FILTERS[self._state_index][1]
        return RequestsQuery(states, text, offset, limit, self._mine_id())

    def _mine_id(self) -> str | None:
        """This desk's ``user@host`` while narrowed to mine; None: everyone's."""
        return self.services.desk.submitted_by if self._mine else None

    def action_reload(self) -> None:
        """Start again from the first page (filters changed, or the user asked)."""
        self._generation += 1
        self._load(self._query(0), self._generation)

    @work(group="requests-page", exclusive=True, exit_on_error=False, description="requests")
    async def _load(self, query: RequestsQuery, generation: int) -> None:
        self._loading = True
        try:
            page = await self.services.queries.requests_page(query)
        finally:
            self._loading = False
        if generation == self._generation and self.is_attached:
            self._show_page(page)

    def _show_page(self, page: RequestsPage) -> None:
        table = self.table
        query = page.query
        first = query.offset == 0
        selected = self._selected_key() if first else None
        self._error = page.error
        self._total = page.total
        tracker = self.services.tracking.tracker if self.services.tracking is not None else None
        with self.app.batch_update():
            if first:
                table.clear()
                self._views.clear()
                self._journal_loaded = 0
            self._journal_loaded += len(page.rows)
            for row in page.rows:
                if row.request_id in self._views or len(self._views) >= WINDOW:
                    continue
                view = view_of_summary(row)
                tracked = tracker.get(row.request_id) if tracker is not None else None
                if tracked is not None:
                    view.merge_tracked(tracked)
                self._add(view)
            if first:
                self._add_session_requests(query)
            self._apply_sort()
        if selected is not None and selected in self._views:
            table.move_cursor(row=table.get_row_index(selected))
        elif first and table.row_count:
            table.move_cursor(row=0)
        self._show_info()
        self._show_hint()
        self.pages_shown += 1

    def _add(self, view: RequestView) -> None:
        self._views[view.request_id] = view
        self.table.add_row(*self._cells(view), key=view.request_id)

    def _add_session_requests(self, query: RequestsQuery) -> None:
        """Requests accepted this session that the journal does not hold (tracking off)."""
        tracker = self.services.tracking.tracker if self.services.tracking is not None else None
        for record in self.services.submitted:
            if record.request_id in self._views:
                continue
            tracked = tracker.get(record.request_id) if tracker is not None else None
            view = (
                view_of_tracked(tracked)
                if tracked is not None
                else view_of_submitted(record, self.services.desk.submitted_by)
            )
            if matches(view, query.states, query.text, query.submitted_by):
                self._add(view)

    def _load_more(self) -> None:
        if self._loading or self._journal_loaded >= self._total or len(self._views) >= WINDOW:
            return
        self._load(self._query(self._journal_loaded), self._generation)

    # ------------------------------------------------------------------ sorting

    def _apply_sort(self) -> None:
        views = self._views
        column = SORTS[self._sort_index][0]

        def key(cell: IdText) -> Any:
            view = views.get(cell.request_id)
            return sort_value(view, column) if view is not None else 0

        self.table.sort("id", key=key, reverse=SORTS[self._sort_index][1])

    def action_cycle_sort(self) -> None:
        self._sort_index = (self._sort_index + 1) % len(SORTS)
        self._resort()

    def _resort(self) -> None:
        selected = self._selected_key()
        self._apply_sort()
        if selected is not None:
            self.table.move_cursor(row=self.table.get_row_index(selected))
        self._show_info()

    # ------------------------------------------------------------------ filters

    def action_cycle_state(self) -> None:
        self._state_index = (self._state_index + 1) % len(STATE_FILTERS)
        self.action_reload()
        self._show_info()

    def action_toggle_mine(self) -> None:
        """Only this user@host's requests, or everyone's again (the info line says which)."""
        self._mine = not self._mine
        self.action_reload()
        self._show_info()

    def action_find(self) -> None:
        unless_typing(self)
        focus_now(self.query_one("#requests-text", Input))

    @on(Input.Changed, "#requests-text")
    def _text_changed(self) -> None:
        if self._text_timer is not None:
            self._text_timer.stop()
        self._text_timer = self.set_timer(0.25, self.action_reload)

    @on(Input.Submitted, "#requests-text")
    def _text_submitted(self) -> None:
        if self._text_timer is not None:
            self._text_timer.stop()
            self._text_timer = None
        self.action_reload()
        self.table.focus()

    # ------------------------------------------------------------------ live updates

    def on_tracking_update(self, message: TrackingUpdate) -> None:
        if message.changed:
            self._apply_changes(list(message.changed.values()))

    def _apply_changes(self, events: list[Any]) -> None:
        tracker = self.services.tracking.tracker if self.services.tracking is not None else None
        query = self._query(0)
        states, text, mine = query.states, query.text, query.submitted_by
        oldest = min((v.submitted_at for v in self._views.values()), default=None)
        more = self._journal_loaded < self._total
        added = removed = False
        table = self.table
        with self.app.batch_update():
            for event in events:
                view = self._views.get(event.request_id)
                if view is not None:
                    view.merge_changed(event)
                    if states is not None and view.state not in states:
                        del self._views[view.request_id]
                        table.remove_row(view.request_id)
                        removed = True
                    else:
                        self._update_row(view)
                    continue
                tracked = tracker.get(event.request_id) if tracker is not None else None
                if tracked is None:
                    continue
                view = view_of_tracked(tracked)
                if not matches(view, states, text, mine) or len(self._views) >= WINDOW:
                    continue
                if more and oldest is not None and view.submitted_at < oldest:
                    continue  # it belongs to a page not loaded yet
                self._add(view)
                added = True
            if added:
                self._apply_sort()
        if added or removed:
            self._show_info()
        self._show_hint()

    def on_request_submitted(self, message: RequestSubmitted) -> None:
        self.action_reload()

    async def action_inbox(self) -> None:
        await self.app.run_action("inbox")

    def _refresh_ages(self) -> None:
        now = self.services.clock()
        table = self.table
        changed: list[tuple[str, str]] = []
        for view in self._views.values():
            text = age_text(now - view.submitted_at)
            try:
                shown = table.get_cell(view.request_id, "age")
            except CellDoesNotExist:  # a row being replaced right now: the next tick has it
                continue
            if str(shown) != text:
                changed.append((view.request_id, text))
        if not changed:
            return
        with self.app.batch_update():
            for request_id, text in changed:
                table.update_cell(request_id, "age", Text(text))

    # ------------------------------------------------------------------ info lines

    def _show_info(self) -> None:
        shown = len(self._views)
        state = STATE_FILTERS[self._state_index][0]
        column, reverse = SORTS[self._sort_index]
        order = ("oldest" if reverse else "newest") if column == "age" else column
        who = "mine" if self._mine else "everyone's"
        self.sub_title = f"Requests: {who}, state {state}"
        if self._error:
            count = f"journal unreadable: {self._error}"
        elif not shown:
            count = "no request yet" if state == "all" else f"no {state} request"
        elif shown < self._total:
            count = f"{shown} of {self._total}"
        else:
            count = f"{shown} request(s)"
        text = f"{count} · {who} · state {state} · sort {order}"
        self.query_one("#requests-info", Static).update(Content.styled(text, "$text-muted"))

    def _show_hint(self) -> None:
        view = self.selected_view()
        text = (
            advice(
                view, self.services.clock(), callbacks_arrive=self.services.desk.callbacks_arrive()
            )
            if view is not None
            else ""
        )
        style = (
            "$warning"
            if view is not None and view.state is RequestState.TIMED_OUT
            else "$text-muted"
        )
        self.query_one("#request-hint", Static).update(Content.styled(text, style))
        self.query_one(RequestProgress).show(view)

    @on(DataTable.RowHighlighted, "#requests")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_hint()
        if event.cursor_row >= self.table.row_count - 5:
            self._load_more()

    # ------------------------------------------------------------------ selection

    def _selected_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def selected_view(self) -> RequestView | None:
        key = self._selected_key()
        return self._views.get(key) if key is not None else None

    @on(DataTable.RowSelected, "#requests")
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        key = self._selected_key()
        if key is None:
            self.notify("no request to open", timeout=3)
            return
        from m2m_tui.ui.screens.request_detail import RequestDetailScreen

        self.app.push_screen(RequestDetailScreen(self.services, key, self._views.get(key)))

    def action_copy(self) -> None:
        key = self._selected_key()
        if key is None:
            self.notify("no request yet", timeout=3)
            return
        host(self).copy_text(key, "request id")

    def action_back(self) -> None:
        field = self.query_one("#requests-text", Input)
        if field.has_focus:
            self.table.focus()
            return
        self.app.pop_screen()
