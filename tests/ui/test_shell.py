"""The app shell: help, palette, quit, the one error handler, markup safety, themes, demo."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from textual.content import Content

from m2m_tui.api.errors import NotFoundError
from m2m_tui.api.models import Device
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.screens.dialogs import ConfirmDialog, ErrorDialog
from m2m_tui.ui.screens.help import HelpScreen
from m2m_tui.ui.widgets.device_card import card_content

from .bars_seen import header_text, status_text
from .conftest import (
    SIZE,
    login,
    lookup,
    make_app,
    make_demo_app,
    screen_name,
    wait_for,
    write_config,
)
from .test_devices import app_for
from .toasts import toasts_so_far, wait_for_toast


def accepted_shown(app: object) -> int:
    """The listener's accepted count as the status bar shows it (``cb 127.0.0.1:… ✓N``)."""
    found = re.search(r"cb \S+ ✓(\d+)", status_text(app))
    return int(found.group(1)) if found else -1


async def test_help_lists_the_keys_of_the_current_screen(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await pilot.press("escape", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one("VerticalScroll Static").render())
        for expected in ("Suspend", "Restore", "Activate", "Deactivate", "Filter", "ctrl+q"):
            assert expected in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")


async def test_palette_lists_every_screen_action(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for expected in (
            "Suspend",
            "Restore",
            "Activate",
            "Deactivate",
            "Filter",
            "Recent",
            "Find",
            "Status",
            "Log out",
            "Copy device summary",
            "Theme",
            "Quit",
            "Help",
        ):
            assert expected in titles
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: screen_name(app) == "CommandPalette")
        await pilot.press("escape")


async def test_ctrl_q_quits_from_a_dialog(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_MDN)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code in (0, None)
    assert not sim.state.requests


async def test_unexpected_worker_error_is_a_dialog_not_a_crash(isolated_home: Path) -> None:
    app = make_app(isolated_home)

    async def boom() -> None:
        raise RuntimeError("kaboom [bold")

    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.screen.run_worker(boom, exit_on_error=False, description="test worker")
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
        assert "kaboom [bold" in app.screen.text
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ErrorDialog))
        app.run_worker(boom, exit_on_error=False, description="app worker")  # the app's own
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ErrorDialog))
        app.report_error(NotFoundError("no [red]device", code="X.REQUEST_FAILED.DeviceNotFound"))
        await wait_for_toast(pilot, "no [red]device")  # shown as written, not as markup
        assert app.is_running


def test_external_text_is_never_markup() -> None:
    device = Device.model_validate(
        {
            "deviceIds": [{"id": "[b]1234567890", "kind": "mdn"}],
            "customFields": [{"key": "CustomField1", "value": "[red]unterminated [link="}],
            "groupNames": ["[/]"],
            "carrierInformations": [{"state": "[blink]active", "servicePlan": "[x"}],
        }
    )
    text = str(card_content(device))
    assert "[red]unterminated [link=" in text and "[/]" in text and "[b]1234567890" in text
    assert isinstance(card_content(device), Content)


async def test_theme_switch_is_remembered(isolated_home: Path) -> None:
    path = write_config(isolated_home, 'theme = "m2m-dark"\n')
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "m2m-dark"
        assert {"m2m-dark", "m2m-light", "m2m-high-contrast"} <= set(app.available_themes)
        app.theme = "m2m-light"
        await wait_for(pilot, lambda: tomllib.loads(path.read_text()).get("theme") == "m2m-light")
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE):
        assert app.theme == "m2m-light"


async def test_bad_user_theme_warns_once_and_falls_back(isolated_home: Path) -> None:
    themes = isolated_home / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff0000"\ndark = false\n')
    write_config(isolated_home, 'theme = "broken"\n')
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        shown = await toasts_so_far(pilot)
        assert app.theme == "m2m-dark"
        assert "mine" in app.available_themes
        warnings = [t for t in shown if t.title == "Theme files skipped"]
        assert len(warnings) == 1 and "broken.toml" in warnings[0].message


async def test_demo_flow_login_lookup_status_suspend(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: " DEMO " in header_text(app))
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_IMEI)
        assert app.screen.device is not None
        await pilot.press("s")
        await wait_for(pilot, lambda: len(app.submitted) == 1)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: len(app.submitted) == 2)
        # Callbacks reach the in-process listener (registered with the simulator).
        await wait_for(pilot, lambda: accepted_shown(app) >= 2, within=10)  # "cb … ✓2"
    assert app.demo_services is not None and app.demo_services.sim is not None
    assert (tmp_path / "demo" / "journal.sqlite3").exists()
    assert not (Path.home() / "config" / "config.toml").exists()
