"""Shared fixtures: the simulator on a real loopback port, and a client logged in to it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import pytest

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.credentials import ClientSettings, Credentials
from m2m_tui.api.retry import RetryPolicy
from m2m_tui.sim import RunningSimulator, SimConfig, start_simulator

FAST = {"processing_delay": 0.05, "callback_retry_interval": 0.2}


@pytest.fixture
def sim_config() -> SimConfig:
    """Override in a test module (or parametrize) for other clocks and faults."""
    return SimConfig(**FAST)  # type: ignore[arg-type]


@pytest.fixture
async def sim(sim_config: SimConfig) -> AsyncIterator[RunningSimulator]:
    running = await start_simulator(sim_config)
    try:
        yield running
    finally:
        await running.close()


def credentials_for(config: SimConfig, **overrides: str) -> Credentials:
    values = {
        "app_key": config.app_key,
        "app_secret": config.app_secret,
        "username": config.username,
        "password": config.password,
    }
    values.update(overrides)
    return Credentials.of(**values)


ClientFactory = Callable[..., ThingSpaceClient]


@pytest.fixture
async def make_client(sim: RunningSimulator) -> AsyncIterator[ClientFactory]:
    """Build clients against the running simulator; all are closed at the end of the test."""
    made: list[ThingSpaceClient] = []

    def factory(
        *,
        retry: RetryPolicy | None = None,
        settings: dict[str, object] | None = None,
        clock: Callable[[], float] = time.time,
        **credential_overrides: str,
    ) -> ThingSpaceClient:
        client = ThingSpaceClient(
            credentials_for(sim.config, **credential_overrides),
            ClientSettings(base_url=sim.base_url, **(settings or {})),  # type: ignore[arg-type]
            retry=retry or RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
            clock=clock,
        )
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()


@pytest.fixture
async def client(make_client: ClientFactory) -> ThingSpaceClient:
    """A client that has logged in."""
    made = make_client()
    await made.login()
    return made
