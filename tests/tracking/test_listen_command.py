"""``python -m m2m_tui.tracking.listen_command`` as a real process: output, clean stop, crashes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from m2m_tui.tracking.journal.sqlite import Journal
from tests.tracking.tracking_helpers import PASSWORD, ROOT, USERNAME, suspension_body

URL = re.compile(r"listening on (http://127\.0\.0\.1:\d+/)")


def _spawn(
    journal: Path, *extra: str, env_password: bool = True
) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    if env_password:
        env["M2M_TUI_CALLBACK_PASSWORD"] = PASSWORD
    process = subprocess.Popen(
        [sys.executable, "-m", "m2m_tui.tracking.listen_command", "--journal", str(journal),
         "--port", "0", "--callback-username", USERNAME, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline()
    match = URL.search(first)
    if match is None:
        process.kill()
        raise AssertionError(
            f"no URL line: {first!r} {process.stderr.read() if process.stderr else ''}"
        )
    return process, match.group(1)


async def test_prints_lines_and_stops_cleanly(tmp_path: Path) -> None:
    journal = tmp_path / "listen.db"
    process, url = _spawn(journal)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(url + "cb", data=json.dumps(suspension_body("req-1"))) as response:
                assert response.status == 200
            wrong = suspension_body("req-2", password="wrong-one")
            async with http.post(url + "cb", data=json.dumps(wrong)) as response:
                assert response.status == 401
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert re.search(r"req-1  suspension_status  mdn:5551234567\n", out)
    assert "REJECTED bad_credentials" in out and "from 127.0.0.1" in out
    assert "stopped: 1 accepted, 0 duplicates, 1 rejected" in out
    assert PASSWORD not in out + err and "wrong-one" not in out + err
    with Journal.open(journal, readonly=True) as reader:
        assert [r.request_id for r in reader.recent_callbacks()] == ["req-1"]


def test_refuses_a_foreign_journal(tmp_path: Path) -> None:
    journal = tmp_path / "notes.txt"
    journal.write_text("my notes\n" * 50)
    result = subprocess.run(
        [sys.executable, "-m", "m2m_tui.tracking.listen_command", "--journal", str(journal),
         "--no-credentials"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert str(journal) in result.stderr and "not an SQLite database" in result.stderr
    assert journal.read_text() == "my notes\n" * 50


async def test_every_acknowledged_callback_survives_sigkill(tmp_path: Path) -> None:
    journal = tmp_path / "crash.db"
    process, url = _spawn(journal, "--quiet")
    acknowledged: list[str] = []
    enough = asyncio.Event()
    failed = 0
    stop_at = time.monotonic() + 20

    async def sender(http: aiohttp.ClientSession, worker: int) -> None:
        nonlocal failed
        n = 0
        while time.monotonic() < stop_at:
            request_id = f"crash-{worker}-{n}"
            n += 1
            try:
                async with http.post(url + "cb", data=json.dumps(suspension_body(request_id))) as r:
                    if r.status == 200:
                        acknowledged.append(request_id)
                        if len(acknowledged) >= 1500:
                            enough.set()
            except (TimeoutError, aiohttp.ClientError, OSError):
                failed += 1
                return  # the server is gone

    try:
        connector = aiohttp.TCPConnector(limit=32)
        async with aiohttp.ClientSession(connector=connector) as http:
            tasks = [asyncio.create_task(sender(http, w)) for w in range(32)]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(enough.wait(), timeout=20)
            process.send_signal(signal.SIGKILL)  # mid-burst: 32 requests are in flight
            await asyncio.gather(*tasks)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 1500 and failed > 0
    with Journal.open(journal) as reopened:  # recovers the WAL of the killed process
        stored = {row.request_id for row in reopened.recent_callbacks(limit=1_000_000)}
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged callbacks lost, e.g. {sorted(missing)[:3]}"


@pytest.mark.parametrize("flag", ["--tls-cert"])
def test_tls_needs_both_files(tmp_path: Path, flag: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "m2m_tui.tracking.listen_command", "--journal",
         str(tmp_path / "j.db"), "--no-credentials", flag, str(tmp_path / "x.pem")],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=30,
    )  # fmt: skip
    assert result.returncode == 2 and "both" in result.stderr


def _listen_refused(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> str:
    """Run ``listen`` expecting it to refuse to start; returns its stderr."""
    base = {k: v for k, v in os.environ.items() if "CALLBACK" not in k}
    result = subprocess.run(
        [sys.executable, "-m", "m2m_tui.tracking.listen_command", "--journal",
         str(tmp_path / "j.db"), "--port", "0", *flags],
        capture_output=True,
        text=True,
        env=dict(base, PYTHONPATH=str(ROOT), **(env or {})),
        timeout=15,  # a listener that starts anyway never returns: the test fails here
    )  # fmt: skip
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "j.db").exists()
    return result.stderr


def test_a_username_without_a_password_refuses_to_start(tmp_path: Path) -> None:
    err = _listen_refused(tmp_path, "--callback-username", USERNAME)
    assert "no callback password" in err and "--no-credentials" in err
    assert "no callback password" in _listen_refused(tmp_path)  # nothing at all: also refused


def test_help_and_refusal_name_the_current_password_variable(tmp_path: Path) -> None:
    """Walk finding 13: the README calls M2M_TUI_CALLBACK_PASSWORD deprecated."""
    import argparse

    from m2m_tui.tracking.listen_command import add_listen_arguments

    parser = argparse.ArgumentParser(prog="m2m-tui listen")
    add_listen_arguments(parser)
    help_text = " ".join(parser.format_help().split())
    err = _listen_refused(tmp_path)
    for text in (help_text, err):
        assert "$M2M_TUI_CALLBACK__PASSWORD" in text
        assert "$M2M_TUI_CALLBACK_PASSWORD" not in text


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        (("--callback-username", USERNAME, "--callback-password", ""), None),
        (("--callback-password", ""), None),
        (("--no-credentials", "--callback-password", ""), None),
        (("--callback-username", USERNAME), {"M2M_TUI_CALLBACK__PASSWORD": ""}),
    ],
)
def test_an_empty_password_is_always_refused(
    tmp_path: Path, flags: tuple[str, ...], env: dict[str, str] | None
) -> None:
    err = _listen_refused(tmp_path, *flags, env=env)
    assert "password" in err


def test_no_credentials_is_explicit_and_says_so(tmp_path: Path) -> None:
    assert "contradicts" in _listen_refused(
        tmp_path, "--no-credentials", "--callback-username", USERNAME
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "m2m_tui.tracking.listen_command", "--journal",
         str(tmp_path / "lab.db"), "--port", "0", "--no-credentials"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert "listening on" in first and "NO credentials checked" in first
