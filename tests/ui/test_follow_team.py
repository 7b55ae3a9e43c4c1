"""The UI following a team's PostgreSQL journal: LISTEN/NOTIFY, "journal unreachable", and the
catch-up after the database comes back (issue 11).

A real ``m2m-tui listen`` process writes the database as ``postgres``; the UI follows it as a
role of its own, so the test can lock that role out (``NOLOGIN``) and cut its connections
(``pg_terminate_backend``) while the listener goes on writing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from psycopg import sql

from m2m_tui.sim import RunningSimulator
from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.app import M2MApp
from m2m_tui.ui.run import build_options
from m2m_tui.ui.screens.inbox import CallbacksInboxScreen
from m2m_tui.ui.widgets.bars import StatusBar
from tests.tracking.journal_backends import (  # noqa: F401  (fixtures)
    admin,
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

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Follower-S3cret"


@pytest.fixture
def team_url(postgres_url: str) -> str:  # noqa: F811  (the imported fixture)
    """A fresh schema on the test server, as the listener's owner (``postgres``) sees it."""
    return postgres_url


@pytest.fixture
async def team_listener(team_url: str) -> AsyncIterator[str]:
    """``m2m-tui listen --journal <URL>`` as its own process; yields its callback URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "m2m_tui", "listen", "--port", "0", "--journal", team_url,
        "--no-credentials",  # the simulator's profile registers none
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=str(ROOT),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line.startswith("listening on "), line
        yield line.split()[2]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 10)


@pytest.fixture
def follower_role(team_url: str, team_listener: str) -> Iterator[str]:
    """A login role allowed to read and write the test's schema (created by the listener)."""
    name = f"ui_{uuid.uuid4().hex[:12]}"
    with admin(team_url) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()
        assert schema is not None
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
        for grant in (
            "GRANT USAGE ON SCHEMA {} TO {}",
            "GRANT ALL ON ALL TABLES IN SCHEMA {} TO {}",
            "GRANT ALL ON ALL SEQUENCES IN SCHEMA {} TO {}",
        ):
            conn.execute(sql.SQL(grant).format(sql.Identifier(schema[0]), sql.Identifier(name)))
    yield name
    with admin(team_url) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,)
        )
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def _lock_out(url: str, role: str, *, locked: bool) -> None:
    """NOLOGIN and cut its connections (the database is gone for it), or LOGIN again."""
    with admin(url) as conn:
        login = "NOLOGIN" if locked else "LOGIN"
        conn.execute(sql.SQL("ALTER ROLE {} " + login).format(sql.Identifier(role)))
        if locked:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )


async def test_a_follower_ui_sees_another_listener_live_and_after_a_cut(
    sim: RunningSimulator,
    isolated_home: Path,
    team_url: str,
    team_listener: str,
    follower_role: str,
) -> None:
    url = team_url.replace("postgresql://postgres@", f"postgresql://{follower_role}:{SECRET}@")
    write_config(isolated_home, sim_profile_toml(sim))
    args = argparse.Namespace(profile="acme", read_only=False, no_mouse=True, journal=url)
    options = build_options(args)
    options.watchdog = False
    options.retry = FAST_RETRY
    app = M2MApp(options)

    async def post(request_id: str) -> float:
        body = {"requestId": request_id, "deviceIds": [{"id": "1", "kind": "mdn"}]}
        async with httpx.AsyncClient(timeout=5) as client:
            assert (await client.post(team_listener, json=body)).status_code == 200
        return time.monotonic()  # 200: committed in the database

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
        await wait_for(pilot, lambda: app.tracking is not None and app.tracking.started)
        tracking = app.tracking
        assert tracking is not None and tracking.service.listener is None
        follower = tracking.service.follower
        assert follower is not None
        await asyncio.wait_for(follower.wait_connected(), 10)
        await wait_for(pilot, lambda: "cb following postgresql://" in bar(), within=3.0)
        assert "journal unreachable" not in bar() and SECRET not in bar()

        await pilot.press("escape", "i")
        await wait_for(pilot, lambda: screen_name(app) == "CallbacksInboxScreen")
        inbox = app.screen
        assert isinstance(inbox, CallbacksInboxScreen)

        def seen(request_id: str) -> bool:
            return any(e.request_id == request_id for e in inbox.entries)

        posted = await post("req-live")
        await wait_for(pilot, lambda: seen("req-live"), within=1.0)
        assert time.monotonic() - posted < 1.0
        queries_before = follower.queries

        # The database goes away for the follower; the listener keeps writing.
        _lock_out(team_url, follower_role, locked=True)
        await wait_for(pilot, lambda: "journal unreachable" in bar(), within=5.0)
        await post("req-while-down")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        await lookup(pilot, wk.DEMO_IMEI)  # device lookups do not need the journal
        assert app.screen.device is not None  # type: ignore[attr-defined]
        assert "journal unreachable" in bar()

        _lock_out(team_url, follower_role, locked=False)
        await asyncio.wait_for(follower.wait_connected(), 10)
        await wait_for(pilot, lambda: "journal unreachable" not in bar(), within=3.0)
        await pilot.press("i")
        await wait_for(pilot, lambda: screen_name(app) == "CallbacksInboxScreen")
        inbox = app.screen
        assert isinstance(inbox, CallbacksInboxScreen)
        await wait_for(pilot, lambda: seen("req-while-down"), within=3.0)  # caught up by id
        posted = await post("req-after")
        await wait_for(pilot, lambda: seen("req-after"), within=1.0)
        assert time.monotonic() - posted < 1.0
        assert follower.connects == 2 and follower.queries > queries_before
        assert SECRET not in bar()
