"""Dialogs of the callbacks inbox: the raw JSON of one entry, and the file to replay."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from m2m_tui.ui.host import host_or_none
from m2m_tui.ui.screens.base import AppModal
from m2m_tui.ui.screens.dialogs import DIALOG_CSS


class RawDialog(AppModal):
    """The stored body of a callback (password redacted) or a refusal; never parsed as markup."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    RawDialog .dialog { width: 78; }
    RawDialog VerticalScroll { height: auto; max-height: 16; }
    """
    )
    BINDINGS = [
        Binding("y", "copy", "Copy JSON"),
        Binding("escape,q,enter", "close", "Close"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.title_text), classes="title")
            with VerticalScroll(id="raw-scroll"):
                yield Static(Content(self.text), id="raw-text")
            yield Static(Content.styled("y copies · ↑↓ scroll · Esc closes", "$text-muted"))

    def on_mount(self) -> None:
        self.query_one("#raw-scroll").focus()

    def action_copy(self) -> None:
        app = host_or_none(self)
        if app is not None:
            app.copy_text(self.text, "raw callback")
        else:
            self.app.copy_to_clipboard(self.text)

    def action_close(self) -> None:
        self.dismiss(None)


class ReplayDialog(AppModal):
    """Asks for the saved callback JSON file to feed through the listener's path."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, note: str) -> None:
        super().__init__()
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content("Replay a saved callback"), classes="title")
            yield Input(placeholder="path to a .json file", id="replay-path", compact=True)
            yield Static("", id="problem", classes="error")
            yield Static(Content.styled(self.note, "$text-muted"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.query_one("#problem", Static).update(Content("type the file's path"))
            return
        path = Path(text).expanduser()
        if not path.is_file():
            self.query_one("#problem", Static).update(Content(f"no such file: {path}"))
            return
        from m2m_tui.tracking.replay import ReplayError, load_callback_file

        try:  # at most MAX_BODY bytes: read here so the problem shows beside the path
            load_callback_file(path)
        except ReplayError as exc:
            self.query_one("#problem", Static).update(Content(str(exc)))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
