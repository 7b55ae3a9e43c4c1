"""Moving the focus before the next key is read, so keys typed in one burst land where meant.

A password manager's auto-type, or a fast typist, sends a focus key (Tab, ``/``) and the text
after it in one read from the terminal. Textual forwards each key to the widget focused when
the app reads it; a non-priority binding runs only once the focused widget let the key bubble
back, and ``Widget.focus()`` waits one more turn of the app's queue. The keys after the focus
key have then gone to the old widget (the walk saw an App key field receive the whole form,
and digits after ``/`` open recent devices). So a key that moves the focus is a *priority*
binding (handled as the app reads it) whose action calls :func:`focus_now`.
"""

from __future__ import annotations

from typing import Any

from textual.actions import SkipAction
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input


def focus_now(widget: Widget) -> None:
    """Focus ``widget`` at once (``Widget.focus()`` defers it behind the queued keys)."""
    widget.screen.set_focus(widget)


def unless_typing(screen: Screen[Any]) -> None:
    """In a priority binding on a printable key: let the key be typed when text has the focus.

    Raises :class:`SkipAction`, which hands the key on to the focused input as if no binding
    had matched.
    """
    if isinstance(screen.focused, Input):
        raise SkipAction()
