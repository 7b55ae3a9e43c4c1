"""Bar repaints: how often the header and status bars ask to repaint while nothing happens.

Runs the demo headless (80x24, live clock) and counts ``Static.update`` calls of every
``StatusBar`` and ``AppHeader`` over a window: logged out (login screen only), or logged in
with three screens stacked (login, devices, requests). Each bar used to repaint once a second
on its own timer; now the bars follow the app's reactives and repaint only when their text or
styles change. Compare two trees by running this with each on ``PYTHONPATH``, alternating.

    python bench/bar_repaints.py [--seconds 5] [--logged-in]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

COUNTS = {"status": 0, "header": 0}


def count_updates() -> None:
    from m2m_tui.ui.widgets.bars import AppHeader, StatusBar

    for cls, key in ((StatusBar, "status"), (AppHeader, "header")):
        original = cls.update

        def counted(self: Any, *args: Any, _key: str = key, _f: Any = original, **kw: Any) -> None:
            COUNTS[_key] += 1
            _f(self, *args, **kw)

        cls.update = counted  # type: ignore[method-assign]


async def until(pilot: Any, predicate: Any) -> None:
    while not predicate():
        await pilot.pause(0.05)


async def main(seconds: float, logged_in: bool) -> None:
    from m2m_tui.sim import SimConfig
    from m2m_tui.ui.app import M2MApp
    from m2m_tui.ui.run import demo_options

    count_updates()
    options = demo_options(argparse.Namespace(read_only=False), Path(tempfile.mkdtemp()))
    options.watchdog = False
    assert options.demo is not None
    options.demo.listener = False
    options.demo.sim_config = SimConfig(processing_delay=0.05)
    app = M2MApp(options)
    async with app.run_test(size=(80, 24)) as pilot:
        demo = app.demo_services
        assert demo is not None
        await until(pilot, demo.ready.is_set)
        if logged_in:
            await pilot.press("enter")
            await until(pilot, lambda: type(app.screen).__name__ == "DevicesScreen")
            await pilot.press("escape", "g")
            await until(pilot, lambda: type(app.screen).__name__ == "RequestsScreen")
        await pilot.pause(0.5)
        COUNTS.update(status=0, header=0)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await pilot.pause(0.1)
        screens = len(app.screen_stack)
    print(
        f"logged_in={logged_in} screens={screens} window={seconds:.0f}s "
        f"status_updates={COUNTS['status']} header_updates={COUNTS['header']}"
    )
    print("command: python " + " ".join(sys.argv))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--logged-in", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.logged_in))
