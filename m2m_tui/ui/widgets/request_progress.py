"""A request's progress: Textual's ProgressBar of answered against expected, failures beside it.

A filter request over hundreds of devices used to show only ``results 412/?``. The bar is
set from the tracker's coalesced updates (the screens call :meth:`RequestProgress.show` once
per batch), so a burst of callbacks costs one repaint. When the expected count is unknown
(a filter's matching devices are not counted by ThingSpace) the bar is Textual's
indeterminate one and the text says the count is unknown: no total is made up.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import ProgressBar, Static

from m2m_tui.ui.widgets.request_rows import Progress, RequestView, progress_of


class RequestProgress(Horizontal):
    """One line: the bar, its percentage, and ``412/600 answered  ✗ 3 failed``."""

    DEFAULT_CSS = """
    RequestProgress {
        height: 1;
        padding: 0 1;
        &.-empty { display: none; }
        & > ProgressBar { width: auto; margin-right: 1; }
        & > ProgressBar Bar { width: 24; }
        & > ProgressBar Bar > .bar--indeterminate { color: $accent; }
        &.-failures > ProgressBar Bar > .bar--bar { color: $warning; }
        &.-failures > ProgressBar Bar > .bar--complete { color: $warning; }
        & > .progress-text { width: 1fr; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="-empty")
        #: What is shown now (tests read it; None while hidden).
        self.shown: Progress | None = None
        #: Times the bar changed (one per coalesced tracking update at most).
        self.changes = 0

    def compose(self) -> ComposeResult:
        # A known total while hidden: Textual animates an unknown one at 15 frames a second.
        yield ProgressBar(total=1, show_eta=False, show_percentage=True)
        yield Static("", classes="progress-text", markup=False)

    def show(self, view: RequestView | None) -> None:
        """Set the bar from ``view`` (a no-op when nothing changed: no repaint)."""
        progress = progress_of(view)
        if progress == self.shown:
            return
        self.shown = progress
        self.changes += 1
        self.set_class(progress is None, "-empty")
        bar = self.query_one(ProgressBar)
        if progress is None:
            bar.update(total=1, progress=0)  # hidden, and still
            return
        self.set_class(progress.failures > 0, "-failures")
        # Finished with no known count: nothing is on its way, so no bar keeps moving.
        moving = progress.expected is not None or not progress.finished
        bar.display = moving
        total = progress.expected if moving else 1
        bar.update(total=total, progress=progress.answered if moving else 0)
        bar.query_one("#percentage").display = progress.expected is not None
        parts: list[Content | tuple[str, str] | str] = [progress.text]
        if progress.failures:
            parts += ["  ", (progress.failed_text, "bold $error")]
        self.query_one(".progress-text", Static).update(Content.assemble(*parts))
