"""Devices by filter: the table, paging as you scroll, actions on the whole filter."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from m2m_tui.sim import RunningSimulator
from m2m_tui.ui.screens.dialogs import ConfirmDialog
from m2m_tui.ui.screens.filter import PAGE_SIZE, FilterScreen

from .conftest import SIZE, login, screen_name, type_text, wait_for
from .test_devices import app_for


def count_text(app: object) -> str:
    return str(app.screen.query_one("#filter-count").render())  # type: ignore[attr-defined]


async def open_filter(pilot: object, app: object) -> None:
    await pilot.press("escape", "f")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: isinstance(app.screen, FilterScreen))  # type: ignore[arg-type,attr-defined]


async def test_filter_pages_as_you_scroll(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await open_filter(pilot, app)
        screen = app.screen
        assert screen.query_one("#q-account", Input).value == sim.config.primary_account
        screen.query_one("#q-group", Input).value = f"Default: {sim.config.primary_account}"
        await pilot.press("enter")
        table = screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE)
        assert "more as you scroll" in count_text(app)
        assert table.has_focus
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: table.row_count == 2 * PAGE_SIZE)
        keys = [row.value for row in table.rows]
        assert len(set(keys)) == len(keys)
        await pilot.press("enter")  # open the highlighted device
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        await wait_for(pilot, lambda: app.screen.device is not None)


async def test_filter_needs_account_and_a_criterion(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await open_filter(pilot, app)
        await pilot.press("enter")
        assert "group, a plan or a custom field" in count_text(app)
        app.screen.query_one("#q-account", Input).value = ""
        app.screen.query_one("#q-plan", Input).value = "M2MPLAN3G"
        await pilot.press("enter")
        assert "account is required" in count_text(app)


async def test_filter_action_confirms_every_matching_device(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await open_filter(pilot, app)
        app.screen.query_one("#q-plan", Input).value = "M2MPLAN3G"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "devices" in count_text(app))
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = "\n".join(app.screen.lines)
        assert "EVERY matching device" in text and "callback" in text
        # One key must not change every matching device: "y" is only text here.
        await pilot.press("y", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog) and not app.submitted
        problem = str(app.screen.query_one("#typed-problem").render())
        assert "'y' is not" in problem and "exactly" in problem  # said in the dialog
        typed = app.screen.typed
        assert typed is not None and f"Type {typed}" in str(
            app.screen.query_one(".typed .label").render()
        )
        field = app.screen.query_one("#typed", Input)
        field.value = ""
        await type_text(pilot, typed)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.submitted))
        assert not app.submitted[0].pollable
        assert app.submitted[0].target == {"servicePlan": "M2MPLAN3G"}


async def test_filter_pages_on_when_pages_carry_no_device_id(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    sim.config.list_extended_attributes = False  # pages by date added from here on
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await open_filter(pilot, app)
        screen = app.screen
        screen.query_one("#q-group", Input).value = f"Default: {sim.config.primary_account}"
        await pilot.press("enter")
        table = screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE)
        assert "more as you scroll" in count_text(app)
        await pilot.press("ctrl+end")
        # earliest is inclusive: the second page starts with the last device of the first.
        await wait_for(pilot, lambda: table.row_count == 2 * PAGE_SIZE - 1)
        keys = [row.value for row in table.rows]
        assert len(set(keys)) == len(keys)
        assert isinstance(screen, FilterScreen) and screen.pager is not None
        assert screen.pager.by_date


async def test_filter_bad_account_says_what_an_account_looks_like(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """Walk finding 6: "Field units" showed only the tail of a raw pydantic error."""
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await open_filter(pilot, app)
        app.screen.query_one("#q-account", Input).value = "Field units"
        app.screen.query_one("#q-group", Input).value = "anything"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "0000123456-00001" in count_text(app))
        assert "account must look like 0000123456-00001" in count_text(app)
        assert "pydantic" not in count_text(app)
