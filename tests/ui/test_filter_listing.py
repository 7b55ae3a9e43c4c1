"""Issue 12 point 15: listing a filter's devices page by page says how far it got, and a key
shown in the footer stops it, keeping the rows listed (the simulator over loopback HTTP)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input

from m2m_tui.sim import RunningSimulator
from m2m_tui.ui.screens.filter import PAGE_SIZE, FilterScreen

from .conftest import SIZE, login, wait_for
from .test_devices import app_for
from .test_filter import count_text, open_filter


def footer_keys(app: Any) -> set[str]:
    """The keys the footer shows within the terminal's width (FooterKey is not exported)."""
    width = app.size.width
    return {key.key for key in app.screen.query("FooterKey") if key.region.right <= width}


async def test_listing_every_page_shows_progress_and_stops_keeping_rows(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        # The third page is held until the test lets it go: listing is then under way.
        real = app.client.list_devices
        held = asyncio.Event()
        calls: list[int] = []

        async def list_devices(request: Any) -> Any:
            calls.append(1)
            if len(calls) == 3:
                await held.wait()
            return await real(request)

        app.client.list_devices = list_devices
        await open_filter(pilot, app)
        screen = app.screen
        assert isinstance(screen, FilterScreen)
        screen.query_one("#q-group", Input).value = f"Default: {sim.config.primary_account}"
        await pilot.press("enter")
        table = screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE)
        assert "x" not in footer_keys(app)  # nothing to stop
        assert "a" in footer_keys(app)
        await pilot.press("a")  # list every page
        await wait_for(pilot, lambda: len(calls) == 3)
        await wait_for(pilot, lambda: "page 3 · 100 devices so far" in count_text(app))
        assert table.row_count == 2 * PAGE_SIZE
        await pilot.pause()
        assert "x" in footer_keys(app)  # the stop key is in the footer while listing
        await pilot.press("x")
        await wait_for(pilot, lambda: "stopped at page 2" in count_text(app))
        assert "100 devices listed, kept" in count_text(app)
        assert table.row_count == 2 * PAGE_SIZE and not screen.loading
        await pilot.pause()
        assert "x" not in footer_keys(app)
        # The actions apply to the filter, and know how many were listed (and that more exist).
        assert screen.target is not None and screen.target.loaded == 100 and screen.target.more
        # Listing goes on from where it stopped.
        held.set()
        await pilot.press("m")
        await wait_for(pilot, lambda: table.row_count > 2 * PAGE_SIZE)
        keys = [row.value for row in table.rows]
        assert len(set(keys)) == len(keys)


async def test_listing_all_runs_to_the_end(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await open_filter(pilot, app)
        screen = app.screen
        screen.query_one("#q-group", Input).value = f"Default: {sim.config.primary_account}"
        await pilot.press("enter")
        table = screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE)
        await pilot.press("a")
        await wait_for(pilot, lambda: not screen.more and not screen.loading, within=20)
        assert table.row_count > 2 * PAGE_SIZE
        assert count_text(app) == f"{table.row_count:,} devices"
