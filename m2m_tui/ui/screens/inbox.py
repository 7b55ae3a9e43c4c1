"""Every callback as it arrives: ours, early, not ours, and rejected (with the reason).

The rows come from the journal (the same for an embedded listener, a followed journal and a
replayed file). A :class:`TrackingUpdate` only says *that* something arrived; the screen then
reads the new rows after the last ids it has, in one batch, appends them and sorts once: never
a repaint per callback. The table keeps a window of :data:`WINDOW` rows (newest first); ``o``
pages older rows in from the journal. A table rebuild (about 0.2 s for 2,000 rows) happens only
when the filter changes or the window overflows, and at most once a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from m2m_tui.desk.queries import InboxMarks
from m2m_tui.tracking import inbox_rows as rows
from m2m_tui.tracking.inbox_rows import InboxEntry
from m2m_tui.ui.focus import focus_now, unless_typing
from m2m_tui.ui.host import host
from m2m_tui.ui.screens.base import AppScreen
from m2m_tui.ui.tracking_link import TrackingUpdate
from m2m_tui.ui.widgets.inbox_cells import cells as _cells

if TYPE_CHECKING:
    from m2m_tui.ui.services import Services

WINDOW = 2000
PAGE = 500
#: Rows the table may run over the window before it is trimmed (by one rebuild).
SLACK = 500
#: New rows in one batch past which a rebuild is cheaper than adding and sorting.
INCREMENTAL_MAX = 400
REBUILD_EVERY = 1.0
FILTERS: tuple[str | None, ...] = (None, *rows.CATEGORIES)
COLUMNS = ("Time", "Request", "Category", "Kind", "Dup", "Device")


class CallbacksInboxScreen(AppScreen):
    HELP_TITLE = "Callbacks inbox"
    HELP_TEXT = (
        "Every callback the listener received, newest first: ours, early (arrived before its "
        "request was known), not ours, rejected. Enter shows the stored JSON."
    )
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "raw", "Raw", show=False),
        Binding("f", "cycle_filter", "Category", tooltip="Cycle all/ours/early/not ours/rejected"),
        Binding(
            "slash",
            "focus_text",
            "Find",
            tooltip="Filter by request id, device, reason",
            priority=True,  # "/" then text in one burst: ui/focus.py
        ),
        Binding("l", "replay", "Replay", tooltip="Load a saved callback JSON file"),
        Binding("u", "registration", "Cb URLs", tooltip="Callback registration of the account"),
        Binding("o", "older", "Older rows", show=False, tooltip="Load older rows from the journal"),
        Binding("y", "copy_id", "Copy id", show=False),
    ]

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self.entries: list[InboxEntry] = []
        self.category: str | None = None
        self.text = ""
        self.limit = WINDOW
        self.ours: dict[int, bool] = {}
        self.marks = InboxMarks()
        self._rebuild_pending = False
        self._last_rebuild = 0.0
        self.rebuilds = 0
        self._reading = False
        self._read_again = False
        #: The first window has been read (until then the table is empty, not "no rows").
        self.loaded = False

    def compose_body(self) -> list[Widget]:
        table: DataTable[Any] = DataTable(id="inbox", cursor_type="row", zebra_stripes=True)
        for name in COLUMNS:
            table.add_column(name, key=name)
        field = Input(placeholder="/ filter: request id, device, kind, reason", compact=True)
        field.id = "inbox-find"
        return [field, Static("", id="inbox-count"), table]

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#inbox", DataTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.reload()

    # ------------------------------------------------------------------ data

    def _submitted_at(self, request_id: str) -> float | None:
        """When our request was submitted: the tracker's memory, else what the reads said."""
        link = self.services.tracking
        tracker = link.tracker if link is not None else None
        tracked = tracker.get(request_id) if tracker is not None else None
        if tracked is not None:
            return tracked.submitted_at
        return self.marks.submitted.get(request_id)

    def reload(self) -> None:
        """Read the newest window from the journal (in a thread) and rebuild the table."""
        self._read_latest()

    @work(group="inbox-latest", exclusive=True, exit_on_error=False, description="inbox")
    async def _read_latest(self) -> None:
        batch = await self.services.queries.inbox_latest(self.marks, self.limit)
        if self.is_attached:
            self.entries = self._entries(batch.callbacks, batch.rejections)[: self.limit]
            self.loaded = True
            self._rebuild()
            self._read_new()  # what arrived while the window was read

    def _entries(self, callbacks: Iterable[Any], rejections: Iterable[Any]) -> list[InboxEntry]:
        made = [rows.callback_entry(r, self._submitted_at, self.ours.get(r.id)) for r in callbacks]
        made.extend(rows.rejection_entry(r) for r in rejections)
        return rows.newest_first(made)

    def _read_new(self) -> None:
        """Read the rows journaled since the last ones seen (one read at a time)."""
        if not self.loaded:
            return  # the first window is being read; it catches up when shown
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        self._read_new_rows()

    @work(group="inbox-new", exit_on_error=False, description="inbox: new rows")
    async def _read_new_rows(self) -> None:
        try:
            self._read_again = True
            while self._read_again and self.is_attached:
                self._read_again = False
                batch = await self.services.queries.inbox_newer(self.marks, self.limit)
                new = self._entries(batch.callbacks, batch.rejections)
                if new and self.is_attached:
                    self._add(new)
        finally:
            self._reading = False

    def on_tracking_update(self, message: TrackingUpdate) -> None:
        for event in message.callbacks:
            self.ours[event.record_id] = event.ours
        if len(self.ours) > 4 * WINDOW:
            for key in sorted(self.ours)[: 2 * WINDOW]:
                del self.ours[key]
        if message.changed:
            for request_id in message.changed:
                self.marks.submitted.pop(request_id, None)
            self._recategorize(set(message.changed))
        if message.callbacks or message.rejections or message.callbacks_total:
            self._read_new()

    def _recategorize(self, request_ids: set[str], *, look_up: bool = True) -> None:
        """A request became known: its callbacks that looked "not ours" are early.

        Requests the tracker does not hold are looked up in the journal (in a thread)."""
        table = self.table
        unknown: set[str] = set()
        for entry in self.entries:
            if entry.request_id in request_ids and entry.category == rows.NOT_OURS:
                submitted = self._submitted_at(entry.request_id)
                if submitted is None:
                    unknown.add(entry.request_id)
                    continue
                entry.category = rows.categorize(entry.received_at, submitted, False)
                if entry.key in table.rows and not self._rebuild_pending:
                    table.update_cell(entry.key, "Category", _cells(entry, self.services.times)[2])
        self._count()
        if unknown and look_up:
            self._look_up(unknown)

    @work(group="inbox-lookup", exit_on_error=False, description="inbox: requests")
    async def _look_up(self, request_ids: set[str]) -> None:
        found = await self.services.queries.submitted_at(sorted(request_ids), self.marks)
        known = {request_id for request_id, at in found.items() if at is not None}
        if known and self.is_attached:
            self._recategorize(known, look_up=False)

    # ------------------------------------------------------------------ the table

    def _shown(self) -> list[InboxEntry]:
        return [e for e in self.entries if e.matches(self.category, self.text)]

    def _add(self, new: list[InboxEntry]) -> None:
        # Rows past the window stay until the next rebuild trims the table and the list.
        self.entries = rows.newest_first(new + self.entries)[: self.limit + SLACK]
        shown = [e for e in new if e.matches(self.category, self.text)]
        table = self.table
        if self._rebuild_pending:
            pass
        elif len(shown) > INCREMENTAL_MAX or table.row_count + len(shown) > self.limit + SLACK:
            self._schedule_rebuild()
        elif shown:
            keep = self._cursor_key()
            for entry in shown:
                table.add_row(*_cells(entry, self.services.times), key=entry.key)
            table.sort("Time", key=lambda stamp: stamp.order, reverse=True)
            self._restore_cursor(keep)
        self._count()

    def _cursor_key(self) -> str | None:
        """The highlighted row's key, or None when the cursor follows the newest row."""
        table = self.table
        if not table.row_count or table.cursor_row <= 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _restore_cursor(self, key: str | None) -> None:
        table = self.table
        if key is None or key not in table.rows:
            table.move_cursor(row=0, scroll=False)
        else:
            table.move_cursor(row=table.get_row_index(key), scroll=False)

    def _schedule_rebuild(self) -> None:
        self._rebuild_pending = True
        # Never 0: Textual's Timer divides by its interval (ZeroDivisionError), and a timer
        # that dies leaves _rebuild_pending set for good: the table would stop updating.
        wait = max(0.05, self._last_rebuild + REBUILD_EVERY - time.monotonic())
        self.set_timer(wait, self._rebuild)

    def _rebuild(self) -> None:
        self._rebuild_pending = False
        self._last_rebuild = time.monotonic()
        self.rebuilds += 1
        del self.entries[self.limit :]
        table = self.table
        keep = self._cursor_key()
        table.clear()
        for entry in self._shown():
            table.add_row(*_cells(entry, self.services.times), key=entry.key)
        self._restore_cursor(keep)
        self._count()

    def _count(self) -> None:
        shown = self.table.row_count
        total = len(self.entries)
        link = self.services.tracking
        if link is None or not link.started:
            where = "tracking is not running (log in, or check the listener)"
        elif link.settings.follow:
            where = f"following {link.settings.journal_label}"
        elif link.listener_url:
            where = f"listening on {link.listener_url}"
        else:
            where = "no listener: journal only"
        wanted = self.category or "all"
        text = f"  text “{self.text}”" if self.text else ""
        counts = f"{shown} shown of {total}" if shown != total else f"{total} rows"
        self.query_one("#inbox-count", Static).update(
            Content.assemble(
                (counts, "bold"),
                (f"  [{wanted}]{text}", "$accent"),
                (f"  {where}", "$text-muted"),
            )
        )

    # ------------------------------------------------------------------ keys

    def _selected(self) -> InboxEntry | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((e for e in self.entries if e.key == key), None)

    def action_raw(self) -> None:
        entry = self._selected()
        if entry is None:
            self.notify("no callback selected", timeout=3)
            return
        self._show_raw(entry)

    @work(group="inbox-raw", exclusive=True, exit_on_error=False, description="raw callback")
    async def _show_raw(self, entry: InboxEntry) -> None:
        from m2m_tui.ui.screens.inbox_dialogs import RawDialog

        text = await self.services.queries.raw_text(entry)
        title = (
            f"Rejected {self.services.times.stamp(entry.received_at)}: {entry.reason}"
            if entry.is_rejection
            else f"{entry.category_label} · {entry.request_id} · {entry.kind}"
        )
        if self.is_current:
            self.app.push_screen(RawDialog(title, text))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_raw()

    def action_cycle_filter(self) -> None:
        index = FILTERS.index(self.category)
        self.category = FILTERS[(index + 1) % len(FILTERS)]
        self._rebuild()

    def action_focus_text(self) -> None:
        unless_typing(self)
        focus_now(self.query_one("#inbox-find", Input))

    @on(Input.Changed, "#inbox-find")
    def _text_changed(self, event: Input.Changed) -> None:
        self.text = event.value.strip()
        self._rebuild()

    @on(Input.Submitted, "#inbox-find")
    def _text_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    def action_older(self) -> None:
        if self.marks.exhausted:
            self.notify("no older rows in the journal", timeout=3)
            return
        self._read_older()

    @work(group="inbox-older", exclusive=True, exit_on_error=False, description="older rows")
    async def _read_older(self) -> None:
        batch = await self.services.queries.inbox_older(self.marks, PAGE)
        older = self._entries(batch.callbacks, batch.rejections)
        if not self.is_attached:
            return
        if not older:
            self.notify("no older rows in the journal", timeout=3)
            return
        self.limit += len(older)
        self.entries = rows.newest_first(self.entries + older)
        self._rebuild()
        self.notify(f"{len(older)} older row(s) loaded", timeout=3)

    def action_copy_id(self) -> None:
        entry = self._selected()
        if entry is None or not entry.request_id:
            self.notify("no request id on this row", timeout=3)
            return
        host(self).copy_text(entry.request_id, "request id")

    async def action_registration(self) -> None:
        await self.app.run_action("registration")

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.table.focus()
            return
        self.app.pop_screen()

    # ------------------------------------------------------------------ replay

    def action_replay(self) -> None:
        from m2m_tui.ui.screens.inbox_dialogs import ReplayDialog

        link = self.services.tracking
        if link is None or not link.started:
            self.notify("tracking is not running: nothing to replay into", severity="warning")
            return
        via = (
            "It is POSTed to our listener"
            if link.service.listener is not None
            else "No listener here: it is checked and journaled directly"
        )
        note = f"{via}; its username/password are replaced by ours. Enter replays; Esc cancels."

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.replay(path)

        self.app.push_screen(ReplayDialog(note), chosen)

    @work(group="replay", exclusive=True, exit_on_error=False, description="replay a callback")
    async def replay(self, path: Path) -> None:
        from m2m_tui.tracking.replay import (
            ReplayError,
            load_callback_file,
            replay_to_journal,
            replay_to_listener,
        )

        link = self.services.tracking
        if link is None or not link.started:
            return
        try:
            raw = await asyncio.to_thread(load_callback_file, path)
        except ReplayError as exc:
            self.notify(str(exc), title="Replay", severity="error", markup=False)
            return
        credentials = self._our_credentials()
        listener = link.service.listener
        if listener is not None and listener.running:
            result = await replay_to_listener(raw, listener.url, credentials=credentials)
        else:
            result = replay_to_journal(
                raw,
                link.service.journal,
                link.service.tracker,
                credentials=credentials,
                expected=credentials,
                feed_tracker=not link.settings.follow,
            )
        self.notify(
            f"{path.name}: {result.describe()}",
            title="Replay",
            severity="information" if result.accepted else "warning",
            markup=False,
        )
        self._read_new()

    def _our_credentials(self) -> tuple[str, str] | None:
        """What our listener (or the shared one) expects in a callback body."""
        from m2m_tui.ui.screens.registration import callback_credentials

        return callback_credentials(self.services)
