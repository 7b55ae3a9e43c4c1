"""The first frame is drawn from the same reading of the files that is validated after it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from m2m_tui.desk.settings import load_settings
from m2m_tui.desk.settings_files import SettingsFiles
from m2m_tui.ui.run import build_options

from .bars_seen import header_text
from .conftest import SIZE, make_app, wait_for, write_config


async def test_first_frame_names_then_validated_values(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(
        isolated_home,
        'default_profile = "b"\n'
        '[profiles.a]\nbase_url = "https://staging.thingspace.verizon.com/"\n'
        'account = "0000123456-00001"\napp_key = "ka"\nusername = "ua"\nread_only = "yes"\n'
        '[profiles.b]\nbase_url = "http://127.0.0.1:9000"\napp_key = "kb"\n',
    )
    (path.parent / "secrets.toml").write_text('[profiles.b]\npassword = "pb"\n')
    monkeypatch.setenv("M2M_TUI_APP_SECRET", "from-env")
    options = build_options(argparse.Namespace())
    assert isinstance(options.loaded, SettingsFiles)
    files = options.loaded
    validated = load_settings(files=files)
    assert files.profile_names() == list(validated.config.profiles) == ["a", "b"]
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        names = [str(o.prompt) for o in app.screen.query_one("#profiles", OptionList).options]
        assert names[:2] == ["a", "b"]
        await wait_for(pilot, app.config_ready.is_set)
        await pilot.pause()
        assert app.session.profile_name == "b"
        screen = app.screen
        assert screen.query_one("#f-base_url", Input).value == "http://127.0.0.1:9000"
        assert screen.query_one("#f-password", Input).value == "pb"
        assert screen.query_one("#f-app_secret", Input).value == "from-env"
        assert app.settings.validated is not None
        assert app.settings.validated.config.profiles["a"].read_only


async def test_env_only_profile_and_no_color(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("M2M_TUI_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("M2M_TUI_ACCOUNT", "0000123456-00001")
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        await pilot.pause()
        assert app.session.profile_name == "env"
        await wait_for(pilot, lambda: "account 0000123456-00001" in header_text(app))
        assert "env" in app.settings.profile_names()
        # Textual's own ANSI themes stay available next to ours.
        assert {"ansi-dark", "ansi-light"} <= set(app.available_themes)
        assert app.screen.query_one("#f-base_url", Input).value == "http://127.0.0.1:9"
