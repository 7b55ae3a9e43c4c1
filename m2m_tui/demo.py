"""``m2m-tui --demo``: the whole product against the built-in simulator, no account needed.

Until the terminal UI lands, the demo starts the simulator and prints how to reach it.
"""

from __future__ import annotations

import argparse
import asyncio
import signal


async def _serve_demo() -> None:
    from m2m_tui.sim import SimConfig, start_simulator

    config = SimConfig()
    sim = await start_simulator(config)
    try:
        print(
            "m2m-tui demo: the terminal UI is not built yet; the ThingSpace simulator is running."
        )
        print(f"  base URL   {sim.base_url}")
        print(f"  app key    {config.app_key}   app secret {config.app_secret}")
        print(f"  UWS user   {config.username}   password   {config.password}")
        print(f"  accounts   {', '.join(a.name for a in config.accounts)}")
        print("  try IMEI 359876543210987 (active) or MDN 5551234568 (suspended)")
        print("Press Ctrl+C to stop.", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await sim.close()


def run_demo(args: argparse.Namespace) -> int:
    asyncio.run(_serve_demo())
    return 0
