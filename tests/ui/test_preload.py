"""The first frame's raw reading of the config agrees with the validated one."""

from __future__ import annotations

from pathlib import Path

import pytest

from m2m_tui import config as cfg
from m2m_tui.ui.preload import preload

from .conftest import SIZE, make_app, wait_for, write_config

FIELDS = ("base_url", "account", "app_key", "username", "read_only", "theme", "environment_name")


def test_preload_matches_validation(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(
        isolated_home,
        'default_profile = "b"\ntheme = "m2m-light"\n'
        '[profiles.a]\nbase_url = "https://staging.thingspace.verizon.com/"\n'
        'account = "0000123456-00001"\napp_key = "ka"\nusername = "ua"\nread_only = true\n'
        '[profiles.b]\nbase_url = "http://127.0.0.1:9000"\ntheme = "m2m-high-contrast"\n',
    )
    (path.parent / "secrets.toml").write_text('[profiles.a]\npassword = "pa"\n')
    monkeypatch.setenv("M2M_TUI_APP_SECRET", "from-env")
    raw = preload()
    loaded = cfg.load_config()
    assert raw.path == loaded.path
    assert raw.config.default_profile == loaded.config.default_profile
    assert raw.config.theme == loaded.config.theme
    assert list(raw.config.profiles) == list(loaded.config.profiles)
    for name, profile in loaded.config.profiles.items():
        early = raw.config.profiles[name]
        for field in FIELDS:
            assert getattr(early, field) == getattr(profile, field), (name, field)
        for secret in ("app_secret", "password"):
            a, b = getattr(early, secret), getattr(profile, secret)
            assert (a and a.get_secret_value()) == (b and b.get_secret_value())
    assert "pa" not in repr(raw.config.profiles["a"].password)
    assert raw.profile(None) is not None and raw.profile(None)[0] == "b"  # type: ignore[index]


async def test_env_only_profile_and_no_color(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("M2M_TUI_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("M2M_TUI_ACCOUNT", "0000123456-00001")
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.config_ready.is_set)
        assert app.profile_name == "env"
        assert app.header_info.account == "0000123456-00001"
        assert "env" in app.loaded.config.profiles
        # Textual's own ANSI themes stay available next to ours.
        assert {"ansi-dark", "ansi-light"} <= set(app.available_themes)
        assert app.screen.query_one("#f-base_url").value == "http://127.0.0.1:9"  # type: ignore[attr-defined]
