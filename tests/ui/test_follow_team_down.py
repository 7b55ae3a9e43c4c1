"""The UI starts while its team's PostgreSQL journal is down, and connects by itself when it
comes back (issue 11).

The database "goes down" for the UI only: the UI reaches it through a TCP proxy the test
closes (every connection refused), while a real ``m2m-tui listen`` process writes to it
directly. Before, tracking failed to start (nothing followed, ever, in that session).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from m2m_tui.sim import RunningSimulator
from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.app import M2MApp
from m2m_tui.ui.run import build_options
from m2m_tui.ui.screens.inbox import CallbacksInboxScreen
from m2m_tui.ui.widgets.bars import StatusBar
from tests.tcp_proxy import TcpProxy
from tests.tracking.journal_backends import (  # noqa: F401  (fixtures)
    postgres_server,
    postgres_url,
)

from .conftest import (
    FAST_RETRY,
    SIZE,
    lookup,
    screen_name,
    sim_profile_toml,
    wait_for,
    write_config,
)
from .test_follow_team import team_listener, team_url  # noqa: F401  (fixtures)


@pytest.fixture
def proxy(team_url: str) -> Iterator[TcpProxy]:  # noqa: F811
    with TcpProxy.to(team_url) as made:
        yield made


async def test_the_ui_starts_with_its_team_journal_down_and_follows_once_it_is_back(
    sim: RunningSimulator,
    isolated_home: Path,
    team_url: str,  # noqa: F811
    team_listener: str,  # noqa: F811
    proxy: TcpProxy,
) -> None:
    proxy.close()  # the database is down, as far as the UI can tell
    write_config(isolated_home, sim_profile_toml(sim))
    args = argparse.Namespace(
        profile="acme", read_only=False, no_mouse=True, journal=proxy.url(team_url)
    )
    options = build_options(args)
    options.watchdog = False
    options.retry = FAST_RETRY
    app = M2MApp(options)

    def bar() -> str:
        return str(app.screen.query_one(StatusBar).render())

    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen_name(app) == "LoginScreen")
        await wait_for(pilot, lambda: app.config_ready.is_set())
        from textual.widgets import Input

        app.screen.query_one("#f-app_secret", Input).value = sim.config.app_secret
        app.screen.query_one("#f-password", Input).value = sim.config.password
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        tracking = app.tracking
        assert tracking is not None
        await wait_for(pilot, lambda: tracking.finished_starting, within=10.0)
        assert tracking.started, f"tracking did not start: {tracking.error}"
        await wait_for(pilot, lambda: "journal unreachable" in bar(), within=5.0)
        await lookup(pilot, wk.DEMO_IMEI)  # device lookups do not need the journal
        assert app.screen.device is not None  # type: ignore[attr-defined]
        assert "journal unreachable" in bar()

        # A callback committed while the UI could not see the database.
        body = {"requestId": "req-before", "deviceIds": [{"id": "1", "kind": "mdn"}]}
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.post(team_listener, json=body)).status_code == 200

        proxy.open()  # the database is back: nobody restarts anything
        await wait_for(pilot, lambda: tracking.service.follower is not None, within=10.0)
        follower = tracking.service.follower
        assert follower is not None
        await asyncio.wait_for(follower.wait_connected(), 10)
        await wait_for(pilot, lambda: "journal unreachable" not in bar(), within=3.0)
        assert "cb following postgresql://" in bar()

        await pilot.press("escape", "i")
        await wait_for(pilot, lambda: screen_name(app) == "CallbacksInboxScreen")
        inbox = app.screen
        assert isinstance(inbox, CallbacksInboxScreen)
        await wait_for(pilot, lambda: any(e.request_id == "req-before" for e in inbox.entries))
        body = {"requestId": "req-live", "deviceIds": [{"id": "2", "kind": "mdn"}]}
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.post(team_listener, json=body)).status_code == 200
        posted = time.monotonic()
        await wait_for(
            pilot, lambda: any(e.request_id == "req-live" for e in inbox.entries), within=1.0
        )
        assert time.monotonic() - posted < 1.0
