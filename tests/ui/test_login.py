"""Login screen: the main path and every decoded failure, against the simulator."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input

from m2m_tui.sim import RunningSimulator
from m2m_tui.ui.screens.dialogs import ConfirmDialog
from m2m_tui.ui.screens.login import LoginScreen, LoginSteps
from m2m_tui.ui.widgets.bars import AppHeader

from .bars_seen import header_text, status_text
from .conftest import (
    SIZE,
    make_app,
    screen_name,
    sim_profile_toml,
    wait_for,
    write_config,
)
from .toasts import wait_for_toast


def read_if_there(path: Path) -> str:
    """The file's text, or "" while it is not written yet."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def fill(app: object, **values: str) -> None:
    screen = app.screen  # type: ignore[attr-defined]
    for key, value in values.items():
        screen.query_one(f"#f-{key}", Input).value = value


def steps(app: object) -> list[tuple[str, str]]:
    widget = app.screen.query_one(LoginSteps)  # type: ignore[attr-defined]
    return [(s.state, s.detail) for s in widget.steps]


async def test_login_with_profile_reaches_devices(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    write_config(isolated_home, sim_profile_toml(sim))
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, LoginScreen)
        await wait_for(pilot, app.config_ready.is_set)  # the first frame has only the names
        assert app.screen.query_one("#f-account", Input).value == "0000123456-00001"
        fill(app, app_secret=sim.config.app_secret, password=sim.config.password)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        await wait_for(pilot, lambda: status_text(app).startswith("session "))  # countdowns
        await wait_for(pilot, lambda: "profile acme" in header_text(app))
        assert sim.state.logins == 1


async def test_wrong_password_says_attempt_and_lockout(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    write_config(isolated_home, sim_profile_toml(sim))
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=SIZE) as pilot:
        fill(app, app_secret=sim.config.app_secret, password="wrong")
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: steps(app)[1][0] == "failed")
        message = str(app.screen.query_one("#login-message").render())
        assert "attempt 1" in message and "5 failed attempts lock this user" in message
        assert steps(app)[0][0] == "ok"
        await wait_for(pilot, lambda: not app.screen.busy)  # type: ignore[attr-defined]
        # Never retried by itself (the login has ended: any retry would have been sent).
        assert sim.state.login_failures == 1
        assert screen_name(app) == "LoginScreen"


async def test_lockout_guard_needs_confirmation(sim: RunningSimulator, isolated_home: Path) -> None:
    write_config(isolated_home, sim_profile_toml(sim))
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=SIZE) as pilot:
        fill(app, app_secret=sim.config.app_secret)
        for attempt in (1, 2, 3):  # a new wrong password each time (an unchanged one is refused)
            fill(app, password=f"wrong-{attempt}")
            if attempt == 3:
                break
            await pilot.press("ctrl+l")
            await wait_for(pilot, lambda n=attempt: sim.state.login_failures == n)
            await wait_for(pilot, lambda: not app.screen.busy)  # type: ignore[attr-defined]
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert sim.state.login_failures == 2
        await wait_for(pilot, lambda: "LOGIN GUARD" in status_text(app, under_dialog=True))
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(app) == "LoginScreen")
        await wait_for(pilot, lambda: not app.screen.busy)  # type: ignore[attr-defined]
        assert sim.state.login_failures == 2
        # The user fixes the password and explicitly asks for one more attempt.
        fill(app, password=sim.config.password)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        assert sim.state.login_failures == 2 and sim.state.logins == 1


async def test_bad_app_secret_is_step_one(sim: RunningSimulator, isolated_home: Path) -> None:
    write_config(isolated_home, sim_profile_toml(sim))
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=SIZE) as pilot:
        fill(app, app_secret="nope", password=sim.config.password)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: steps(app)[0][0] == "failed")
        assert "app key or secret" in str(app.screen.query_one("#login-message").render())
        assert steps(app)[1][0] == "waiting"
        assert sim.state.login_failures == 0


async def test_unreachable_host(isolated_home: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_config(
        isolated_home,
        f'[profiles.down]\nbase_url = "http://127.0.0.1:{port}"\napp_key = "k"\nusername = "u"\n',
    )
    app = make_app(isolated_home, profile="down")
    async with app.run_test(size=SIZE) as pilot:
        fill(app, app_secret="s", password="p")
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: steps(app)[0][0] == "failed", within=15)
        assert "unreachable" in str(app.screen.query_one("#login-message").render())


async def test_missing_fields_are_named(isolated_home: Path) -> None:
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l")  # before the settings are validated: it waits for them

        def message() -> str:
            return str(app.screen.query_one("#login-message").render())

        await wait_for(pilot, lambda: "missing" in message())
        assert "App key" in message()


async def test_first_run_creates_profile_without_secrets(isolated_home: Path) -> None:
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        assert "No profile yet" in str(app.screen.query_one("#login-message").render())
        fill(
            app,
            name="acme",
            base_url="https://thingspace.verizon.com",
            app_key="key",
            app_secret="top-secret",
            username="user",
            password="pw",
            account="0000123456-00001",
        )
        await pilot.press("ctrl+s")
        config = isolated_home / "config" / "config.toml"
        await wait_for(pilot, lambda: "0000123456-00001" in read_if_there(config))
        data = tomllib.loads(config.read_text())
        assert data["profiles"]["acme"]["account"] == "0000123456-00001"
        assert "top-secret" not in config.read_text() and "pw" not in str(data)
        assert not (isolated_home / "config" / "secrets.toml").exists()

        app.screen.query_one("#save-secrets", Checkbox).value = True
        await pilot.press("ctrl+s")
        secrets = isolated_home / "config" / "secrets.toml"
        await wait_for(pilot, secrets.exists)
        assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o600
        assert tomllib.loads(secrets.read_text())["profiles"]["acme"]["app_secret"] == "top-secret"


async def test_broken_config_names_file_and_line_and_starts(isolated_home: Path) -> None:
    write_config(isolated_home, '[profiles.a]\nbase_url = "ftp://x"\naccount = 123\n')
    app = make_app(isolated_home, profile="a")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        text = (await wait_for_toast(pilot, "config.toml")).text
        assert "config.toml:2" in text and "profiles.a.base_url" in text
        assert "config.toml:3" in text and "leading zeros" in text
        assert isinstance(app.screen, LoginScreen)


async def test_profile_listener_starts_after_login(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    text = sim_profile_toml(sim) + (
        '[profiles.acme.callback]\nlisten = "127.0.0.1:0"\n'
        'public_url = "https://tui.example.net:9001"\n'
    )
    write_config(isolated_home, text)
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=(100, 30)) as pilot:  # the bar names the public URL at 100
        fill(app, app_secret=sim.config.app_secret, password=sim.config.password)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        await wait_for(pilot, lambda: "cb 127.0.0.1:" in status_text(app))  # listening
        assert "→ https://tui.example.net:9001" in status_text(app)


async def test_lockout_guard_survives_a_restart(sim: RunningSimulator, isolated_home: Path) -> None:
    """Issue 8, case 5: 2 wrong passwords, quit, restart: the 3rd attempt asks first."""
    write_config(isolated_home, sim_profile_toml(sim))
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=SIZE) as pilot:
        fill(app, app_secret=sim.config.app_secret)
        for attempt in (1, 2, 3):  # a new wrong password each time (an unchanged one is refused)
            fill(app, password=f"wrong-{attempt}")
            if attempt == 3:
                break
            await pilot.press("ctrl+l")
            await wait_for(pilot, lambda n=attempt: sim.state.login_failures == n)
            await wait_for(pilot, lambda: not app.screen.busy)  # type: ignore[attr-defined]
    restarted = make_app(isolated_home, profile="acme")
    async with restarted.run_test(size=SIZE) as pilot:
        await wait_for(pilot, restarted.config_ready.is_set)
        await pilot.pause()
        message = str(restarted.screen.query_one("#login-message").render())
        assert "2 failed login(s) recorded" in message and "after 5" in message
        fill(restarted, app_secret=sim.config.app_secret, password="wrong")
        await pilot.press("ctrl+l")
        await wait_for(
            pilot,
            lambda: isinstance(restarted.screen, ConfirmDialog) and restarted.screen.query(".body"),
        )
        text = str(restarted.screen.query_one(".body").render())
        assert "2 login(s)" in text and "after 5 failed attempts" in text
        assert sim.state.login_failures == 2
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(restarted) == "LoginScreen")
        await wait_for(pilot, lambda: not restarted.screen.busy)  # type: ignore[attr-defined]
        assert sim.state.login_failures == 2 and screen_name(restarted) == "LoginScreen"


async def test_read_only_from_env_is_on_the_first_screen(
    sim: RunningSimulator, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8, case 6: M2M_TUI_READ_ONLY=on: the settings and the screens say read-only."""
    write_config(isolated_home, sim_profile_toml(sim))
    monkeypatch.setenv("M2M_TUI_READ_ONLY", "on")
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        await pilot.pause()
        assert "READ-ONLY" in str(app.screen.query_one(AppHeader).render())
        fill(app, app_secret=sim.config.app_secret, password=sim.config.password)
        await pilot.press("ctrl+l")
        await wait_for(
            pilot, lambda: screen_name(app) == "DevicesScreen" and app.screen.focused is not None
        )
        assert app.read_only and "READ-ONLY" in str(app.screen.query_one(AppHeader).render())


async def test_an_unchanged_rejected_password_is_refused_with_a_reason(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """Walk finding 5: ctrl+l three times on a rejected password sent it twice."""
    write_config(isolated_home, sim_profile_toml(sim))
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        fill(app, app_secret=sim.config.app_secret, password="wrongpass1")
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: sim.state.login_failures == 1)
        await wait_for(pilot, lambda: not app.screen.busy)  # type: ignore[attr-defined]
        message = app.screen.query_one("#login-message")
        for _ in range(2):
            await pilot.press("ctrl+l")
            await wait_for(pilot, lambda: "already rejected" in str(message.render()))
            await wait_for(pilot, lambda: not app.screen.busy)  # type: ignore[attr-defined]
        assert sim.state.login_failures == 1 and not isinstance(app.screen, ConfirmDialog)
        assert "change the password" in str(message.render())
        fill(app, password=sim.config.password)  # changed: sent
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")


async def test_log_out_clears_the_user_and_the_steps(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """Walk finding 14: after L the header kept ``user demo_uws_user`` and the form
    ``✓ Session 0.0s``."""
    write_config(isolated_home, sim_profile_toml(sim))
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=(100, 30)) as pilot:  # the header names the user at 100
        await wait_for(pilot, app.config_ready.is_set)
        fill(app, app_secret=sim.config.app_secret, password=sim.config.password)
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        user = f"user {sim.config.username}"
        await wait_for(pilot, lambda: user in header_text(app))
        app.screen.set_focus(None)  # L is a key of the screen, not of the lookup box
        await pilot.press("L")
        await wait_for(pilot, lambda: screen_name(app) == "LoginScreen")
        await wait_for(pilot, lambda: user not in header_text(app))
        await wait_for(pilot, lambda: all(state == "waiting" for state, _ in steps(app)))
        assert "Session 0." not in str(app.screen.query_one(LoginSteps).render())
