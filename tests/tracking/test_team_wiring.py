"""A team's journal wired through: ``listen``, ``export``, tracking and the desk's reads take a
``postgresql://`` URL where they took a path, and never show its password.

Against a real server (``$M2M_TUI_TEST_POSTGRES``; see ``journal_backends``), each test in a
schema of its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import aiohttp

from m2m_tui.tracking.journal.pg import PgJournal
from m2m_tui.tracking.listener_config import ListenerConfig
from m2m_tui.tracking.records import CallbackRecord
from m2m_tui.tracking.service import TrackingService, TrackingSettings
from tests.tracking.tracking_helpers import PASSWORD, ROOT, USERNAME, suspension_body
from tests.waiting import eventually

SECRET = "Team-db-S3cret-pw"


def _with_password(url: str) -> str:
    """The test server trusts local logins: the password is carried, never checked."""
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@", 1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    return dict(
        os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", M2M_TUI_CALLBACK__PASSWORD=PASSWORD
    )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "m2m_tui.cli", *args],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=60,
    )


def _spawn_listen(journal: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "m2m_tui.cli", "listen", "--journal", journal, "--port", "0",
         "--callback-username", USERNAME],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )  # fmt: skip


async def test_listen_writes_a_postgresql_journal_and_never_shows_its_password(
    postgres_url: str,
) -> None:
    process = _spawn_listen(_with_password(postgres_url))
    assert process.stdout is not None
    try:
        first = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in first, process.stderr and process.stderr.read()
        base = first.split()[2]
        async with aiohttp.ClientSession() as http:
            body = json.dumps(suspension_body("team-1"))
            async with http.post(base + "cb", data=body) as response:
                assert response.status == 200
            with PgJournal(postgres_url, readonly=True) as journal:  # 200 meant committed
                assert [r.request_id for r in journal.recent_callbacks()] == ["team-1"]
            async with http.get(base.rstrip("/") + "/healthz") as response:
                health = await response.json()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "postgresql://postgres:***@" in first and "***" in health["journal"]
    assert all(SECRET not in text for text in (first, out, err, json.dumps(health)))


def test_an_unopenable_url_is_named_without_its_password() -> None:
    dead = f"postgresql://tui:{SECRET}@127.0.0.1:{_free_port()}/journal?sslmode=disable"
    for command in (["listen", "--journal", dead, "--port", "0"], ["export", "--journal", dead]):
        result = _cli(*command)
        assert result.returncode == 2, result.stderr
        assert "postgresql://tui:***@127.0.0.1" in result.stderr, result.stderr
        assert SECRET not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


def test_export_reads_a_postgresql_journal(postgres_url: str) -> None:
    with PgJournal(postgres_url) as journal:
        journal.add_request(
            "rq-team", action="suspend", account="0001-00001", target={}, pollable=True,
            deadline=time.time() + 600,
        )  # fmt: skip
        body = suspension_body("rq-team")
        journal.append_callbacks(
            [CallbackRecord("rq-team", "suspension_status", body, "mdn:5551234567", 1)]
        )
    result = _cli("export", "--journal", _with_password(postgres_url), "--format", "json")
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    assert [r["requestId"] for r in exported["requests"]] == ["rq-team"]
    assert SECRET not in result.stdout + result.stderr and PASSWORD not in result.stdout
    missing = _cli("export", "--journal", postgres_url, "--request", "rq-nope")
    assert missing.returncode == 1 and "no request rq-nope" in missing.stderr


async def test_tracking_listens_into_a_postgresql_journal(postgres_url: str) -> None:
    """The app's own listener and tracker on a team's journal: a callback for a request we
    submitted is journaled in the database and moves the request."""
    from pydantic import SecretStr

    listener = ListenerConfig(port=0, username=USERNAME, password=SecretStr(PASSWORD))
    settings = TrackingSettings(journal_path=_with_password(postgres_url), listener=listener)
    assert SECRET not in settings.journal_label and "***" in settings.journal_label
    async with TrackingService(settings) as service:
        service.tracker.submitted(
            "suspend", "0001-00001", "rq-own", devices=[{"kind": "mdn", "id": "5551234567"}]
        )
        assert service.listener is not None
        async with aiohttp.ClientSession() as http:
            body = json.dumps(suspension_body("rq-own"))
            async with http.post(service.listener.url + "cb", data=body) as response:
                assert response.status == 200
        await eventually(lambda: bool(service.journal.callbacks_for("rq-own")))
    with PgJournal(postgres_url, readonly=True) as journal:
        assert journal.get_request("rq-own") is not None
        assert [r.request_id for r in journal.callbacks_for("rq-own")] == ["rq-own"]


async def test_the_desk_reads_and_remembers_in_a_postgresql_journal(postgres_url: str) -> None:
    from m2m_tui.desk.queries import JournalQueries, RecentDevices, RequestsQuery

    with PgJournal(postgres_url) as journal:
        journal.add_request(
            "rq-seen", action="restore", account="0001-00001", target={}, pollable=True,
            deadline=time.time() + 600,
        )  # fmt: skip
    url = _with_password(postgres_url)
    queries = JournalQueries(url)
    recent = RecentDevices(url, create=False)
    try:
        page = await queries.requests_page(RequestsQuery())
        assert page.error is None and [r.request_id for r in page.rows] == ["rq-seen"]
        await recent.remember("0001-00001", "imei", "359876543210987", "imei 3598...", None)
        assert [d.device_id for d in await recent.recent(5)] == ["359876543210987"]
        assert recent.broken is None
    finally:
        queries.close()
        recent.close()
