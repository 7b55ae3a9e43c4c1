"""The header and status bars as the user reads them, for tests that check app state the bars
show (profile, read-only, demo, listener, login guard) without reading the app's attributes."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from m2m_tui.ui.widgets.bars import AppHeader, StatusBar


def _screen(app: Any, under_dialog: bool) -> Screen[Any]:
    """The screen on top, or the one under the dialog on top (its bars are what shows)."""
    return app.screen_stack[-2] if under_dialog else app.screen  # type: ignore[no-any-return]


def header_text(app: Any, *, under_dialog: bool = False) -> str:
    """The header line: ``m2m-tui DEMO READ-ONLY profile … account … env …`` (user at 100+)."""
    return str(_screen(app, under_dialog).query_one(AppHeader).render())


def status_text(app: Any, *, under_dialog: bool = False) -> str:
    """The status line: ``session 17:42 bearer 58:10 │ cb 127.0.0.1:9001 ✓3 ✗0 │ poller …``."""
    return str(_screen(app, under_dialog).query_one(StatusBar).render())
