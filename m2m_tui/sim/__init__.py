"""The ThingSpace simulator: one aiohttp app that speaks the production wire contract.

Used by ``m2m-tui --demo``, ``m2m-tui sim`` and the test suite as the peer of the HTTP client.
It is a separate implementation of ``thingspace-api.md`` (plain dicts, no client models), which
is what makes it a useful test peer. It never imports the UI or the API client.
"""

from m2m_tui.sim.config import AccountSpec, FaultConfig, SimConfig
from m2m_tui.sim.server import RunningSimulator, create_app, start_simulator
from m2m_tui.sim.state import STATE_KEY, SimState

__all__ = [
    "STATE_KEY",
    "AccountSpec",
    "FaultConfig",
    "RunningSimulator",
    "SimConfig",
    "SimState",
    "create_app",
    "start_simulator",
]
