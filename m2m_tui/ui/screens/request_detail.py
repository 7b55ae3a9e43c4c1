"""One request: a summary, its per-device results (suspension panels, decoded faults) and its
timeline; any event opens as raw JSON; copy (OSC 52) and export.

Everything is read from the journal by the desk's queries (in a thread); the tracker's
memory adds the live state. A tracking update naming this request reloads it, at
most every :data:`RELOAD_EVERY` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from m2m_tui.desk.queries import RequestDetail
from m2m_tui.tracking.records import RequestState
from m2m_tui.ui.host import host
from m2m_tui.ui.screens.base import AppScreen
from m2m_tui.ui.tracking_link import TrackingUpdate
from m2m_tui.ui.widgets.request_progress import RequestProgress
from m2m_tui.ui.widgets.request_rows import (
    ACTION_LABELS,
    RequestView,
    advice,
    results_text,
    state_text,
    submitter_text,
    target_text,
    view_of_summary,
    view_of_tracked,
)
from m2m_tui.ui.widgets.suspension_panel import outcome_panels
from m2m_tui.ui.widgets.timeline import TimelineEntry, build_timeline

if TYPE_CHECKING:
    from m2m_tui.ui.services import Services

RELOAD_EVERY = 0.5
STATE_STYLE = {
    RequestState.COMPLETED: "$success",
    RequestState.FAILED: "$error",
    RequestState.TIMED_OUT: "$warning",
}


class EventTable(DataTable[Any]):
    """A table whose Enter (open as raw JSON) shows in the footer."""

    BINDINGS = [Binding("enter", "select_cursor", "Raw", tooltip="Show as raw JSON")]


class RequestDetailScreen(AppScreen):
    CSS_PATH = "requests.tcss"
    HELP_TITLE = "Request"
    HELP_TEXT = (
        "One request: results per device, the timeline of polls and callbacks (times labelled, "
        "in UTC or local time as config.toml's time_zone says). "
        "Enter shows the highlighted event as raw JSON."
    )
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "raw", "Raw", tooltip="Show the highlighted event as raw JSON"),
        Binding("t", "switch_tab", "Tab", tooltip="Switch between results and timeline"),
        Binding("y", "copy_id", "Copy id", tooltip="Copy the request id (OSC 52)"),
        Binding("j", "copy_json", "JSON", tooltip="Copy the request and its callbacks as JSON"),
        Binding("m", "copy_summary", "Ticket", tooltip="Copy a Markdown summary for a ticket"),
        Binding("e", "export", "Export", tooltip="Export to a file: JSON, CSV or Markdown"),
        Binding("p", "picture", "Device picture (histories) as raw JSON", show=False),
    ]

    def shows_request(self, request_id: str) -> bool:
        return request_id == self.request_id

    def __init__(
        self, services: Services, request_id: str, view: RequestView | None = None
    ) -> None:
        super().__init__(services)
        self.request_id = request_id
        self.view = view
        self.data: RequestDetail | None = None
        self.entries: list[TimelineEntry] = []
        self._outcome_rows: dict[str, int] = {}
        self._last_load = 0.0
        self._reload_pending = False

    # ------------------------------------------------------------------ layout

    def compose_body(self) -> Iterator[Widget]:
        yield Static("", id="detail-summary")
        yield RequestProgress(id="detail-progress")
        with TabbedContent(id="detail-tabs"):
            with TabPane("Results", id="tab-results"), VerticalScroll(id="results-pane"):
                yield EventTable(id="results", cursor_type="row")
            with TabPane("Timeline", id="tab-timeline"):
                yield EventTable(id="timeline", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        timeline = self.query_one("#timeline", DataTable)
        timeline.add_column("Time", key="at", width=12)
        timeline.add_column("Source", key="source", width=8)
        timeline.add_column("Event", key="event", width=22)
        timeline.add_column("Device", key="device", width=18)
        timeline.add_column("Try", key="try", width=3)
        timeline.add_column("Dup", key="dup", width=3)
        results = self.query_one("#results", DataTable)
        results.add_column("Device", key="device", width=22)
        results.add_column("Result", key="result", width=7)
        results.add_column("Detail", key="detail", width=25)
        results.add_column("Time", key="at", width=12)
        self._show_summary()
        self.query_one("#results", DataTable).focus()
        self.reload()

    # ------------------------------------------------------------------ loading

    @work(group="request-detail", exclusive=True, exit_on_error=False, description="request")
    async def reload(self) -> None:
        self._last_load = time.monotonic()
        data = await self.services.queries.request_detail(self.request_id)
        if self.is_attached:
            self._show(data)

    def _live_view(self) -> RequestView | None:
        tracker = self.services.tracking.tracker if self.services.tracking is not None else None
        tracked = tracker.get(self.request_id) if tracker is not None else None
        summary = self.data.summary if self.data is not None else None
        if summary is not None:
            view = view_of_summary(summary)
            if tracked is not None:
                view.merge_tracked(tracked)
            return view
        if tracked is not None:
            return view_of_tracked(tracked)
        return self.view

    def _show(self, data: RequestDetail) -> None:
        self.data = data
        self.view = self._live_view()
        self.entries = build_timeline(data)
        with self.app.batch_update():
            self._show_summary()
            self._show_timeline()
            self._show_results()

    def _show_summary(self) -> None:
        view = self.view
        summary = self.query_one("#detail-summary", Static)
        self.query_one(RequestProgress).show(view)
        if view is None:
            error = self.data.error if self.data is not None else None
            text = error or f"{self.request_id}: not in the journal (yet)."
            summary.update(Content.styled(text, "$text-muted"))
            return
        duplicates = sum(1 for e in self.entries if e.duplicate)
        head = Content.assemble(
            (ACTION_LABELS.get(view.action, view.action), "bold"),
            " ",
            (view.request_id, "bold $accent"),
            "  ",
            target_text(view.target, long=True),
        )
        line = Content.assemble(
            (state_text(view), STATE_STYLE.get(view.state, "bold")),
            ("  results ", "$text-muted"),
            results_text(view),
            ("  dup ", "$text-muted"),
            str(duplicates),
            ("  submitted ", "$text-muted"),
            self.services.times.stamp(view.submitted_at),
        )
        if view.finished:
            label, how = (
                "  finishes ",
                "by poll or by callback" if view.pollable else "by callback only",
            )
        else:  # what is true now: a callback that cannot reach us is not promised
            label, how = "  tracking ", self.services.desk.how_for(view.pollable)
        third = Content.assemble(
            ("account ", "$text-muted"), view.account or "-", (label, "$text-muted"), how
        )
        lines = [head, line, third]
        if who := submitter_text(view):  # a team's journal: whose request this is
            lines.append(Content.styled(who, "$text-muted"))
        hint = advice(
            view, self.services.clock(), callbacks_arrive=self.services.desk.callbacks_arrive()
        )
        if hint:
            lines.append(
                Content.styled(
                    hint, "$warning" if view.state is RequestState.TIMED_OUT else "$text-muted"
                )
            )
        summary.update(Content("\n").join(lines))

    def _show_timeline(self) -> None:
        table = self.query_one("#timeline", DataTable)
        row = table.cursor_row
        table.clear()
        for entry in self.entries:
            table.add_row(
                Text(self.services.times.clock(entry.at)),
                Text(entry.source),
                Text(entry.event),  # wrapped in full: not an identifier opened elsewhere
                Text(entry.device, overflow="ellipsis", no_wrap=True),
                Text(str(entry.attempt) if entry.attempt else ""),
                Text("dup", style=str(self.app.theme_variables.get("warning", "")))
                if entry.duplicate
                else Text(""),
                key=entry.key,
                height=None,  # as many lines as the event needs
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def _show_results(self) -> None:
        table = self.query_one("#results", DataTable)
        pane = self.query_one("#results-pane", VerticalScroll)
        found = self.data.outcomes if self.data is not None else ()
        table.clear()
        ok_style = str(self.app.theme_variables.get("success", ""))
        bad_style = str(self.app.theme_variables.get("error", ""))
        for outcome in found:
            code, _text = outcome.fault
            if not outcome.ok:
                detail = code.split(".", 2)[-1] if code and code.count(".") >= 2 else code or ""
            elif outcome.kind == "suspension_status":
                items = outcome.suspension_items()
                detail = f"state {items[0].get('state', '?')}" if items else "suspension status"
            else:
                detail = str(outcome.body.get("status") or outcome.kind)
            table.add_row(
                Text(outcome.device, overflow="ellipsis", no_wrap=True),
                Text("ok", style=ok_style) if outcome.ok else Text("failed", style=bad_style),
                Text(detail, overflow="ellipsis", no_wrap=True),
                Text(self.services.times.clock(outcome.at)),
                key=f"callback:{outcome.record_id}",
            )
        table.display = bool(found)
        pane.query(".device-panel").remove()
        panels = outcome_panels(found, self.services.times)
        if not found:
            panels.append(Static(Content.styled(self._no_results_text(), "$text-muted")))
        for panel in panels:
            panel.add_class("device-panel")
        pane.mount_all(panels)

    def _no_results_text(self) -> str:
        view = self.view
        if view is None or not view.finished:
            return "No per-device result yet: they arrive by callback."
        if view.completed_by == "poll":
            return "Completed by poll: ThingSpace's status says it is done; no callback came yet."
        return "No per-device result came."

    def on_tracking_update(self, message: TrackingUpdate) -> None:
        ours = self.request_id in message.changed or any(
            c.request_id == self.request_id for c in message.callbacks
        )
        if not ours or self._reload_pending:
            return
        wait = RELOAD_EVERY - (time.monotonic() - self._last_load)
        if wait <= 0:
            self.reload()
        else:
            self._reload_pending = True
            self.set_timer(wait, self._deferred_reload)

    def _deferred_reload(self) -> None:
        self._reload_pending = False
        self.reload()

    # ------------------------------------------------------------------ actions

    def action_switch_tab(self) -> None:
        tabs = self.query_one("#detail-tabs", TabbedContent)
        if tabs.active == "tab-results":
            tabs.active = "tab-timeline"
            self.query_one("#timeline", DataTable).focus()
        else:
            tabs.active = "tab-results"
            self.query_one("#results", DataTable).focus()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_raw()

    def _highlighted_entry(self) -> TimelineEntry | None:
        tabs = self.query_one("#detail-tabs", TabbedContent)
        table_id = "#timeline" if tabs.active == "tab-timeline" else "#results"
        table = self.query_one(table_id, DataTable)
        if not table.row_count or not table.display:
            return self.entries[0] if self.entries else None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((e for e in self.entries if e.key == key), None)

    def action_raw(self) -> None:
        entry = self._highlighted_entry()
        if entry is None:
            self.notify("nothing to show yet", timeout=3)
            return
        from m2m_tui.ui.screens.request_dialogs import RawJsonScreen

        title = f"{entry.source} · {entry.event} · {self.services.times.stamp(entry.at)}"
        self.app.push_screen(RawJsonScreen(title, entry.raw))

    def _picture_markdown(self, fmt: str) -> str:
        """The device's diagnosis and histories for a Markdown summary, when looked up here."""
        from m2m_tui.desk.picture_text import picture_markdown

        row = self.data.row if self.data is not None else None
        shelved = self.services.desk.pictures.for_target(row.target) if row is not None else None
        if fmt != "md" or shelved is None:
            return ""
        return "\n\n" + picture_markdown(shelved.picture, shelved.diagnosis)

    def action_picture(self) -> None:
        from m2m_tui.desk.picture_text import picture_json
        from m2m_tui.ui.screens.request_dialogs import RawJsonScreen

        row = self.data.row if self.data is not None else None
        shelved = self.services.desk.pictures.for_target(row.target) if row is not None else None
        if shelved is None:
            self.notify("no device picture: look the device up on the devices screen", timeout=4)
            return
        title = f"device picture · {self.services.times.stamp(shelved.picture.now.timestamp())}"
        self.app.push_screen(RawJsonScreen(title, picture_json(shelved.picture)))

    def action_copy_id(self) -> None:
        host(self).copy_text(self.request_id, "request id")

    def action_copy_json(self) -> None:
        self._copy_export("json", "request JSON")

    def action_copy_summary(self) -> None:
        self._copy_export("md", "Markdown summary")

    @work(group="request-export", exit_on_error=False, description="copy export")
    async def _copy_export(self, fmt: str, what: str) -> None:
        try:
            picture = self._picture_markdown(fmt)  # its diagnosis, fresher than the journal's
            text = await self.services.queries.export_text(
                fmt, self.request_id, self.services.times, diagnoses=not picture
            )
            text += picture
        except Exception as exc:  # no journal yet, or unreadable: say so, do not crash
            self.notify(f"nothing copied: {exc}", severity="warning", markup=False)
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {what} ({len(text)} characters)", timeout=4, markup=False)

    def action_export(self) -> None:
        from m2m_tui.ui.screens.request_dialogs import ExportDialog

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._export_to(path)

        self.app.push_screen(ExportDialog(f"request-{self.request_id[:8]}.md"), chosen)

    @work(group="request-export", exit_on_error=False, description="export request")
    async def _export_to(self, path: Path) -> None:
        from m2m_tui.ui.screens.request_dialogs import EXPORT_FORMATS

        fmt = EXPORT_FORMATS[path.suffix.lower()]
        try:
            picture = self._picture_markdown(fmt)  # its diagnosis, fresher than the journal's
            text = await self.services.queries.export_text(
                fmt, self.request_id, self.services.times, diagnoses=not picture
            )
            text += picture
            written = await asyncio.to_thread(_write_file, path, text)
        except Exception as exc:  # a folder that does not exist, no permission, no journal
            self.notify(f"export failed: {exc}", title="Export", severity="error", markup=False)
            return
        self.notify(f"exported {fmt} to {written}", title="Export", timeout=8, markup=False)

    def action_back(self) -> None:
        self.app.pop_screen()


def _write_file(target: Path, text: str) -> Path:
    from m2m_tui.tracking.export import write_export

    return write_export(target, text)  # created 0600; a missing folder is one clear line
