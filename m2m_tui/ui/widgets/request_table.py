"""The requests table's Textual pieces: the table itself and the texts of its cells.

Kept apart from :mod:`m2m_tui.ui.screens.requests` (which fills the table and follows the
tracker) so the screen stays about the view's behaviour; what each cell says is in
:mod:`m2m_tui.ui.widgets.request_rows`, without Textual.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class IdText(Text):
    """The short id shown, carrying the full one so the table can be sorted by our models."""

    def __init__(self, request_id: str) -> None:
        super().__init__(request_id[:8])
        self.request_id = request_id


class GapText(Text):
    """Cut with an ellipsis one cell short of its column, so the next one keeps its gap (the
    table has no cell padding); the whole text stays the cell's value."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterable[Segment]:
        yield from super().__rich_console__(
            console, options.update_width(max(1, options.max_width - 1))
        )


class RequestTable(DataTable[Any]):
    """The table, with Enter described (a DataTable's own Enter is hidden from the footer)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open", tooltip="Open the request")]
