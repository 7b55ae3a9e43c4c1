"""The app says why it does not receive callbacks (issue 9, points 4 and 7), never crashes.

A mistyped ``--journal`` to follow is not created; a profile with a callback username but no
password gets no listener (it would accept anyone's callbacks).
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from textual.widgets import Input

from m2m_tui.sim import RunningSimulator
from m2m_tui.ui.app import M2MApp
from m2m_tui.ui.run import build_options

from .conftest import FAST_RETRY, SIZE, screen_name, sim_profile_toml, wait_for, write_config
from .toasts import toast_texts, toasts, wait_for_toast


async def _log_in(app: M2MApp, sim: RunningSimulator, expected: str) -> list[str]:
    """Log in; returns the toasts shown once one of them contains ``expected``."""
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: screen_name(app) == "LoginScreen")
        await wait_for(pilot, lambda: app.config_ready.is_set())
        app.screen.query_one("#f-app_secret", Input).value = sim.config.app_secret
        app.screen.query_one("#f-password", Input).value = sim.config.password
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        await wait_for_toast(pilot, expected, within=15)
        return [t.message for t in toasts(app)]


def _app(journal: Path | None) -> M2MApp:
    args = argparse.Namespace(profile="acme", read_only=False, no_mouse=True, journal=journal)
    options = build_options(args)
    options.watchdog = False
    options.retry = FAST_RETRY
    return M2MApp(options)


async def test_following_a_mistyped_journal_says_so_and_creates_nothing(
    sim: RunningSimulator, isolated_home: Path, tmp_path: Path
) -> None:
    write_config(isolated_home, sim_profile_toml(sim))
    missing = tmp_path / "shraed" / "journal.sqlite3"
    app = _app(missing)
    messages = await _log_in(app, sim, "no journal here")
    assert any("no journal here" in m and str(missing) in m for m in messages), messages
    assert not missing.exists() and not missing.parent.exists()


async def test_a_callback_username_without_a_password_gets_no_listener(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    callback = '{ username = "tui", public_url = "https://cb.example.com/m2m" }'
    write_config(isolated_home, sim_profile_toml(sim, callback=callback))
    app = _app(None)
    messages = await _log_in(app, sim, "without a password")
    assert any(m.startswith("callbacks off:") for m in messages), messages
    assert app.tracking is not None and app.tracking.settings.listener is None


async def test_a_port_held_by_another_listener_toast_says_follow_it(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """Walk finding 8: the toast at 80x24 names the likely holder and the way out, not
    asyncio's Python repr of the address."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        callback = f'{{ listen = "127.0.0.1:{port}" }}'
        write_config(isolated_home, sim_profile_toml(sim, callback=callback))
        app = _app(None)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_for(pilot, lambda: screen_name(app) == "LoginScreen")
            await wait_for(pilot, lambda: app.config_ready.is_set())
            app.screen.query_one("#f-app_secret", Input).value = sim.config.app_secret
            app.screen.query_one("#f-password", Input).value = sim.config.password
            await pilot.press("ctrl+l")

            def toast_text() -> str:
                return " ".join(" ".join(text.split()) for text in toast_texts(app))

            await wait_for(pilot, lambda: "another m2m-tui" in toast_text(), within=15)
            text = toast_text()
    assert "holds this port" in text and "--journal PATH" in text, text
    assert "('127.0.0.1'" not in text and "error while attempting" not in text, text
