"""The header and status bar follow the app's state; screens never repaint them by hand."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from m2m_tui.ui.widgets.bars import StatusBar

from .conftest import SIZE, make_app, wait_for, write_config


def counting(widget: Any) -> list[object]:
    """Record every repaint the widget asks for (``Static.update``)."""
    calls: list[object] = []
    update = widget.update

    def counted(content: object = "", **kwargs: Any) -> None:
        calls.append(content)
        update(content, **kwargs)

    widget.update = counted
    return calls


async def test_a_clock_tick_that_changes_nothing_shown_repaints_nothing(
    isolated_home: Path,
) -> None:
    """Not logged in, the status bar shows no countdown: a second going by repaints nothing
    (it repainted every bar once a second before)."""
    write_config(isolated_home, '[profiles.acme]\nbase_url = "http://127.0.0.1:9"\n')
    ticks = itertools.count(1_800_000_000)
    read: list[float] = []

    def clock() -> float:
        read.append(float(next(ticks)))  # a second per reading, whoever reads it
        return read[-1]

    app = make_app(isolated_home, profile="acme")  # a live clock: the bars tick
    app.clock = clock  # what the bars read the time with (counted)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        bar = app.screen.query_one(StatusBar)
        repaints = counting(bar)
        before = len(read)
        await wait_for(pilot, lambda: len(read) >= before + 3)  # three ticks of the bars' clock
        assert repaints == []
        assert "not logged in" in str(bar.render())
