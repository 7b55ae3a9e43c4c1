"""Start-up time: process start to the first painted login screen, in a real pty.

Each run spawns a fresh interpreter on an 80x24 pseudo-terminal and reads what it writes until
the login screen's text appears (escape sequences stripped), then sends ctrl+q. The baseline is
a minimal Textual app with the same widgets (header line, option list, seven inputs, checkbox,
two buttons, status line, footer), run alternately in the same session. Target: the app at
most 1.3x the minimal one (medians).

    python bench/startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "No profile yet"
ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b."
)

MINIMAL_APP = r"""
from textual.app import App
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Input, OptionList, Static

class Minimal(App):
    BINDINGS = [("ctrl+l", "noop", "Log in"), ("ctrl+s", "noop", "Save profile")]

    def compose(self):
        yield Static(" m2m-tui  profile -  account -  env -")
        with Horizontal():
            yield OptionList("+ new profile")
            with VerticalScroll():
                for label in ("Profile", "Base URL", "App key", "App secret", "UWS user",
                              "Password", "Account"):
                    with Horizontal(classes="row"):
                        yield Static(label)
                        yield Input(compact=True, password="Pass" in label or "secret" in label)
                yield Checkbox("Save secrets (separate 0600 file)", compact=True)
                yield Button("Log in", compact=True)
                yield Button("Save profile", compact=True)
                yield Static("1/2 Token\n2/2 Session")
                yield Static("No profile yet: fill in the fields, log in, and save it.")
        yield Static("not logged in")
        yield Footer(compact=True)

    def action_noop(self):
        pass

Minimal().run()
"""


def app_command() -> list[str]:
    cli = (ROOT / "m2m_tui" / "cli.py").read_text()
    if "run_tui" in cli:
        return [sys.executable, "-m", "m2m_tui"]
    code = (
        "import argparse, sys\n"
        "from m2m_tui.ui.run import run_tui\n"
        "sys.exit(run_tui(argparse.Namespace(profile=None, read_only=False, no_mouse=False)))\n"
    )
    return [sys.executable, "-c", code]


CPU_TIMES: dict[int, float] = {}
"""Per child pid: its CPU seconds (user + system) when ``MARKER`` appeared (Linux /proc)."""


def cpu_seconds(pid: int) -> float | None:
    """CPU time ``pid`` has used so far: unlike the wall time, barely moved by a loaded machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_to_marker(command: list[str], env: dict[str, str], timeout: float = 20.0) -> float:
    """Seconds from spawning ``command`` on a pty to ``MARKER`` appearing on its screen (its
    CPU time then is kept in ``CPU_TIMES``)."""
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execvpe(command[0], command, env)
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        seen = b""
        deadline = start + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if MARKER.encode() in ANSI.sub(b"", seen):
                elapsed = time.perf_counter() - start
                cpu = cpu_seconds(pid)
                if cpu is not None:
                    CPU_TIMES[pid] = cpu
                os.write(fd, b"\x11")  # ctrl+q
                return elapsed
        raise RuntimeError(f"{MARKER!r} never appeared; output: {ANSI.sub(b'', seen)[-400:]!r}")
    finally:
        _finish(pid, fd)


def _finish(pid: int, fd: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            select.select([fd], [], [], 0.05)
            os.read(fd, 65536)
        except OSError:
            pass
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="m2m-bench-"))
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    minimal = [sys.executable, "-c", MINIMAL_APP]
    app = app_command()
    # Warm the OS file cache and the bytecode caches once for each.
    time_to_marker(minimal, env)
    time_to_marker(app, env)
    app_times: list[float] = []
    minimal_times: list[float] = []
    app_cpu: list[float] = []
    minimal_cpu: list[float] = []
    for _ in range(args.runs):
        for command, times, cpu in (
            (minimal, minimal_times, minimal_cpu),
            (app, app_times, app_cpu),
        ):
            CPU_TIMES.clear()
            times.append(time_to_marker(command, env))
            cpu.extend(CPU_TIMES.values())
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())  # the figures depend on it
    app_median = statistics.median(app_times)
    minimal_median = statistics.median(minimal_times)
    ratio = app_median / minimal_median
    print(f"command: {sys.executable} bench/startup.py --runs {args.runs}")
    print(f"load average at the end: {load}")
    print(
        f"minimal Textual app, first paint: median {minimal_median * 1000:.0f} ms "
        f"(min {min(minimal_times) * 1000:.0f})"
    )
    print(
        f"m2m-tui login screen, first paint: median {app_median * 1000:.0f} ms "
        f"(min {min(app_times) * 1000:.0f})"
    )
    print(f"ratio: {ratio:.2f}x (target <= 1.30x) -> {'OK' if ratio <= 1.3 else 'OVER'}")
    if app_cpu and minimal_cpu:  # the same runs in CPU time (steadier when others load the CPU)
        cpu_ratio = statistics.median(app_cpu) / statistics.median(minimal_cpu)
        print(
            f"CPU time to first paint (/proc, 10 ms ticks): minimal median "
            f"{statistics.median(minimal_cpu) * 1000:.0f} ms, m2m-tui median "
            f"{statistics.median(app_cpu) * 1000:.0f} ms, ratio {cpu_ratio:.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
