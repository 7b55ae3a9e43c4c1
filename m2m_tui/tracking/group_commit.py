"""Group commit for a writer thread: take what is queued, write it as one batch, repeat.

Both journal writers (sqlite and PostgreSQL) answer a callback only after its batch commits;
batching what arrived meanwhile is what makes that affordable. ``None`` on the queue is the
stop marker: what was enqueued in a race after it is still written.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def next_batch(
    source: queue.SimpleQueue[T | None], first: T, max_batch: int, linger: float
) -> tuple[list[T], bool]:
    """``first`` plus whatever is queued behind it (waiting up to ``linger`` seconds for more);
    True when the stop marker was seen."""
    batch = [first]
    deadline = time.monotonic() + linger if linger > 0 else 0.0
    while len(batch) < max_batch:
        try:
            item = source.get_nowait()
        except queue.Empty:
            remaining = deadline - time.monotonic() if deadline else 0.0
            if remaining <= 0:
                break
            try:
                item = source.get(timeout=remaining)
            except queue.Empty:
                break
        if item is None:
            return batch, True
        batch.append(item)
    return batch, False


def run_batches(
    source: queue.SimpleQueue[T | None],
    write: Callable[[list[T]], None],
    max_batch: int,
    linger: float,
) -> None:
    """Write batches until the stop marker, then whatever was enqueued in a race after it."""
    stopping = False
    while not stopping:
        first = source.get()
        if first is None:
            break
        batch, stopping = next_batch(source, first, max_batch, linger)
        write(batch)
    leftovers: list[T] = []
    while True:
        try:
            item = source.get_nowait()
        except queue.Empty:
            break
        if item is not None:
            leftovers.append(item)
    if leftovers:
        write(leftovers)
