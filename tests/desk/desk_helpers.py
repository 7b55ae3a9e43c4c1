"""Building a desk against the simulator over loopback: settings, a port someone else holds."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.models import RegisterCallbackRequest
from m2m_tui.sim.config import PRIMARY_ACCOUNT
from m2m_tui.tracking.listener_config import ListenerConfig
from m2m_tui.tracking.poller import PollSchedule
from m2m_tui.tracking.service import TrackingSettings

ACCOUNT = PRIMARY_ACCOUNT
CB_USER = "tui"
CB_PASSWORD = "cb-secret"
FAST = PollSchedule(first=0.1, growth=1.5, longest=0.4, jitter=0.1, pause=0.3, tick=0.05)


def settings(journal: Path, port: int | None = 0) -> TrackingSettings:
    """Tracking on ``journal``; a listener on ``port`` (None: no listener at all)."""
    listener = (
        None
        if port is None
        else ListenerConfig(
            host="127.0.0.1", port=port, username=CB_USER, password=SecretStr(CB_PASSWORD)
        )
    )
    return TrackingSettings(journal_path=journal, listener=listener, schedule=FAST)


@contextmanager
def port_taken() -> Iterator[int]:
    """A loopback port another process listens on (as ``m2m-tui listen`` would)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


async def register(client: ThingSpaceClient, url: str) -> None:
    """Point the account's callbacks at ``url`` (both services)."""
    for service in ("CarrierService", "DeviceSuspensionStatus"):
        await client.register_callback(
            ACCOUNT,
            RegisterCallbackRequest(name=service, url=url, username=CB_USER, password=CB_PASSWORD),
        )
