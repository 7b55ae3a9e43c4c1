"""The frame every full screen shares, and the hook that sends worker errors to the app.

A screen is given the :class:`~m2m_tui.ui.services.Services` it uses when it is made; it
never reaches into the app for them, and asks the app only what :class:`~m2m_tui.ui.host.Host`
declares.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from m2m_tui.ui.host import host_or_none
from m2m_tui.ui.messages import SessionChanged
from m2m_tui.ui.widgets.bars import AppHeader, StatusBar
from m2m_tui.ui.widgets.footer import SteadyFooter

if TYPE_CHECKING:
    from m2m_tui.ui.services import Services

#: A screen's background work has ended: it may have used, renewed or lost the tokens.
ENDED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


class WorkerErrors:
    """Mixin: a failed worker of this node goes to the app's one error handler, and the
    app reads the session's state again once any of its work has ended."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        node: Any = self
        if event.state is WorkerState.ERROR:
            app = host_or_none(node)
            if app is not None:
                app.worker_failed(event.worker)
        if event.state in ENDED:
            node.app.post_message(SessionChanged())


class AppScreen(WorkerErrors, Screen[None]):
    """Header, body, status bar, footer."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield from self.compose_body()
        yield StatusBar()
        # ctrl+p is listed by "? more" (help): at 80 columns its room goes to the keys.
        yield SteadyFooter(compact=True, show_command_palette=False)

    def compose_body(self) -> Iterable[Widget]:
        return ()

    def on_screen_resume(self) -> None:
        """Back from a dialog: the toasts that waited for it are shown now."""
        app = host_or_none(self)
        if app is not None:
            app.release_notices()

    def shows_request(self, request_id: str) -> bool:
        """True when this screen already shows ``request_id`` live (no toast needed)."""
        return False


class AppModal(WorkerErrors, ModalScreen[Any]):
    """Base of the dialogs (so their workers report errors the same way)."""

    def on_screen_resume(self) -> None:
        """A toast never covers a dialog: those shown wait until it closes."""
        app = host_or_none(self)
        if app is not None:
            app.hold_notices()
