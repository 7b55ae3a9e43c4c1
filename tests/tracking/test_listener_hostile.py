"""`m2m-tui listen` as a real process under faults and hostile clients (issue 9, points 1-3).

Loopback only, bounded in time and in count: slow-loris connections past the descriptor
limit, stalled requests, a flood of refused posts, a client hanging up mid-body, the journal
deleted under the running listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from m2m_tui.tracking.journal.sqlite import Journal
from tests.tracking.tracking_helpers import PASSWORD, ROOT, USERNAME, suspension_body

URL = re.compile(r"listening on (http://127\.0\.0\.1:(\d+)/)")


class Listen:
    """One ``listen`` process: its URL, and its output once stopped."""

    def __init__(self, process: subprocess.Popen[str], url: str, port: int) -> None:
        self.process = process
        self.url = url
        self.port = port
        self.out = ""
        self.err = ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.out, self.err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.out, self.err = self.process.communicate()


def _limit_descriptors(count: int) -> Callable[[], None]:
    def apply() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))

    return apply


def _start(journal: Path, extra: tuple[str, ...], descriptors: int | None) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    env["M2M_TUI_CALLBACK_PASSWORD"] = PASSWORD
    return subprocess.Popen(
        [sys.executable, "-m", "m2m_tui.tracking.listen_command", "--journal", str(journal),
         "--port", "0", "--callback-username", USERNAME, "--quiet", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
        preexec_fn=None if descriptors is None else _limit_descriptors(descriptors),
    )  # fmt: skip


@contextlib.asynccontextmanager
async def listen(
    journal: Path, *extra: str, descriptors: int | None = None
) -> AsyncIterator[Listen]:
    process = _start(journal, extra, descriptors)
    assert process.stdout is not None
    first = await asyncio.to_thread(process.stdout.readline)
    match = URL.search(first)
    if match is None:
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"no URL line: {first!r} {err}")
    running = Listen(process, match.group(1), int(match.group(2)))
    try:
        yield running
    finally:
        running.stop()


async def _post(http: aiohttp.ClientSession, url: str, body: object) -> int:
    async with http.post(url, data=json.dumps(body)) as response:
        await response.read()
        return response.status


async def _health(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, object]]:
    async with http.get(url + "healthz") as response:
        return response.status, await response.json()


def _stored(journal: Path) -> set[str]:
    with Journal.open(journal, readonly=True) as reader:
        return {row.request_id for row in reader.recent_callbacks(limit=100_000)}


# --- point 2: read deadlines and a connection cap ------------------------------------------


async def _stall(port: int, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    return reader, writer


HALF_HEADERS = b"POST /cb HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


async def test_genuine_callback_answered_through_a_slow_loris_past_the_descriptor_limit(
    tmp_path: Path,
) -> None:
    """1,100 connections that send half a request, under a 1,024-descriptor limit, default
    settings: the genuine callback is still answered, and stderr is not an accept() flood."""
    journal = tmp_path / "loris.db"
    stalled: list[asyncio.StreamWriter] = []
    async with listen(journal, descriptors=1024) as running:
        try:
            for start in range(0, 1100, 100):
                batch = await asyncio.gather(
                    *(_stall(running.port, HALF_HEADERS) for _ in range(start, start + 100)),
                    return_exceptions=True,
                )
                stalled.extend(pair[1] for pair in batch if not isinstance(pair, BaseException))
            timeout = aiohttp.ClientTimeout(total=5)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                assert await _post(http, running.url + "cb", suspension_body("genuine")) == 200
                status, health = await _health(http, running.url)
            connections = health["connections"]
            assert isinstance(connections, dict)
            assert status == 200 and connections["open"] <= connections["max"] < 1024
            assert connections["evicted"] > 0
        finally:
            for writer in stalled:
                writer.close()
    assert running.process.returncode == 0, running.err
    assert "accept" not in running.err.lower() and "Traceback" not in running.err
    assert _stored(journal) == {"genuine"}


async def test_stalled_headers_and_bodies_are_cut_off_after_the_read_timeout(
    tmp_path: Path,
) -> None:
    """Each stalled connection is cut once, within a sweep (0.25 s here) of the deadline.

    The writers are kept: a dropped StreamWriter closes its connection from the client side,
    and a connection the client closed tests nothing."""
    async with listen(tmp_path / "slow.db", "--read-timeout", "1") as running:
        started = time.monotonic()
        headers_reader, headers_writer = await _stall(running.port, HALF_HEADERS)
        body_reader, body_writer = await _stall(
            running.port, HALF_HEADERS + b"Content-Length: 400\r\n\r\n" + b'{"requestId": '
        )
        try:
            # Closed by the server: silently while reading headers, with a 408 during the body.
            assert await asyncio.wait_for(headers_reader.read(), timeout=8) == b""
            headers_cut = time.monotonic() - started
            answer = await asyncio.wait_for(body_reader.read(), timeout=8)
            body_cut = time.monotonic() - started
        finally:
            headers_writer.close()
            body_writer.close()
        assert answer.startswith(b"HTTP/1.1 408 ")
        async with aiohttp.ClientSession() as http:
            _, health = await _health(http, running.url)
            assert await _post(http, running.url + "cb", suspension_body("after")) == 200
    assert 0.9 <= headers_cut < 8 and 0.9 <= body_cut < 8
    connections = health["connections"]
    assert isinstance(connections, dict) and connections["timed_out"] == 2
    assert "Traceback" not in running.err


# --- point 3: refused posts are counted, their bodies sampled --------------------------------


def _logical_pages(journal: Path) -> int:
    with Journal.open(journal, readonly=True) as reader:
        conn = reader.connection
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    return pages - free


async def test_a_flood_of_refused_posts_is_counted_but_does_not_grow_the_journal(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "flood.db"
    wrong = json.dumps(suspension_body("intruder", password="guess")).encode()

    async def flood(http: aiohttp.ClientSession, count: int) -> None:
        async def one(_: int) -> None:
            async with http.post(running.url + "cb", data=wrong) as response:
                assert response.status == 401
                await response.read()

        for start in range(0, count, 50):
            await asyncio.gather(*(one(i) for i in range(start, min(count, start + 50))))

    async with (
        listen(journal, "--keep-rejections", "50") as running,
        aiohttp.ClientSession() as http,
    ):
        await flood(http, 1000)
        after_first = _logical_pages(journal)
        await flood(http, 1000)
        after_second = _logical_pages(journal)
        status, health = await _health(http, running.url)
    assert status == 200 and health["rejected_total"] == 2000
    assert after_second <= after_first + 2, (after_first, after_second)
    with Journal.open(journal, readonly=True) as reader:
        kept = reader.rejections(limit=10_000)
        assert reader.counts().rejections == {"bad_credentials": 2000}
    assert 0 < len(kept) <= 50 and all(r.reason == "bad_credentials" for r in kept)
    assert all(PASSWORD not in r.excerpt and "guess" not in r.excerpt for r in kept)


async def test_a_client_hanging_up_mid_body_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    async with listen(tmp_path / "hangup.db") as running:
        _, writer = await _stall(
            running.port, HALF_HEADERS + b"Content-Length: 1000\r\n\r\n" + b"{" * 100
        )
        writer.close()
        await writer.wait_closed()
        async with aiohttp.ClientSession() as http:

            async def counted() -> bool:
                _, health = await _health(http, running.url)
                rejected = health["rejected"]
                return isinstance(rejected, dict) and rejected.get("hung_up") == 1

            deadline = time.monotonic() + 10
            while not await counted():
                assert time.monotonic() < deadline, "the hang-up was not counted"
                await asyncio.sleep(0.05)
    assert "Traceback" not in running.err
    lines = [line for line in running.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "hung up" in lines[0], running.err


# --- point 1: the journal deleted under the running listener --------------------------------


def _delete_journal(journal: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{journal}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize("with_side_files", [True, False])
async def test_deleted_journal_is_recreated_with_every_acknowledged_row(
    tmp_path: Path, with_side_files: bool
) -> None:
    journal = tmp_path / "gone.db"
    acknowledged: list[str] = []
    async with listen(journal) as running, aiohttp.ClientSession() as http:
        for n in range(5):
            assert await _post(http, running.url + "cb", suspension_body(f"before-{n}")) == 200
            acknowledged.append(f"before-{n}")
        if with_side_files:
            _delete_journal(journal)
        else:
            journal.unlink()
        for n in range(5):
            assert await _post(http, running.url + "cb", suspension_body(f"after-{n}")) == 200
            acknowledged.append(f"after-{n}")
        assert journal.exists()
        assert _stored(journal) == set(acknowledged)  # readers see them now, not at restart
        assert (await _health(http, running.url))[0] == 200
    assert running.process.returncode == 0, running.err
    assert "deleted" in running.err and "Traceback" not in running.err
    assert _stored(journal) == set(acknowledged)


async def test_journal_that_cannot_be_recreated_gets_503_until_it_can(tmp_path: Path) -> None:
    folder = tmp_path / "journals"
    folder.mkdir()
    journal = folder / "j.db"
    acknowledged: list[str] = []
    async with listen(journal) as running, aiohttp.ClientSession() as http:
        assert await _post(http, running.url + "cb", suspension_body("first")) == 200
        acknowledged.append("first")
        shutil.rmtree(folder)  # nowhere to put it back
        assert await _post(http, running.url + "cb", suspension_body("refused")) == 503
        status, health = await _health(http, running.url)
        assert status == 503 and health["status"] == "journal_unavailable"
        assert "deleted" in str(health["journal_problem"])
        folder.mkdir()
        answers: list[int] = []

        async def resent() -> bool:  # as ThingSpace would, until a 200
            answers.append(await _post(http, running.url + "cb", suspension_body("refused")))
            return answers[-1] == 200

        deadline = time.monotonic() + 10
        while not await resent():
            assert time.monotonic() < deadline, answers
            await asyncio.sleep(0.1)
        acknowledged.append("refused")
        assert set(answers) <= {200, 503}
        assert (await _health(http, running.url))[0] == 200
    assert running.process.returncode == 0, running.err
    assert "503" in running.err and "Traceback" not in running.err
    assert _stored(journal) == set(acknowledged)


async def test_healthz_reports_a_deleted_journal_before_any_callback(tmp_path: Path) -> None:
    journal = tmp_path / "quiet.db"
    async with listen(journal) as running, aiohttp.ClientSession() as http:
        assert (await _health(http, running.url))[0] == 200
        _delete_journal(journal)
        status, health = await _health(http, running.url)
        assert status == 503 and "deleted" in str(health["journal_problem"])
    assert running.process.returncode == 0, running.err
    assert journal.exists()  # put back, with its schema, when the listener stopped
    assert _stored(journal) == set()
