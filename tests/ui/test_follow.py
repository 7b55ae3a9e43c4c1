"""``m2m-tui --journal PATH``: follow the journal a separate ``m2m-tui listen`` writes, live."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from m2m_tui.cli import build_parser
from m2m_tui.desk.settings import LoadedSettings
from m2m_tui.desk.settings_files import SettingsFiles
from m2m_tui.sim import RunningSimulator
from m2m_tui.ui.app import M2MApp
from m2m_tui.ui.run import build_options
from m2m_tui.ui.screens.inbox import CallbacksInboxScreen

from .bars_seen import status_text
from .conftest import FAST_RETRY, SIZE, screen_name, sim_profile_toml, wait_for, write_config

ROOT = Path(__file__).resolve().parents[2]


def test_journal_flag_means_follow(isolated_home: Path, tmp_path: Path) -> None:
    args = build_parser().parse_args(["--journal", str(tmp_path / "shared.sqlite3")])
    options = build_options(args)
    assert options.journal == tmp_path / "shared.sqlite3" and options.follow
    plain = build_options(build_parser().parse_args([]))
    assert plain.journal is None and not plain.follow
    listen = build_parser("listen").parse_args(["listen", "--journal", "j.db", "--port", "0"])
    assert listen.command == "listen" and listen.journal == "j.db"  # a path or a URL, as given
    team = "postgresql://tui@db.example/m2m?sslmode=require"
    assert build_options(build_parser().parse_args(["--journal", team])).journal == team


def test_a_profiles_journal_is_followed_unless_the_flag_names_another(
    isolated_home: Path, tmp_path: Path
) -> None:
    """A team points each engineer's profile at its database (config.toml ``journal``)."""
    team = "postgresql://tui@db.example/m2m?sslmode=require"
    write_config(
        isolated_home,
        'default_profile = "acme"\n[profiles.acme]\naccount = "0000123456-00001"\n'
        f'journal = "{team}"\n',
    )
    options = build_options(build_parser().parse_args([]))
    assert options.journal == team and options.follow
    given = str(tmp_path / "other.sqlite3")
    options = build_options(build_parser().parse_args(["--journal", given]))
    assert options.journal == Path(given) and options.follow


def test_the_profiles_journal_is_read_validated_and_only_when_one_is_named(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a journal in any profile the first frame still comes before pydantic (the files
    as read); naming one validates the settings once, and the value is the validated one."""
    write_config(isolated_home, '[profiles.acme]\naccount = "0000123456-00001"\n')
    plain = build_options(build_parser().parse_args([]))
    assert isinstance(plain.loaded, SettingsFiles) and not plain.follow
    team = "postgresql://tui@db.example/m2m"
    monkeypatch.setenv("M2M_TUI_JOURNAL", team)  # every profile's, as M2M_TUI_<FIELD> is
    options = build_options(build_parser().parse_args([]))
    assert isinstance(options.loaded, LoadedSettings)
    assert options.journal == team and options.follow


@pytest.fixture
async def listen_process(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """A real ``python -m m2m_tui listen --port 0 --journal PATH``; yields (url, journal)."""
    journal = tmp_path / "shared" / "journal.sqlite3"
    journal.parent.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "m2m_tui",
        "listen",
        "--port",
        "0",
        "--journal",
        str(journal),
        "--no-credentials",  # the simulator's profile registers none
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(ROOT),
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("listening on "), line
        yield line.split()[2], journal
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 10)


async def test_inbox_follows_a_separate_listener(
    sim: RunningSimulator, isolated_home: Path, listen_process: tuple[str, Path]
) -> None:
    url, journal = listen_process
    write_config(isolated_home, sim_profile_toml(sim))
    args = argparse.Namespace(profile="acme", read_only=False, no_mouse=True, journal=journal)
    options = build_options(args)
    options.watchdog = False
    options.retry = FAST_RETRY
    app = M2MApp(options)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen_name(app) == "LoginScreen")
        await wait_for(pilot, lambda: app.config_ready.is_set())
        from textual.widgets import Input

        app.screen.query_one("#f-app_secret", Input).value = sim.config.app_secret
        app.screen.query_one("#f-password", Input).value = sim.config.password
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        await wait_for(pilot, lambda: app.tracking is not None and app.tracking.started)
        assert app.tracking is not None and app.tracking.service.listener is None
        await wait_for(pilot, lambda: "cb following journal.sqlite3" in status_text(app))

        await pilot.press("escape", "i")
        await wait_for(pilot, lambda: screen_name(app) == "CallbacksInboxScreen")
        screen = app.screen
        assert isinstance(screen, CallbacksInboxScreen)
        body = {
            "requestId": "req-from-the-other-process",
            "deviceIds": [{"id": "1", "kind": "mdn"}],
        }
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.post(url, json=body)).status_code == 200
            assert (await client.post(url, content=b"[1, 2]")).status_code == 400
        await wait_for(pilot, lambda: len(screen.entries) == 2)
        by_key = {e.request_id or e.reason: e.category_label for e in screen.entries}
        assert by_key == {
            "req-from-the-other-process": "not ours",
            "not_object": "rejected: malformed",
        }
        assert "following journal.sqlite3" in str(screen.query_one("#inbox-count").render())
