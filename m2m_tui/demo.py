"""``m2m-tui --demo``: the whole product against the built-in simulator, no account needed.

The simulator and the callback listener start inside the app's event loop once the login
screen is painted, on free loopback ports, with the simulator's callbacks registered to the
listener. The demo's profile and journal live in a temporary folder that is removed on exit:
the user's real config and journal are never read or written.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path


def run_demo(args: argparse.Namespace) -> int:
    from m2m_tui.ui.run import run_demo_app

    folder = Path(tempfile.mkdtemp(prefix="m2m-tui-demo-"))
    try:
        return run_demo_app(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
