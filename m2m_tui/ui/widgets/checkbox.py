"""A checkbox whose state is in its characters: ``[x]`` on, ``[ ]`` off.

Textual's checkbox draws an X both ways and tells on from off by colour only, which
NO_COLOR and monochrome terminals (and some themes over SSH) lose.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class StateCheckbox(Checkbox):
    """Every checkbox of the app: the state is readable without colour."""

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.assemble(("[x]" if self.value else "[ ]", style))
