"""What the command line starts: the environment's switches hold in the demo, and a profile
name the config does not hold is refused instead of opening another account (walk findings)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from m2m_tui.ui.run import build_options, demo_options, env_read_only, run_tui, unknown_profile

from .conftest import SIZE, make_demo_app, wait_for, write_config

TWO_PROFILES = (
    'default_profile = "acme"\n'
    '[profiles.acme]\nbase_url = "http://127.0.0.1:9"\naccount = "0000123456-00001"\n'
    '[profiles.test]\nbase_url = "http://127.0.0.1:9"\naccount = "0000123456-00002"\n'
)


@pytest.mark.parametrize("value", ["on", "y", "yes", "1", "true", "TRUE", "please"])
def test_read_only_from_the_environment_holds_in_the_demo(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("M2M_TUI_READ_ONLY", value)
    assert demo_options(argparse.Namespace(), tmp_path).read_only


@pytest.mark.parametrize("value", ["off", "no", "0", "false", ""])
def test_read_only_off_in_the_environment(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("M2M_TUI_READ_ONLY", value)
    assert not env_read_only()


async def test_the_demo_in_read_only_blocks_a_suspend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("M2M_TUI_READ_ONLY", "on")
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE):
        assert app.read_only


async def test_the_theme_from_the_environment_holds_in_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("M2M_TUI_THEME", "m2m-high-contrast")
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.theme == "m2m-high-contrast")


def test_a_mistyped_profile_is_refused_with_the_known_names(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(isolated_home, TWO_PROFILES)
    args = argparse.Namespace(profile="tset")
    problem = unknown_profile(build_options(args))
    assert problem is not None and "'tset'" in problem and "acme, test" in problem
    assert run_tui(args) == 2  # before any screen is drawn
    assert "no profile 'tset'" in capsys.readouterr().err


def test_a_known_profile_or_a_first_run_name_is_fine(isolated_home: Path) -> None:
    assert unknown_profile(build_options(argparse.Namespace(profile="new"))) is None  # first run
    write_config(isolated_home, TWO_PROFILES)
    assert unknown_profile(build_options(argparse.Namespace(profile="test"))) is None
    assert unknown_profile(build_options(argparse.Namespace())) is None
