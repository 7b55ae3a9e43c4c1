"""How a failure reaches the user: a toast for what we understand, a dialog for the rest.

Known ThingSpace errors carry a hint and go to a toast; a provisioning timeout gets a dialog
because the request may have gone through and must not be sent twice; anything unexpected is
logged with its traceback and shown in a dialog while the app keeps running.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger("m2m_tui.ui")


def report_error(app: App[Any], error: BaseException, context: str = "") -> None:
    from m2m_tui.api.errors import NotRetriedTimeout, ThingSpaceError
    from m2m_tui.ui.screens.dialogs import ErrorDialog

    if isinstance(error, NotRetriedTimeout):
        app.push_screen(ErrorDialog("Request timed out: NOT retried", f"{error}"))
    elif isinstance(error, ThingSpaceError):
        code = f" ({error.code})" if error.code else ""
        app.notify(
            f"{error.message}{code}\n{error.hint}",
            title=context or "ThingSpace",
            severity="error",
            timeout=10,
            markup=False,
        )
    elif isinstance(error, ValueError):
        app.notify(str(error), title=context, severity="warning", markup=False)
    else:
        log.error("unexpected error in %s", context, exc_info=error)
        app.push_screen(
            ErrorDialog(
                f"Unexpected error ({context})",
                f"{type(error).__name__}: {error}\n\nThe app keeps running.",
            )
        )
