"""The toasts as the user sees them: read from the screen's toast rack, not the app's list.

Textual mounts one ``Toast`` per notification in the ``ToastRack`` of the screen on top
(``run_test(notifications=True)``; without it there is no rack and nothing is shown). A toast
renders its title (bold, the ``toast--title`` style) on the first line and its message under
it, and carries its severity as a CSS class (``-information``, ``-warning``, ``-error``, which
colours its left border). These helpers read exactly that, so a test fails when the user would
not see the notice, whatever the app keeps internally.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.widget import Widget

SEVERITIES = ("information", "warning", "error")


@dataclass(frozen=True, slots=True)
class Shown:
    """One toast on screen: its bold first line (if any), the text under it, its colour."""

    title: str
    message: str
    severity: str

    @property
    def text(self) -> str:
        return f"{self.title}\n{self.message}" if self.title else self.message


def _read(toast: Widget) -> Shown:
    content = toast.render()
    assert isinstance(content, Content)
    plain = content.plain
    title_style = toast.get_visual_style("toast--title")
    title = ""
    for span in content.spans:
        if span.start == 0 and plain[span.end : span.end + 1] == "\n" and span.style == title_style:
            title = plain[: span.end]
            break
    message = plain[len(title) + 1 :] if title else plain
    severity = next((s for s in SEVERITIES if toast.has_class(f"-{s}")), "")
    return Shown(title, message, severity)


def toasts(app: App[Any]) -> list[Shown]:
    """The toasts shown on the screen on top, oldest first (empty when the rack is hidden)."""
    # By type name: Textual does not export ToastRack and Toast (textual.widgets._toast).
    racks = list(app.screen.query("ToastRack"))
    if not racks or not racks[0].display:
        return []
    return [_read(toast) for toast in racks[0].query("Toast")]


def toast_texts(app: App[Any]) -> list[str]:
    """Each toast's whole text (title line and message)."""
    return [shown.text for shown in toasts(app)]


def shown_with(app: App[Any], needle: str) -> list[Shown]:
    """The toasts whose text contains ``needle``."""
    return [shown for shown in toasts(app) if needle in shown.text]


async def wait_for_toast(
    pilot: Pilot[Any],
    needle: str | Callable[[Shown], bool],
    within: float = 5.0,
) -> Shown:
    """Pause until a toast containing ``needle`` (or matching it) is on screen; return it."""
    match: Callable[[Shown], bool] = (
        (lambda shown: needle in shown.text) if isinstance(needle, str) else needle
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        found = [shown for shown in toasts(pilot.app) if match(shown)]
        if found:
            return found[-1]
        if loop.time() > deadline:
            raise AssertionError(
                f"no toast matching {needle!r} within {within} s; shown: {toast_texts(pilot.app)}"
            )
        await pilot.pause(0.02)


async def toasts_so_far(pilot: Pilot[Any], within: float = 5.0) -> list[Shown]:
    """Every toast raised before this call, once on screen (without the marker used to know).

    A marker toast is raised and waited for: toasts are mounted in the order they were raised,
    so when it shows, nothing raised earlier is still on its way. Not under a dialog (there
    toasts wait for it to close).
    """
    marker = f"(test marker {id(pilot)}:{asyncio.get_running_loop().time()})"
    pilot.app.notify(marker, markup=False)
    await wait_for_toast(pilot, marker, within=within)
    return [shown for shown in toasts(pilot.app) if marker not in shown.text]
