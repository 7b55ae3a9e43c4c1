"""The core never imports Textual or the UI (design.md: api, tracking, sim and config are headless).

Each core module is imported in a fresh interpreter; after each import the test checks that
neither ``textual`` nor ``m2m_tui.ui`` has been loaded, and names the module that did it.
"""

from __future__ import annotations

import json
import subprocess
import sys
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
