"""Requests submitted in this session, newest first, with the tracker's live state.

``y`` copies the highlighted id. The table is rebuilt from the tracker at most once per
tracking update (a few times a second), never per callback.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from m2m_tui.ui.messages import RequestSubmitted
from m2m_tui.ui.screens.base import AppScreen
from m2m_tui.ui.tracking_link import TrackingUpdate


class RequestsScreen(AppScreen):
    HELP_TITLE = "Requests"
    HELP_TEXT = "Requests ThingSpace accepted in this session. Pollable ones can also be polled."
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("y", "copy", "Copy id"),
        Binding("r", "reload", "Refresh"),
    ]

    def compose_body(self) -> list[Widget]:
        table: DataTable[Any] = DataTable(id="requests", cursor_type="row", zebra_stripes=True)
        table.add_columns("Action", "Request id", "State", "Results", "Target", "Time")
        return [Static("", id="requests-count"), table]

    def on_mount(self) -> None:
        self.action_reload()
        self.query_one(DataTable).focus()
        if self.m2m.live_clock:
            self.set_interval(2.0, self.action_reload)

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        selected = table.cursor_row
        tracker = self.m2m.tracking.tracker if self.m2m.tracking is not None else None
        table.clear()
        for record in reversed(self.m2m.submitted):
            stamp = time.strftime("%H:%M:%S", time.localtime(record.submitted_at))
            tracked = tracker.get(record.request_id) if tracker is not None else None
            table.add_row(
                record.action.label,
                Text(record.request_id),
                Text(_state_text(tracked, record.pollable)),
                _results_text(tracked),
                Text(record.target_label),
                stamp,
                key=record.request_id,
            )
        if table.row_count:
            table.move_cursor(row=min(selected, table.row_count - 1))
        total = len(self.m2m.submitted)
        self.query_one("#requests-count", Static).update(
            Content.styled(
                f"{total} request(s) this session" if total else "No request submitted yet.",
                "$text-muted",
            )
        )

    def on_request_submitted(self, message: RequestSubmitted) -> None:
        self.action_reload()

    def on_tracking_update(self, message: TrackingUpdate) -> None:
        if message.changed:
            self.action_reload()
        self.query_one(DataTable).move_cursor(row=0)

    def action_copy(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            self.notify("no request yet", timeout=3)
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            self.m2m.copy_text(key, "request id")

    def action_back(self) -> None:
        self.app.pop_screen()


def _state_text(tracked: Any, pollable: bool) -> str:
    if tracked is None:
        return "submitted" if pollable else "awaiting callbacks"
    state = str(tracked.state.value)
    if state in ("submitted", "pending", "partial") and not tracked.pollable:
        return f"{state}, awaiting callbacks"
    if tracked.completed_by is not None:
        return f"{state} by {tracked.completed_by.value}"
    return state


def _results_text(tracked: Any) -> str:
    if tracked is None:
        return "-"
    expected = "?" if tracked.expected is None else str(tracked.expected)
    failed = f" ({tracked.failures} failed)" if tracked.failures else ""
    return f"{tracked.received}/{expected}{failed}"
