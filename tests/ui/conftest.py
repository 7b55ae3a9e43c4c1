"""UI fixtures: an isolated home, apps built like the CLI builds them, and Pilot helpers.

Every test runs with HOME, XDG and M2M_TUI_* directories in a temp folder, so the
developer's own config, themes and journal never leak in (and are never written).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from m2m_tui.api.retry import RetryPolicy
from m2m_tui.sim import RunningSimulator, SimConfig
from m2m_tui.sim.inventory import EASTERN
from m2m_tui.ui.app import AppOptions, M2MApp
from m2m_tui.ui.run import build_options, demo_options

SIZE = (80, 24)
FAST_RETRY = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
FIXED_NOW = datetime(2026, 1, 15, 9, 30, tzinfo=EASTERN)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    import os

    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("M2M_TUI_") or name in ("TEXTUAL_THEME", "NO_COLOR"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("M2M_TUI_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("M2M_TUI_DATA_DIR", str(home / "data"))
    yield home


@pytest.fixture(autouse=True)
def no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A steady cursor: snapshots must not depend on when the blink timer fired."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


def write_config(home: Path, text: str) -> Path:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sim_profile_toml(sim: RunningSimulator, name: str = "acme", **extra: Any) -> str:
    cfg = sim.config
    lines = [
        f"[profiles.{name}]",
        f'base_url = "{sim.base_url}"',
        f'account = "{cfg.primary_account}"',
        f'app_key = "{cfg.app_key}"',
        f'username = "{cfg.username}"',
    ]
    for key, value in extra.items():
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def make_app(
    home: Path,
    *,
    profile: str | None = None,
    read_only: bool = False,
    clock: Callable[[], float] | None = None,
) -> M2MApp:
    args = argparse.Namespace(profile=profile, read_only=read_only, no_mouse=True)
    options: AppOptions = build_options(args)  # the raw preload, validated after paint
    options.watchdog = False
    options.clock = clock
    options.retry = FAST_RETRY
    return M2MApp(options)


def make_demo_app(
    folder: Path, *, listener: bool = False, fixed: bool = True, read_only: bool = False
) -> M2MApp:
    args = argparse.Namespace(read_only=read_only)
    options = demo_options(args, folder)
    options.watchdog = False
    options.retry = FAST_RETRY
    assert options.demo is not None
    options.demo.listener = listener
    if fixed:
        options.demo.sim_config = SimConfig(
            seed=1, now=FIXED_NOW, processing_delay=0.05, callback_retry_interval=0.2
        )
        stamp = FIXED_NOW.timestamp()
        options.clock = lambda: stamp
    else:
        options.demo.sim_config = SimConfig(processing_delay=0.05, callback_retry_interval=0.2)
    return M2MApp(options)


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], object], within: float = 5.0) -> None:
    """Pause until ``predicate()`` is true (workers run meanwhile); fail after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await pilot.pause(0.02)


def screen_name(app: M2MApp) -> str:
    return type(app.screen).__name__


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[c if c != " " else "space" for c in text])


async def login(pilot: Pilot[Any], password: str | None = "Demo#Pass1") -> None:
    """Fill the password (if given) and log in; waits for the devices screen."""
    app = pilot.app
    if password is not None:
        field = app.screen.query_one("#f-password", Input)
        field.value = password
        field.focus()
    await pilot.press("enter")
    # Pushed is not yet shown: wait until the devices screen has mounted and taken the focus
    # (the login may first wait for the settings to be validated, after the first frame).
    await wait_for(
        pilot,
        lambda: screen_name(app) == "DevicesScreen" and app.screen.focused is not None,  # type: ignore[arg-type]
    )


async def lookup(pilot: Pilot[Any], identifier: str, within: float = 10.0) -> None:
    """Type ``identifier``, press Enter, and wait until the screen says how the lookup ended.

    Waits on what the user sees (the hint under the input: "found", or a problem), not on the
    lookup's worker: right after Enter the worker may not exist yet, which a wait for "no
    lookup running" took for done (a flaky test_follow_team).
    """
    app: Any = pilot.app
    field = app.screen.query_one("#identifier", Input)
    field.focus()
    field.value = ""  # the hint of an earlier lookup goes with it
    field.value = identifier
    await pilot.press("enter")
    hint = app.screen.query_one("#kind-hint")

    def ended() -> bool:
        text = str(hint.render())
        running = any(w.group == "lookup" and not w.is_finished for w in app.screen.workers)
        return not running and ("found" in text or text.startswith("✗"))

    await wait_for(pilot, ended, within=within)
    await pilot.pause()
