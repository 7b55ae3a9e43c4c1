"""The frame every full screen shares, and the hook that sends worker errors to the app."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from m2m_tui.ui.widgets.bars import AppHeader, StatusBar
from m2m_tui.ui.widgets.footer import SteadyFooter

if TYPE_CHECKING:
    from m2m_tui.ui.app import M2MApp


class WorkerErrors:
    """Mixin: a failed worker of this node goes to the app's one error handler."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            app: Any = getattr(self, "app", None)
            handler = getattr(app, "worker_failed", None)
            if handler is not None:
                handler(event.worker)


class AppScreen(WorkerErrors, Screen[None]):
    """Header, body, status bar, footer."""

    @property
    def m2m(self) -> M2MApp:
        from m2m_tui.ui.app import M2MApp

        assert isinstance(self.app, M2MApp)
        return self.app

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
        release = getattr(self.app, "release_notices", None)
        if release is not None:
            release()

    def shows_request(self, request_id: str) -> bool:
        """True when this screen already shows ``request_id`` live (no toast needed)."""
        return False

    def refresh_bars(self) -> None:
        for header in self.query(AppHeader):
            header.update_info()
        for bar in self.query(StatusBar):
            bar.refresh_status()


class AppModal(WorkerErrors, ModalScreen[Any]):
    """Base of the dialogs (so their workers report errors the same way)."""

    def on_screen_resume(self) -> None:
        """A toast never covers a dialog: those shown wait until it closes."""
        hold = getattr(self.app, "hold_notices", None)
        if hold is not None:
            hold()
