"""``?``: the keys of the screen underneath, with what each does."""

from __future__ import annotations

from typing import NamedTuple

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from m2m_tui.ui.screens.base import AppModal

GLOBAL_KEYS = [
    ("ctrl+p", "Command palette: every action, searchable"),
    ("? / f1", "This help"),
    ("ctrl+q", "Quit from anywhere"),
    ("x", "Dismiss the toasts shown (a toast raised under a dialog waits for it to close)"),
    ("tab", "Next field"),
]


class ScreenCommand(NamedTuple):
    key: str
    title: str
    """The footer's word (the binding's description)."""
    text: str
    """The tooltip when there is one, else the title."""
    action: str
    enabled: bool


def screen_commands(screen: Screen[object]) -> list[ScreenCommand]:
    """Every described binding of ``screen``, in declaration order.

    Read from the screen's own BINDINGS (not the focus chain), so keys a focused input
    would swallow are still listed, and so still reachable from the palette.
    """
    from textual.binding import Binding

    seen: set[str] = set()
    out: list[ScreenCommand] = []
    for cls in type(screen).__mro__:
        if cls.__module__.startswith("textual."):
            continue
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            if not binding.description or binding.system or binding.action in seen:
                continue
            seen.add(binding.action)
            name, _, params = binding.action.partition("(")
            enabled = screen.check_action(name, ()) if not params else True
            display = screen.app.get_key_display(binding)
            text = binding.tooltip or binding.description
            out.append(
                ScreenCommand(display, binding.description, text, binding.action, bool(enabled))
            )
    return out


class HelpScreen(AppModal):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 70;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen .title { text-style: bold; }
    HelpScreen VerticalScroll { height: auto; max-height: 18; }
    """
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def __init__(self, target: Screen[object]) -> None:
        super().__init__()
        self.target = target
        self.target_name = getattr(target, "HELP_TITLE", type(target).__name__)

    def compose(self) -> ComposeResult:
        rows = screen_commands(self.target)
        lines: list[Content] = []
        for key, _title, description, _action, enabled in rows:
            style = "" if enabled else "$text-muted"
            note = "" if enabled else "  (not now)"
            lines.append(
                Content.assemble((f"{key:>10}", "bold $accent"), "  ", (description + note, style))
            )
        lines.append(Content(""))
        for key, description in GLOBAL_KEYS:
            lines.append(
                Content.assemble((f"{key:>10}", "bold"), "  ", (description, "$text-muted"))
            )
        intro = getattr(self.target, "HELP_TEXT", "")
        with Vertical():
            yield Static(Content(f"Keys: {self.target_name}"), classes="title")
            if intro:
                yield Static(Content.styled(intro, "$text-muted"))
            with VerticalScroll():
                yield Static(Content("\n").join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
