"""The validated settings reach the app after the first frame (which listed only the names).

Validation runs in a thread once the first frame is out; its result then replaces the first
frame's reading everywhere at once: the profile chosen, the theme, the login screen's fields,
the header, and one toast for every problem found.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from m2m_tui.desk.settings import LoadedSettings
    from m2m_tui.ui.app import M2MApp


def validate_settings(app: M2MApp) -> None:
    """Validate, in a thread, the files the first frame read (they are not read again)."""

    def validate() -> None:
        app.call_from_thread(settings_ready, app, app.settings.validate())

    app.run_worker(
        validate, thread=True, group="config", exit_on_error=False, description="read config"
    )


def settings_ready(app: M2MApp, loaded: LoadedSettings) -> None:
    from m2m_tui.ui.screens.login import LoginScreen

    chosen, extra = app.settings.accept(loaded, app.session.profile_name)
    app.session.profile_name = chosen
    wanted = app.settings.theme_name(app.options.profile)
    if not os.environ.get("TEXTUAL_THEME") and wanted in app.available_themes:
        app.settings_theme = app.theme = wanted
    app.config_ready.set()
    for screen in app.screen_stack:
        if isinstance(screen, LoginScreen):
            screen.settings_ready()
    app.sync_bars()
    problems = [str(p) for p in loaded.problems] + extra + app.options.extra_problems
    if problems:
        shown = "\n".join(problems[:4])
        more = f"\n(+{len(problems) - 4} more)" if len(problems) > 4 else ""
        app.notify(
            shown + more, title="Config problems", severity="warning", timeout=15, markup=False
        )
