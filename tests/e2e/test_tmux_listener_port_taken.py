"""End to end in a real terminal (issue 8, case 1): the profile's listener port is taken.

Another process (``m2m-tui listen``, say) holds the callback port. The app says callbacks are
off and why, yet a suspend is still journaled, polled to "completed by poll", and found by
``m2m-tui export`` after the app quit. A real profile against ``m2m-tui sim`` (a separate
process), in tmux at 80x24, as in ``test_tmux_requests.py``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_tmux_demo import ROOT, Tmux, app_command, tmux  # noqa: F401  (tmux is a fixture)

ACTIVE_MDN = "5551234567"


@pytest.fixture
def sim_url() -> Iterator[str]:
    """``m2m-tui sim`` on a free port; the status of a request turns final after 1.5 s."""
    process = subprocess.Popen(
        [sys.executable, "-m", "m2m_tui", "sim", "--port", "0", "--processing-delay", "1.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                yield found.group(1)
                break
        else:
            raise AssertionError("the simulator did not start")
    finally:
        process.terminate()
        process.wait(timeout=10)


def write_profile(folder: Path, base_url: str, listen_port: int) -> None:
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(
        "[profiles.acme]\n"
        f'base_url = "{base_url}"\n'
        'account = "0000123456-00001"\n'
        'app_key = "demo-app-key"\n'
        'username = "demo_uws_user"\n'
        f'callback = {{ listen = "127.0.0.1:{listen_port}" }}\n',
        encoding="utf-8",
    )
    secrets = folder / "secrets.toml"
    secrets.write_text(
        '[profiles.acme]\napp_secret = "demo-app-secret"\npassword = "Demo#Pass1"\n',
        encoding="utf-8",
    )
    secrets.chmod(0o600)


def test_port_taken_the_suspend_completes_by_poll_and_is_exported(
    tmux: Tmux,  # noqa: F811
    sim_url: str,
) -> None:
    config, data = tmux.home / "m2m-config", tmux.home / "m2m-data"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        write_profile(config, sim_url, port)
        command = " ".join(shlex.quote(part) for part in app_command())
        dirs = f"M2M_TUI_CONFIG_DIR={shlex.quote(str(config))} M2M_TUI_DATA_DIR={data}"
        tmux.start(f"{dirs} {command} --profile acme; echo M2M-EXIT=$?; sleep 60")
        tmux.wait_for("^l Log in")
        tmux.keys("C-l")
        tmux.wait_for("Paste any identifier")
        screen = tmux.wait_for("callbacks off")  # said, with the reason
        assert "in use" in screen or str(port) in screen
        tmux.keys(ACTIVE_MDN, "Enter")
        tmux.wait_for("Device " + ACTIVE_MDN)
        tmux.keys("S")
        tmux.wait_for("Suspend (y)")
        tmux.keys("y")
        screen = tmux.wait_for("Request submitted")
        assert "polling (no callback" in screen  # not "polling + callback": none can come
        tmux.keys("g")
        tmux.wait_for("suspend     completed by poll")  # one-space gaps (By column)
        tmux.keys("C-q")
        tmux.wait_for("M2M-EXIT=0", timeout=15)

    journal = data / "journal.sqlite3"
    exported = subprocess.run(
        [*app_command(), "export", "--journal", str(journal), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    requests = json.loads(exported.stdout)["requests"]
    assert [(r["action"], r["state"], r["completedBy"]) for r in requests] == [
        ("suspend", "completed", "poll")
    ]
