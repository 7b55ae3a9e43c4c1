"""End to end in a real terminal: ``m2m-tui --demo`` in tmux, driven with send-keys.

Log in, type an IMEI, see the device card, quit with ctrl+q; and a dropped terminal must end
the process. Uses a private tmux socket, a fixed 80x24 window, HOME and XDG folders in a temp
dir, and polls capture-pane against a deadline instead of sleeping.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMEI = "359876543210987"
STORY_B_MDN = "5551230102"  # suspended by jdoe 6 days ago (thingspace-diagnostics.md §10)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def app_command() -> list[str]:
    script = Path(sys.executable).parent / "m2m-tui"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "m2m_tui"]


class Tmux:
    def __init__(self, home: Path) -> None:
        self.socket = f"m2m-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.home = home

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=20,
        )

    def start(self, shell_command: str) -> None:
        env = {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "PYTHONPATH": str(ROOT),
            "TERM": "xterm-256color",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
        }
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self.run(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "80",
            "-y",
            "24",
            f"env -i {exports} sh -c {shlex.quote(shell_command)}",
        )
        self.run("set-option", "-g", "status", "off", check=False)
        self.run("resize-window", "-x", "80", "-y", "24", check=False)

    def capture(self) -> str:
        result = self.run("capture-pane", "-p", check=False)
        return result.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", *keys)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on screen after {timeout}s; screen was:\n{screen}")

    def kill(self) -> None:
        self.run("kill-server", check=False)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    home = tmp_path / "home"
    home.mkdir()
    session = Tmux(home)
    try:
        yield session
    finally:
        session.kill()


def test_demo_login_lookup_quit(tmux: Tmux) -> None:
    command = " ".join(shlex.quote(part) for part in app_command())
    tmux.start(f"{command} --demo; echo M2M-EXIT=$?; sleep 60")
    screen = tmux.wait_for("Press Enter to log in")
    assert "DEMO" in screen
    tmux.wait_for("http://127.0.0.1:")  # the simulator is up
    tmux.keys("Enter")
    screen = tmux.wait_for("Paste any identifier")
    assert "session" in screen
    tmux.keys(IMEI)
    tmux.wait_for("IMEI  15 characters")
    tmux.keys("Enter")
    screen = tmux.wait_for("Device 5551234567")  # the card of the IMEI typed
    assert "5551234567" in screen and "active" in screen
    tmux.keys("C-q")
    tmux.wait_for("M2M-EXIT=0", timeout=15)
    assert not (tmux.home / ".config" / "m2m-tui").exists()


def test_demo_reaches_the_diagnosis_of_a_story_device(tmux: Tmux) -> None:
    """Issue 10: the demo's account holds the scenario-kit devices; story B's card says why."""
    command = " ".join(shlex.quote(part) for part in app_command())
    tmux.start(f"{command} --demo; echo M2M-EXIT=$?; sleep 60")
    tmux.wait_for("http://127.0.0.1:")
    tmux.keys("Enter")
    tmux.wait_for("Paste any identifier")
    tmux.keys(STORY_B_MDN)
    tmux.wait_for("MDN  10 characters")
    tmux.keys("Enter")
    screen = tmux.wait_for("Diagnosis (R2): Suspended by jdoe")
    assert "Device 5551230102" in screen
    screen = tmux.wait_for("Next step:")
    assert "request suspension status" in screen
    tmux.keys("C-q")
    tmux.wait_for("M2M-EXIT=0", timeout=15)


def test_dropped_terminal_ends_the_process(tmux: Tmux, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    command = " ".join(shlex.quote(part) for part in app_command())
    # SIGHUP ignored, as under nohup: only the watchdog can notice the terminal is gone.
    tmux.start(f"echo $$ > {shlex.quote(str(pid_file))}; trap '' HUP; exec {command} --demo")
    tmux.wait_for("Press Enter to log in")
    pid = int(pid_file.read_text().strip())
    tmux.kill()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            waited, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            waited = 0
        if waited == pid:
            return
        time.sleep(0.2)
    os.kill(pid, 9)
    raise AssertionError("m2m-tui kept running after its terminal went away")
