"""Shared helpers for the tracking tests: realistic bodies and a listener on its own thread."""

from __future__ import annotations

import asyncio
import copy
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from m2m_tui.tracking.events import CallbackAccepted, CallbackRejected
from m2m_tui.tracking.journal.sqlite_writer import JournalWriter
from m2m_tui.tracking.listener import CallbackListener
from m2m_tui.tracking.listener_config import ListenerConfig

from ..api import thingspace_examples as examples

PASSWORD = "s3cr3t-shared-Pa55"
USERNAME = "tui"
ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# The reference's own examples (thingspace-api.md §10), with a password of ours.
SUSPENSION_BODY: dict[str, Any] = {
    **copy.deepcopy(examples.SUSPENSION_STATUS_CALLBACK),
    "username": USERNAME,
    "password": PASSWORD,
}
FAILURE_BODY: dict[str, Any] = {
    **copy.deepcopy(examples.CARRIER_FAILURE_CALLBACK),
    "username": USERNAME,
    "password": PASSWORD,
}


def suspension_body(
    request_id: str, *, count: int = 1, mdn: str = "5551234567", password: str = PASSWORD
) -> dict[str, Any]:
    body = copy.deepcopy(SUSPENSION_BODY)
    body["requestId"] = request_id
    body["callbackCount"] = count
    body["password"] = password
    body["deviceResponse"]["deviceSuspensionStatusResponse"][0]["deviceIds"][0]["id"] = mdn
    return body


def completion_body(request_id: str, *, password: str = PASSWORD) -> dict[str, Any]:
    return {
        "username": USERNAME,
        "password": password,
        "requestId": request_id,
        "deviceResponse": {},
        "comment": "Request Completed Processing",
        "callbackCount": 1,
        "maxCallbackThreshold": 4,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ThreadedListener:
    """A writer and listener serving from a private event loop on a background thread."""

    url: str
    listener: CallbackListener
    writer: JournalWriter
    events: list[CallbackAccepted | CallbackRejected] = field(default_factory=list)


@contextmanager
def listener_in_thread(journal: Path, config: ListenerConfig) -> Iterator[ThreadedListener]:
    """For synchronous tests (hypothesis): one listener for the whole test, not per example."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    events: list[CallbackAccepted | CallbackRejected] = []
    writer = JournalWriter(journal)
    writer.start()
    listener = CallbackListener(config, writer, on_event=events.append)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(listener.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield ThreadedListener(listener.url, listener, writer, events)
    finally:
        asyncio.run_coroutine_threadsafe(listener.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        writer.close()
