"""Snapshot at 80x24 of the login screen with an error: the steps and advice whole, in sight.

Update the baseline with ``pytest tests/ui/test_snapshots_login.py --snapshot-update``.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from m2m_tui.ui.screens.login import LoginSteps

from .conftest import FIXED_NOW, SIZE, make_app, wait_for, write_config

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11), reason="baselines are made with Python 3.11"
)


def test_login_screen_with_an_error(snap_compare: Any, isolated_home: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on: the token step fails
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_config(
        isolated_home,
        'default_profile = "acme"\n'
        "[profiles.acme]\n"
        f'base_url = "http://127.0.0.1:{port}"\n'
        'account = "0000123456-00001"\n'
        'app_key = "acme-app-key"\n'
        'username = "acme_uws_user"\n',
    )
    stamp = FIXED_NOW.timestamp()
    app = make_app(isolated_home, profile="acme", clock=lambda: stamp)

    async def run_before(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, app.config_ready.is_set)
        screen = app.screen
        screen.query_one("#f-app_secret", Input).value = "s"
        screen.query_one("#f-password", Input).value = "p"
        await pilot.press("ctrl+l")
        steps = screen.query_one(LoginSteps)
        await wait_for(pilot, lambda: steps.steps[0].state == "failed", within=15)
        # The port varies from run to run: show a fixed one.
        screen.query_one("#f-base_url", Input).value = "http://127.0.0.1:9"
        steps.set(0, "failed", steps.steps[0].detail.replace(str(port), "9"))
        screen.set_focus(None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
