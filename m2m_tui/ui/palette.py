"""The command palette's entries: every described binding of the screen, then the app's own.

Kept out of ``ui/app.py`` so the app stays about the shell; the palette parses help text as
markup, so text from the outside (a request id) is reduced to safe characters here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand

if TYPE_CHECKING:
    from textual.screen import Screen

    from m2m_tui.ui.app import M2MApp


def app_commands(app: M2MApp, screen: Screen[Any]) -> Iterator[SystemCommand]:
    """The screen's keys as commands, then help, inbox, registration and the last request."""
    from m2m_tui.ui.screens.help import screen_commands

    for command in screen_commands(screen):
        help_text = command.text if command.text != command.title else ""
        state = "" if command.enabled else " (not available now)"
        yield SystemCommand(
            command.title,
            f"key {command.key}{state}  {help_text}".rstrip(),
            partial(app.run_action, command.action, screen),
        )
    yield SystemCommand("Help", "Keys of this screen (key ?)", app.action_help)
    offered = {command.action for command in screen_commands(screen)}
    if "inbox" not in offered:
        yield SystemCommand("Callbacks inbox", "Every callback received", app.action_inbox)
    if "registration" not in offered:
        yield SystemCommand(
            "Callback registration",
            "What the account registered; register ours",
            app.action_registration,
        )
    last = app.desk.last
    if last is not None:
        shown = re.sub(r"[^A-Za-z0-9._-]", "?", last.request_id)[:40]
        if "app.open_last_request" not in offered:
            yield SystemCommand("Open last request", shown, app.action_open_last_request)
        if "app.copy_last_request" not in offered:
            yield SystemCommand("Copy last request id", shown, app.action_copy_last_request)
