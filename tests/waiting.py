"""Waiting for asynchronous effects without fixed sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Return as soon as ``predicate()`` is true; fail the test after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        assert loop.time() < deadline, f"condition not met within {within} s"
        await asyncio.sleep(0.02)


async def eventually_async(
    predicate: Callable[[], Awaitable[bool]], within: float = 10.0, every: float = 0.05
) -> None:
    """``eventually`` for a condition that needs a call to check (an HTTP read, a query)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await predicate():
        assert loop.time() < deadline, f"condition not met within {within} s"
        await asyncio.sleep(every)
