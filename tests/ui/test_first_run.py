"""First run and the login screen's errors at 80x24 (issue 12 points 7, 11, 12)."""

from __future__ import annotations

import html
import os
import re
import stat
import tomllib
from pathlib import Path

from textual.widgets import Checkbox, Input, OptionList, Static

from m2m_tui.sim import RunningSimulator
from m2m_tui.ui.screens.dialogs import ConfirmDialog
from m2m_tui.ui.screens.login import LoginScreen, LoginSteps

from .conftest import (
    SIZE,
    make_app,
    screen_name,
    sim_profile_toml,
    wait_for,
    write_config,
)
from .toasts import toasts_so_far


def fill(app: object, **values: str) -> None:
    screen = app.screen  # type: ignore[attr-defined]
    for key, value in values.items():
        screen.query_one(f"#f-{key}", Input).value = value


def screen_text(app: object) -> str:
    """The screen's text as a person reads it (from the SVG screenshot)."""
    svg = app.export_screenshot()  # type: ignore[attr-defined]
    text = " ".join(re.findall(r">([^<]*)</text>", svg))
    return html.unescape(text).replace("\xa0", " ")


def first_run_fields(sim: RunningSimulator) -> dict[str, str]:
    cfg = sim.config
    return dict(
        name="acme",
        base_url=sim.base_url,
        app_key=cfg.app_key,
        app_secret=cfg.app_secret,
        username=cfg.username,
        password=cfg.password,
        account=cfg.primary_account,
        cb_listen="127.0.0.1:9001",
        cb_public_url="https://cb.example.com/m2m",
        cb_username="cbuser",
        cb_password="cb-secret-pw",
    )


async def test_first_run_login_offers_to_save_with_callback_fields(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        fill(app, **first_run_fields(sim))
        app.screen.query_one("#save-secrets", Checkbox).value = True
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = screen_text(app)
        assert "Save profile 'acme'" in text and "0600" in text
        await pilot.press("y")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        config = isolated_home / "config" / "config.toml"
        secrets = isolated_home / "config" / "secrets.toml"
        await wait_for(pilot, secrets.exists)
        data = tomllib.loads(config.read_text())
        callback = data["profiles"]["acme"]["callback"]
        assert callback["listen"] == "127.0.0.1:9001"
        assert callback["public_url"] == "https://cb.example.com/m2m"
        assert callback["username"] == "cbuser"
        raw = config.read_text()
        for secret in (sim.config.password, sim.config.app_secret, "cb-secret-pw"):
            assert secret not in raw
        assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o600
        assert "cb-secret-pw" in secrets.read_text()


async def test_quit_with_unsaved_profile_asks(isolated_home: Path) -> None:
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        fill(app, name="acme", app_key="key", username="user")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "acme" in screen_text(app) and "lost" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert app.is_running


async def test_bad_public_url_is_shown_beside_the_field(isolated_home: Path) -> None:
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        fill(
            app,
            base_url="https://ts.example",
            app_key="k",
            app_secret="s",
            username="u",
            password="p",
            cb_public_url="ftp:x",
        )
        await pilot.press("ctrl+l")
        error = app.screen.query_one("#e-cb_public_url", Static)
        await wait_for(pilot, lambda: error.display and "http" in str(error.render()))
        assert "Value error" not in screen_text(app)
        fill(app, cb_public_url="https://cb.example.com/m2m")
        await wait_for(pilot, lambda: not error.display)  # the error was about the old value


async def test_long_login_error_is_shown_whole(sim: RunningSimulator, isolated_home: Path) -> None:
    write_config(isolated_home, sim_profile_toml(sim))
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        fill(app, app_secret=sim.config.app_secret, password="wrong")
        await pilot.press("ctrl+l")
        steps = app.screen.query_one(LoginSteps)
        await wait_for(pilot, lambda: steps.steps[1].state == "failed")
        detail = steps.steps[1].detail
        assert len(detail) > 40
        await wait_for(pilot, lambda: detail.split()[0] in screen_text(app))  # painted
        shown = " ".join(screen_text(app).split())
        for word in detail.split():
            assert word in shown, word


async def test_new_attempt_holds_no_step_of_the_last(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    write_config(isolated_home, sim_profile_toml(sim) + sim_profile_toml(sim, name="other"))
    app = make_app(isolated_home, profile="acme")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        fill(app, app_secret=sim.config.app_secret, password="wrong")
        await pilot.press("ctrl+l")
        steps = app.screen.query_one(LoginSteps)
        await wait_for(pilot, lambda: steps.steps[1].state == "failed")
        profiles = app.screen.query_one("#profiles", OptionList)
        profiles.focus()
        profiles.highlighted = profiles.get_option_index("p:other")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query_one("#f-name", Input).value == "other")
        assert all(s.state == "waiting" and not s.detail for s in steps.steps)


async def test_form_errors_carry_no_pydantic_prefix(isolated_home: Path) -> None:
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        fill(app, base_url="thingspace", app_key="k", app_secret="s", username="u", password="p")
        await pilot.press("ctrl+l")
        message = app.screen.query_one("#login-message", Static)
        await wait_for(pilot, lambda: "base_url" in str(message.render()))
        assert "Value error" not in screen_text(app)


async def test_first_run_raises_no_config_problem(isolated_home: Path) -> None:
    """A fresh home: the suggested name 'default' is not a profile the user asked for."""
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        shown = await toasts_so_far(pilot)
        assert not [t for t in shown if "no profile called" in t.text]
        assert "No profile yet" in str(app.screen.query_one("#login-message").render())


async def test_first_run_starts_at_base_url_and_names_every_missing_field(
    isolated_home: Path,
) -> None:
    """Walk finding 9: focus started on App key under the empty Base URL; ``missing:`` left
    out Base URL; a bad profile name was saved."""
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        await wait_for(pilot, lambda: app.focused is not None)
        assert app.focused is app.screen.query_one("#f-base_url", Input)
        await pilot.press("ctrl+l")
        message = app.screen.query_one("#login-message", Static)
        await wait_for(pilot, lambda: "missing" in str(message.render()))
        for label in ("Base URL", "App key", "App secret", "UWS user", "Password"):
            assert label in str(message.render()), label
        fill(app, name='my prof/../"x]', base_url="https://ts.example", app_key="k")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "profile name" in str(message.render()))
        assert not app.settings.path.exists()


async def test_new_profile_asks_before_wiping_a_filled_form(isolated_home: Path) -> None:
    """A walk finding: ctrl+n wiped a filled-in, unsaved first-run form with one key."""
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        fill(app, name="acme", app_key="key", username="user")
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Clear the form" in screen_text(app) and "lost" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        assert app.screen.query_one("#f-app_key", Input).value == "key"  # kept
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, LoginScreen)
                and app.screen.query_one("#f-app_key", Input).value == ""
            ),
        )
        assert app.screen.query_one("#f-username", Input).value == ""


async def test_new_profile_on_an_empty_form_asks_nothing(isolated_home: Path) -> None:
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        await pilot.press("ctrl+n")
        name = app.screen.query_one("#f-name", Input)
        await wait_for(pilot, lambda: name.has_focus)
        assert isinstance(app.screen, LoginScreen)
