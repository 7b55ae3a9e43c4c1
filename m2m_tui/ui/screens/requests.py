"""Requests submitted in this session, newest first; ``y`` copies the highlighted id.

Until the tracker is connected this shows what the app knows: the synchronous answer, how
the request completes (polling or callback only) and how many callbacks the listener took in.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static

from m2m_tui.ui.messages import RequestSubmitted
from m2m_tui.ui.screens.base import AppScreen


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
        table.add_columns("Action", "Request id", "Completes by", "Cb", "Target", "Time")
        return [Static("", id="requests-count"), table]

    def on_mount(self) -> None:
        self.action_reload()
        self.query_one(DataTable).focus()
        if self.m2m.live_clock:
            self.set_interval(2.0, self.action_reload)

    def _callback_counts(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        service = self.m2m.listener_service
        if service is not None:
            for event in list(service.events):
                request_id = getattr(event, "request_id", None)
                if request_id:
                    counts[request_id] += 1
        return counts

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        selected = table.cursor_row
        counts = self._callback_counts()
        table.clear()
        for record in reversed(self.m2m.submitted):
            stamp = time.strftime("%H:%M:%S", time.localtime(record.submitted_at))
            table.add_row(
                record.action.label,
                Text(record.request_id),
                "poll + callback" if record.pollable else "callback only",
                str(counts.get(record.request_id, 0)),
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
