"""What a screen may ask of the app itself, declared without importing the app.

Screens get the desk objects they use from :class:`~m2m_tui.ui.services.Services`; the few
things only an App can do (copy over OSC 52 with a toast, the one error handler, the notices
held under a dialog, opening the devices screen after a login, ending the session) are
declared here, so ``ui.screens`` and ``ui.widgets`` never import ``ui.app``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.worker import Worker


@runtime_checkable
class Host(Protocol):
    """The app's methods the screens call (the M2M app provides them all)."""

    def copy_text(self, text: str, what: str) -> None:
        """Copy to the clipboard (OSC 52, reaches the local one over SSH) and say so."""

    def report_error(self, error: BaseException, context: str = "") -> None:
        """The one place a failure becomes a toast (known) or a dialog (unexpected)."""

    def worker_failed(self, worker: Worker[Any]) -> None:
        """A screen's worker failed: its error goes to :meth:`report_error`."""

    def hold_notices(self) -> None:
        """A dialog opened: the toasts shown step aside."""

    def release_notices(self) -> None:
        """No dialog any more: the toasts that waited are shown."""

    def session_started(self) -> None:
        """The login screen's session logged in: tracking starts, the devices screen opens."""

    async def end_session(self) -> None:
        """Log out (the bars follow)."""


def host(node: DOMNode) -> Host:
    """The app ``node`` runs in, as a :class:`Host` (screens run only in the M2M app)."""
    app = node.app
    if not isinstance(app, Host):
        raise TypeError(f"{type(app).__name__} does not host the m2m-tui screens")
    return app


def host_or_none(node: DOMNode) -> Host | None:
    """The same, or None in another app (a dialog or widget tried on its own)."""
    app = node.app
    return app if isinstance(app, Host) else None
