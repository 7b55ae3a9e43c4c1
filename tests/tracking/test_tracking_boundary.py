"""The tracking layer stays UI-free: importing all of it never loads Textual or m2m_tui.ui."""

from __future__ import annotations

import subprocess
import sys

from tests.tracking.tracking_helpers import ROOT

CHECK = """
import importlib, pkgutil, sys
import m2m_tui.tracking as package
for module in pkgutil.iter_modules(package.__path__):
    importlib.import_module(f"m2m_tui.tracking.{module.name}")
bad = sorted(m for m in sys.modules if m == "textual" or m.startswith(("textual.", "m2m_tui.ui")))
print(",".join(bad))
"""


def test_tracking_never_imports_the_ui() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "", f"tracking imports UI modules: {result.stdout}"


def test_journal_needs_only_the_standard_library() -> None:
    check = (
        "import sys, m2m_tui.tracking.journal.sqlite, m2m_tui.tracking.journal.sqlite_writer;"
        "print(','.join(m for m in ('aiohttp', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == ""
