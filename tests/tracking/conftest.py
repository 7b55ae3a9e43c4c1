"""Fixtures for the tracking tests: a journal path, a running writer, listeners on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from m2m_tui.tracking.events import CallbackAccepted, CallbackRejected
from m2m_tui.tracking.journal.sqlite_writer import JournalWriter
from m2m_tui.tracking.listener import CallbackListener
from m2m_tui.tracking.listener_config import ListenerConfig
from tests.tracking.journal_backends import (  # noqa: F401  (fixtures: both journal backends)
    journal_location,
    postgres_server,
    postgres_url,
)
from tests.tracking.tracking_helpers import PASSWORD, USERNAME

BASE_CONFIG = ListenerConfig(
    host="127.0.0.1", port=0, username=USERNAME, password=SecretStr(PASSWORD)
)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.db"


@pytest.fixture
def writer(journal_path: Path) -> Iterator[JournalWriter]:
    journal_writer = JournalWriter(journal_path)
    journal_writer.start()
    yield journal_writer
    journal_writer.close()


StartListener = Callable[..., Awaitable[CallbackListener]]


@pytest.fixture
async def start_listener(
    writer: JournalWriter,
) -> AsyncIterator[tuple[StartListener, list[CallbackAccepted | CallbackRejected]]]:
    """Start listeners with config overrides; all stopped at the end. Yields (start, events)."""
    started: list[CallbackListener] = []
    events: list[CallbackAccepted | CallbackRejected] = []

    async def start(**overrides: Any) -> CallbackListener:
        listener = CallbackListener(replace(BASE_CONFIG, **overrides), writer, events.append)
        await listener.start()
        started.append(listener)
        return listener

    yield start, events
    for listener in started:
        await listener.stop()
