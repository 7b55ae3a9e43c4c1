"""Plain events the tracking layer emits; any front end (Textual, a CLI printer) consumes them.

Frozen slotted dataclasses with scalar fields only: cheap to create thousands per second and
safe to hand across threads. They never carry a password or a parsed model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CallbackAccepted:
    """A callback was journaled (committed) and answered 200."""

    record_id: int
    request_id: str
    kind: str
    device_key: str | None
    duplicate: bool
    received_at: float


@dataclass(frozen=True, slots=True)
class CallbackRejected:
    """A POST was refused with a 4xx (or a 503 when the journal failed: ``journal_unavailable``)."""

    reason: str
    detail: str
    source: str | None
    received_at: float


@dataclass(frozen=True, slots=True)
class ListenerStatus:
    """A snapshot for a status bar: where the listener is and what it has counted."""

    url: str
    running: bool
    accepted: int
    rejected: int
    duplicates: int = 0
    rejected_by_reason: Mapping[str, int] = field(default_factory=dict)
