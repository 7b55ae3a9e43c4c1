"""Snapshots at 80x24: login, device card, filter results, confirm dialog, help.

Deterministic by construction: a fixed clock (countdowns, "3d ago"), the simulator with a
fixed ``now`` and seed, no listener (its port would vary), a steady cursor, animations off.
Update baselines with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and review them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from m2m_tui.sim import wellknown as wk

from .conftest import (
    FIXED_NOW,
    SIZE,
    login,
    lookup,
    make_app,
    make_demo_app,
    wait_for,
    write_config,
)

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11), reason="baselines are made with Python 3.11"
)

STAMP = FIXED_NOW.timestamp()


async def _logged_in(pilot: Pilot[Any]) -> None:
    app: Any = pilot.app
    await wait_for(pilot, app.demo_services.ready.is_set)
    await login(pilot, password=None)


def test_login_screen(snap_compare: Any, isolated_home: Path) -> None:
    write_config(
        isolated_home,
        'default_profile = "acme"\n'
        "[profiles.acme]\n"
        'base_url = "https://thingspace.verizon.com"\n'
        'account = "0000123456-00001"\n'
        'app_key = "acme-app-key"\n'
        'username = "acme_uws_user"\n'
        "[profiles.staging]\n"
        'base_url = "https://staging.thingspace.verizon.com"\n',
    )
    app = make_app(isolated_home, profile="acme", clock=lambda: STAMP)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, app.config_ready.is_set)  # the first frame lists only the names
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_device_card(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _logged_in(pilot)
        await lookup(pilot, wk.DEMO_IMEI)

    assert snap_compare(make_demo_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)


def test_filter_results(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await _logged_in(pilot)
        await pilot.press("escape", "f")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FilterScreen")
        app.screen.query_one("#q-plan", Input).value = "M2MPLAN3G"
        app.screen.query_one("#q-plan", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query_one("DataTable").row_count > 0)

    assert snap_compare(make_demo_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)


def test_confirm_dialog(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await _logged_in(pilot)
        await lookup(pilot, wk.DEMO_IMEI)
        await pilot.press("D")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DeactivateDialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")

    assert snap_compare(make_demo_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await _logged_in(pilot)
        await lookup(pilot, wk.DEMO_IMEI)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")

    assert snap_compare(make_demo_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)


def test_device_card_with_diagnosis(snap_compare: Any, tmp_path: Path) -> None:
    """Issue 10: story B (suspended by jdoe) at 80x24, the diagnosis at the top of the card."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await _logged_in(pilot)
        await lookup(pilot, "5551230102")
        await wait_for(pilot, lambda: app.screen.query_one("#card").diagnosis is not None)

    assert snap_compare(make_demo_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)
