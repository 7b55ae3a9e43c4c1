"""What a front end knows of the settings: names before validation, values after it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from m2m_tui import locate
from m2m_tui.desk.settings_files import read_files
from m2m_tui.desk.settings_state import SettingsState


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("M2M_TUI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("M2M_TUI_CONFIG_DIR", str(tmp_path / "conf"))
    return tmp_path


def write_config(text: str) -> None:
    path = locate.config_path()
    path.parent.mkdir(parents=True)
    path.write_text(text)


def test_names_first_then_the_validated_values(monkeypatch: pytest.MonkeyPatch) -> None:
    write_config('default_profile = "b"\n[profiles.a]\n[profiles.b]\nread_only = "y"\n')
    monkeypatch.setenv("M2M_TUI_THEME", "m2m-light")
    state = SettingsState(read_files())
    assert not state.ready and state.profile_names() == ["a", "b"]
    assert state.first_frame_choice(None) == "b" and state.profile("b") is None
    assert state.theme_name("b") == "m2m-light"
    chosen, problems = state.accept(state.validate(), None)
    assert state.ready and chosen == "b" and problems == []
    found = state.profile("b")
    assert found is not None and found[1].read_only
    assert state.theme_name("b") == "m2m-light"


def test_an_unknown_profile_is_said_once_validated() -> None:
    write_config("[profiles.a]\n")
    state = SettingsState(read_files())
    assert state.first_frame_choice("nope") == "a"  # the only one, as validation will say
    chosen, problems = state.accept(state.validate(), "nope")
    assert chosen == "a" and "no profile called 'nope'" in problems[0]


def test_a_profile_from_env_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("M2M_TUI_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("M2M_TUI_READ_ONLY", "on")
    state = SettingsState(read_files())
    assert state.profile_names() == []
    chosen, _ = state.accept(state.validate(), None)
    assert chosen == "env"
    found = state.profile(chosen)
    assert found is not None and found[1].read_only
