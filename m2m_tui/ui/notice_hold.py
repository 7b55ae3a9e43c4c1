"""Toasts that never cover a dialog, and a key that dismisses them.

At 80x24 a toast took half the card and, raised while a confirm dialog was up, covered the
dialog's lines (the daily-limit line among them). Here a toast raised while a modal dialog
is up waits, and toasts already shown step aside when a dialog opens; both come back, with
their full time, when the dialog closes. ``x`` dismisses the toasts shown (footer and help).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import App, ScreenStackError
from textual.binding import Binding
from textual.screen import ModalScreen

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

#: Seconds a toast stays, by severity: long enough to read two short lines, no longer.
TIMEOUTS: dict[str, float] = {"information": 5.0, "warning": 8.0, "error": 10.0}


@dataclass(frozen=True, slots=True)
class HeldNotice:
    message: str
    title: str
    severity: SeverityLevel
    timeout: float | None
    markup: bool


class NoticeApp(App[int]):
    """The app's toast policy (the M2MApp base): short, dismissable, never over a dialog."""

    NOTICE_BINDINGS = [
        Binding("x", "dismiss_toasts", "Hide", tooltip="Dismiss the toasts shown"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.held_notices: list[HeldNotice] = []

    def dialog_up(self) -> bool:
        """Whether a modal dialog (confirm, parameters, help, palette) is on top."""
        try:
            return isinstance(self.screen, ModalScreen)
        except ScreenStackError:
            return False

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        timeout = min(timeout, TIMEOUTS[severity]) if timeout is not None else TIMEOUTS[severity]
        if self.dialog_up():
            self.held_notices.append(HeldNotice(message, title, severity, timeout, markup))
            return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        self.refresh_bindings()
        # The footer's "x Hide toast" goes when the last toast has gone by itself.
        self.set_timer(timeout + 0.1, self._refresh_footer_keys)

    def _refresh_footer_keys(self) -> None:
        """Later, from a timer: by then the app may be closing with no screen left."""
        if self.screen_stack:
            self.refresh_bindings()

    def hold_notices(self) -> None:
        """A dialog opened: the toasts shown step aside (they come back when it closes)."""
        shown = list(self._notifications)
        if not shown:
            return
        self.held_notices.extend(
            HeldNotice(n.message, n.title, n.severity, n.timeout, n.markup) for n in shown
        )
        self.clear_notifications()
        # The screen under the dialog still shows its toasts: empty its rack too.
        for screen in self.screen_stack:
            for rack in screen.query("ToastRack"):
                rack.show(self._notifications)  # type: ignore[attr-defined]

    def release_notices(self) -> None:
        """No dialog any more: show what waited, each with its full time."""
        if self.dialog_up() or not self.held_notices:
            return
        held, self.held_notices = self.held_notices, []
        for notice in held:
            self.notify(
                notice.message,
                title=notice.title,
                severity=notice.severity,
                timeout=notice.timeout,
                markup=notice.markup,
            )

    def action_dismiss_toasts(self) -> None:
        self.clear_notifications()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "dismiss_toasts":
            return bool(self._notifications)
        return True
