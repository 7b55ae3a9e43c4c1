"""The core never imports Textual or the UI (design.md: api, tracking, sim and config are headless).

Each core module is imported in a fresh interpreter; after each import the test checks that
neither ``textual`` nor ``m2m_tui.ui`` has been loaded, and names the module that did it.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ("api", "tracking", "sim", "desk")
CORE_MODULES = ("m2m_tui.locate", "m2m_tui.cli", "m2m_tui.demo")

CHECK = """
import importlib, json, sys
offenders = {}
for name in sys.argv[1:]:
    importlib.import_module(name)
    bad = sorted(m for m in sys.modules if m == "textual" or m.startswith(("textual.", "m2m_tui.ui")))
    if bad:
        offenders[name] = bad[:5]
        break
print(json.dumps(offenders))
"""


def core_modules(package: str) -> list[str]:
    folder = ROOT / "m2m_tui" / package
    names = [f"m2m_tui.{package}"]
    for path in sorted(folder.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


@pytest.mark.parametrize("group", [*CORE_PACKAGES, "top-level"])
def test_core_never_imports_textual_or_ui(group: str) -> None:
    modules = list(CORE_MODULES) if group == "top-level" else core_modules(group)
    result = subprocess.run(
        [sys.executable, "-c", CHECK, *modules],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    offenders = json.loads(result.stdout.strip().splitlines()[-1])
    assert offenders == {}, f"imports Textual or the UI: {offenders}"


def test_ui_start_up_does_not_import_the_simulator_or_aiohttp() -> None:
    """Building the normal app (login screen) must not pay for aiohttp, the simulator, the
    API models (pydantic), httpx or the PostgreSQL driver: design.md's start-up rule."""
    code = (
        "import sys, argparse\n"
        "from m2m_tui.ui.run import build_options\n"
        "from m2m_tui.ui.app import M2MApp\n"
        "M2MApp(build_options(argparse.Namespace()))\n"
        "import m2m_tui.ui.screens.login\n"
        "print(sorted(m for m in sys.modules if m.startswith(('aiohttp', 'm2m_tui.sim', 'pydantic', 'httpx', 'psycopg'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(ROOT / ".no-home")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# What the first frame of a normal start (the login form, a fresh home) must not import: each
# was on that path once and cost start-up time (issue 8, ``bench/startup.py``). The journal,
# tracking and request values (``tracking.*``: ~20 dataclasses with ``desk.actions`` and
# ``desk.policy``), the demo's wiring, the tz database, hashlib/secrets (the login guard's
# digest), Rich's emoji table (theme probes rendering errors), and what the app never needs
# before logging in (aiohttp, the simulator, pydantic, httpx, psycopg).
NOT_IN_FIRST_FRAME = (
    "m2m_tui.tracking",
    "m2m_tui.desk.actions",
    "m2m_tui.desk.policy",
    "m2m_tui.desk.demo",
    "m2m_tui.sim",
    "zoneinfo",
    "hashlib",
    "secrets",
    "rich._emoji_codes",
    "aiohttp",
    "pydantic",
    "httpx",
    "psycopg",
)

FIRST_FRAME = r"""
import argparse, gc, json, os, re, sys
import textual.drivers.linux_driver as driver

ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b.")
write = driver.LinuxDriver.write

def first_frame(self, data):
    write(self, data)
    if "No profile yet" in ANSI.sub("", data):  # the login form's first paint
        with open(sys.argv[1], "w") as out:
            json.dump({"modules": sorted(sys.modules), "full": FULL, "frozen": gc.get_freeze_count()}, out)
        os._exit(0)

def count_full(phase, info):
    global FULL
    FULL += phase == "stop" and info["generation"] == 2

FULL = 0
gc.callbacks.append(count_full)

driver.LinuxDriver.write = first_frame
from m2m_tui.ui.run import run_tui
run_tui(argparse.Namespace())
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
def test_first_frame_imports_only_what_it_shows(tmp_path: Path) -> None:
    """The modules loaded when the login form is first painted, in a real 80x24 pty (as the
    start-up bench runs it): none of ``NOT_IN_FIRST_FRAME``; and no full garbage collection
    before it."""
    out = tmp_path / "modules.json"
    home = tmp_path / "home"
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
    }
    pid, fd = pty.fork()
    if pid == 0:  # child: the app on the pty
        os.execvpe(sys.executable, [sys.executable, "-c", FIRST_FRAME, str(out)], env)
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        seen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the child exited
                    break
                if not chunk:
                    break
                seen += chunk
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                pid = 0
                break
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert out.exists(), f"no first frame; the app wrote: {seen[-600:]!r}"
    first = json.loads(out.read_text())
    loaded = first["modules"]
    assert "m2m_tui.ui.screens.login" in loaded  # it did paint the login form
    offenders = sorted(
        name
        for name in loaded
        for bad in NOT_IN_FIRST_FRAME
        if name == bad or name.startswith(bad + ".")
    )
    assert offenders == [], f"the first frame imports {offenders}"
    # What was imported and built before the app ran is frozen (ui/run.py): no full collection
    # walks it. One did before the first frame, ~35 ms, while the minimal app needed none.
    assert first["frozen"] > 0
    assert first["full"] == 0, (
        "a full collection before the first frame: after the freeze it walks only what the "
        "first frame built (3 of the 10 middle-generation passes that trigger one, today)"
    )
