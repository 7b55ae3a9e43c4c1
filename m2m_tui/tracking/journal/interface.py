"""What the rest of the program uses of a journal, whichever backend holds it.

Two backends keep the same tables and meanings: an sqlite file (:mod:`.sqlite`, the embedded
default) and a PostgreSQL database shared by a team (:mod:`.pg`). The tracker, the
listener and its writer, exports, followers and queries are written against these protocols,
so none of them needs to know which one it talks to. :func:`is_postgres` tells a location
apart; :func:`safe_location` renders one for messages, logs and ``/healthz`` without its
password. Nothing here imports a database driver: sqlite users never load psycopg.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from types import TracebackType
from typing import Any, Protocol, Self

from m2m_tui.tracking.records import (
    CallbackRecord,
    CallbackRecordId,
    CallbackRow,
    DeviceRow,
    JournalCounts,
    PollRow,
    RejectionRecord,
    RejectionRow,
    RequestAction,
    RequestRow,
    RequestState,
)

#: A journal's location: a path (sqlite) or a ``postgresql://`` URL (PostgreSQL).
Location = str | PathLike[str]
Target = Sequence[Mapping[str, Any]] | Mapping[str, Any]

_SCHEMES = ("postgresql://", "postgres://")
# For display only (never to connect: libpq parses the URL itself). The userinfo of a URL
# ends at the first '@' and holds no raw '/', as libpq's own parser reads it.
_URL_PASSWORD = re.compile(r"^(?P<head>[A-Za-z]+://[^:@/?#]*):[^@/?#]*@")
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&](?:ssl)?password=)[^&#]*", re.IGNORECASE)
_KEYWORD_PASSWORD = re.compile(r"(?P<key>\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")
HIDDEN = "***"


def is_postgres(location: Location) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) URL; anything else is a path."""
    return isinstance(location, str) and location.lower().startswith(_SCHEMES)


def safe_location(location: Location) -> str:
    """The location as it may be shown: a URL's password (in the userinfo, or a ``password``
    / ``sslpassword`` parameter) replaced by ``***``; a path as it is."""
    text = str(location)
    if is_postgres(text):
        text = _URL_PASSWORD.sub(lambda m: f"{m['head']}:{HIDDEN}@", text, count=1)
        return _QUERY_PASSWORD.sub(lambda m: f"{m['key']}{HIDDEN}", text)
    if "password" in text.lower() and "=" in text:  # a libpq keyword/value string
        return _KEYWORD_PASSWORD.sub(lambda m: f"{m['key']}{HIDDEN}", text)
    return text


class JournalReader(Protocol):
    """The reads: exports, the requests/inbox/detail queries, a follower catching up."""

    @property
    def location(self) -> str:
        """Where the journal is, safe to show (no password)."""
        ...

    @property
    def readonly(self) -> bool: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def get_request(self, request_id: str) -> RequestRow | None: ...

    def list_requests(
        self,
        states: Iterable[RequestState | str] | None = None,
        limit: int = 50,
        offset: int = 0,
        text: str | None = None,
        submitted_by: str | None = None,
    ) -> list[RequestRow]: ...

    def count_requests(
        self,
        states: Iterable[RequestState | str] | None = None,
        text: str | None = None,
        submitted_by: str | None = None,
    ) -> int: ...

    def unfinished_requests(self) -> list[RequestRow]: ...

    def polls_for(self, request_id: str) -> list[PollRow]: ...

    def callbacks_for(self, request_id: str) -> list[CallbackRow]: ...

    def callbacks_about(
        self, device_keys: Sequence[str], since: float, limit: int = 100
    ) -> list[CallbackRow]: ...

    def recent_callbacks(
        self, limit: int = 100, after_id: int | None = None
    ) -> list[CallbackRow]: ...

    def result_counts(self, request_ids: Sequence[str]) -> dict[str, tuple[int, int]]: ...

    def callback(self, record_id: int) -> CallbackRow | None: ...

    def callbacks_before(self, before_id: int, limit: int = 100) -> list[CallbackRow]: ...

    def last_callback_id(self) -> int: ...

    def rejections(self, limit: int = 100, after_id: int | None = None) -> list[RejectionRow]: ...

    def rejections_before(self, before_id: int, limit: int = 100) -> list[RejectionRow]: ...

    def recent_devices(self, limit: int = 20) -> list[DeviceRow]: ...

    def counts(self) -> JournalCounts: ...


class JournalStore(JournalReader, Protocol):
    """Reads plus the writes the tracker, replay and device lookups make."""

    def add_request(
        self,
        request_id: str,
        *,
        action: RequestAction | str,
        account: str,
        target: Target,
        pollable: bool,
        deadline: float,
        expected_results: int | None = None,
        submitted_at: float | None = None,
        state: RequestState | str = RequestState.SUBMITTED,
        profile: str | None = None,
        submitted_by: str | None = None,
    ) -> RequestRow: ...

    def update_request(self, request_id: str, **fields: Any) -> RequestRow: ...

    def supersede_request(self, request_id: str, *, before: float, note: str) -> RequestRow | None:
        """Move the recorded ``request_id`` aside (:mod:`.attempts`); the moved row."""
        ...

    def add_poll(
        self, request_id: str, status: str, *, changed: bool = True, polled_at: float | None = None
    ) -> int: ...

    def append_callbacks(self, records: Sequence[CallbackRecord]) -> list[CallbackRecordId]: ...

    def append_rejections(self, records: Sequence[RejectionRecord]) -> list[int]: ...

    def add_device_lookup(
        self,
        account: str,
        kind: str,
        device_id: str,
        *,
        label: str | None = None,
        summary: Mapping[str, Any] | None = None,
        looked_up_at: float | None = None,
    ) -> None: ...


class WriterStatsLike(Protocol):
    """How well grouping works (both writers return a ``WriterStats``-shaped value)."""

    @property
    def items(self) -> int: ...

    @property
    def batches(self) -> int: ...

    @property
    def largest_batch(self) -> int: ...

    @property
    def failed_batches(self) -> int: ...


class CallbackWriter(Protocol):
    """The listener's group-committing writer: awaiting an append means it is committed."""

    @property
    def location(self) -> str:
        """Where it writes, safe to show (no password)."""
        ...

    @property
    def running(self) -> bool: ...

    @property
    def problem(self) -> str | None:
        """Why the journal cannot be written right now (None when it can), for /healthz."""
        ...

    def redact_also(self, secrets: tuple[str, ...]) -> None:
        """Redact these literal values (the callback password) wherever they occur in bodies."""
        ...

    def start(self) -> None:
        """Blocking: open (create or migrate) the journal; raise JournalError if it cannot."""
        ...

    async def append_callback(self, record: CallbackRecord) -> CallbackRecordId: ...

    async def append_rejection(self, record: RejectionRecord) -> int: ...

    def stats(self) -> WriterStatsLike: ...

    def close(self, timeout: float | None = None) -> None: ...

    async def aclose(self) -> None: ...
