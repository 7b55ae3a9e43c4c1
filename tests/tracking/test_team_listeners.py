"""Two ``m2m-tui listen`` processes on one PostgreSQL journal, as a team runs them behind a
balancer: a burst whose resent copies land on the other instance, one instance killed with -9
mid-burst, and the export holding every acknowledged callback exactly once (issue 11).

Loopback only, bounded in count and time; a real server (``$M2M_TUI_TEST_POSTGRES``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import aiohttp

from tests.tracking.tracking_helpers import PASSWORD, ROOT, USERNAME, suspension_body

WORKERS = 16
KILL_AFTER = 600  # acknowledged callbacks before one instance is killed
MOST = 2000  # callbacks in the whole burst, at most
WITHIN = 30.0  # seconds the burst may take, at most


def _env() -> dict[str, str]:
    return dict(
        os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", M2M_TUI_CALLBACK__PASSWORD=PASSWORD
    )


def _spawn(journal: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "m2m_tui.cli", "listen", "--journal", journal, "--port", "0",
         "--callback-username", USERNAME, "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()
    if "listening on " not in first:
        process.kill()
        raise AssertionError(f"no URL line: {first!r} {process.stderr and process.stderr.read()}")
    return process, first.split()[2] + "cb"


def _exported_callbacks(journal: str) -> list[dict[str, object]]:
    """What ``m2m-tui export --format json`` says the journal holds."""
    exported = subprocess.run(
        [sys.executable, "-m", "m2m_tui.cli", "export", "--journal", journal, "--format", "json"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=120,
    )
    assert exported.returncode == 0, exported.stderr
    callbacks: list[dict[str, object]] = json.loads(exported.stdout)["callbacks"]
    return callbacks


async def test_two_listeners_kill_9_mid_burst_export_holds_each_acknowledged_once(
    postgres_url: str,
) -> None:
    spawned = [_spawn(postgres_url) for _ in range(2)]
    (victim, victim_url), (survivor, survivor_url) = spawned
    acknowledged: set[str] = set()
    copies_acknowledged = Counter[str]()
    killed = asyncio.Event()
    failures = 0
    stop_at = time.monotonic() + WITHIN
    next_id = iter(range(MOST))

    async def post(http: aiohttp.ClientSession, url: str, request_id: str, count: int) -> None:
        nonlocal failures
        body = json.dumps(suspension_body(request_id, count=count))
        try:
            async with http.post(url, data=body) as response:
                if response.status == 200:
                    acknowledged.add(request_id)
                    copies_acknowledged[request_id] += 1
        except (TimeoutError, aiohttp.ClientError, OSError):
            failures += 1  # the killed instance: ThingSpace would resend to the other

    async def sender(http: aiohttp.ClientSession, worker: int) -> None:
        for n in next_id:
            if time.monotonic() > stop_at:
                return
            request_id = f"team-{n}"
            # First copy and its resend on different instances, in either order, at once.
            urls = (victim_url, survivor_url) if n % 2 else (survivor_url, victim_url)
            await asyncio.gather(
                post(http, urls[0], request_id, 1), post(http, urls[1], request_id, 2)
            )
            if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                killed.set()
                victim.send_signal(signal.SIGKILL)  # copies are in flight to it right now

    try:
        timeout = aiohttp.ClientTimeout(total=10)
        connector = aiohttp.TCPConnector(limit=2 * WORKERS)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            await asyncio.gather(*(sender(http, w) for w in range(WORKERS)))
        assert killed.is_set(), f"only {len(acknowledged)} acknowledged before the deadline"
        victim.wait(timeout=10)
        survivor.send_signal(signal.SIGTERM)
        survivor.communicate(timeout=30)
    finally:
        for process, _ in spawned:
            if process.poll() is None:
                process.kill()
            process.wait()
    assert victim.returncode == -signal.SIGKILL and survivor.returncode == 0
    assert failures > 0  # the kill did cut posts in flight
    assert any(n == 2 for n in copies_acknowledged.values())  # both copies answered 200

    callbacks = _exported_callbacks(postgres_url)
    results = Counter(c["requestId"] for c in callbacks if not c["duplicate"])
    stored = Counter(c["requestId"] for c in callbacks)
    missing = acknowledged - set(results)
    assert not missing, f"{len(missing)} acknowledged callbacks lost, e.g. {sorted(missing)[:3]}"
    twice = [rid for rid, n in results.items() if n != 1]
    assert not twice, f"{len(twice)} callbacks counted more than once, e.g. {twice[:3]}"
    assert all(stored[rid] <= 2 for rid in stored)  # at most the two copies sent
