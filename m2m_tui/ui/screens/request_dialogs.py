"""The request detail's two dialogs: an event as raw JSON, and where to export a request."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from m2m_tui.ui.screens.base import AppModal
from m2m_tui.ui.screens.dialogs import DIALOG_CSS

EXPORT_FORMATS = {".json": "json", ".csv": "csv", ".md": "md"}


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


class RawJsonScreen(AppModal):
    """One event exactly as journaled (password redacted), as plain text: never markup."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    RawJsonScreen .dialog { height: 1fr; }
    RawJsonScreen VerticalScroll { height: 1fr; }
    """
    )
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("c", "copy", "Copy JSON", tooltip="Copy this JSON (OSC 52)"),
    ]

    def __init__(self, title: str, value: Any) -> None:
        super().__init__()
        self.title_text = title
        self.text = pretty_json(value)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.title_text), classes="title")
            with VerticalScroll(id="raw-json"):
                yield Static(Content(self.text), id="raw-json-text")
            yield Static(Content.styled("c copies this JSON · Esc closes", "$text-muted"))

    def on_mount(self) -> None:
        self.query_one("#raw-json", VerticalScroll).focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify(f"copied JSON ({len(self.text)} characters)", timeout=4, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)


class ExportDialog(AppModal):
    """A file name (relative to the current folder) whose extension picks the format."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Export the request to a file", classes="title")
            yield Input(self.default, id="export-path", compact=True)
            yield Static("", id="export-problem", classes="error")
            yield Static(
                Content.styled(
                    "The extension picks the format: .json, .csv or .md (a ticket summary). "
                    "Relative paths are in the current folder. Enter exports; Esc cancels.",
                    "$text-muted",
                )
            )

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        path = Path(text).expanduser()
        if not text:
            self._problem("a file name is needed")
        elif path.suffix.lower() not in EXPORT_FORMATS:
            self._problem("end the name with .json, .csv or .md")
        elif path.is_dir():
            self._problem("that is a folder: add a file name")
        elif not path.parent.is_dir():
            # Checked here so the dialog stays open with the typed path (a failed write after
            # closing it would lose the path).
            self._problem(f"no folder {path.parent}: create it or pick another")
        elif not os.access(path.parent, os.W_OK):
            self._problem(f"cannot write in {path.parent}: pick another folder")
        else:
            self.dismiss(path)

    def _problem(self, text: str) -> None:
        self.query_one("#export-problem", Static).update(Content(text))

    def action_cancel(self) -> None:
        self.dismiss(None)
