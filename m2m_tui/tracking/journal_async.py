"""The journal for code running on the event loop: the same calls, awaited.

sqlite blocks, and a UI loop must not, so every call runs on one dedicated worker thread (one
thread, because an sqlite connection belongs to the thread that uses it, and because it keeps
the calls of one caller in order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from m2m_tui.tracking import journal_schema
from m2m_tui.tracking.journal import Journal, Target
from m2m_tui.tracking.records import (
    CallbackRow,
    DeviceRow,
    JournalCounts,
    PollRow,
    RejectionRow,
    RequestAction,
    RequestRow,
    RequestState,
)

T = TypeVar("T")


class AsyncJournal:
    """Awaitable wrappers around :class:`Journal`; open with ``await AsyncJournal.open(...)``."""

    def __init__(self, journal: Journal, executor: ThreadPoolExecutor) -> None:
        self._journal = journal
        self._executor = executor

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        readonly: bool = False,
        synchronous: journal_schema.Synchronous = "NORMAL",
    ) -> AsyncJournal:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        loop = asyncio.get_running_loop()
        try:
            journal = await loop.run_in_executor(
                executor, partial(Journal.open, path, readonly=readonly, synchronous=synchronous)
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(journal, executor)

    @property
    def path(self) -> Path:
        return self._journal.path

    async def _run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(call, *args, **kwargs))

    async def close(self) -> None:
        await self._run(self._journal.close)
        self._executor.shutdown(wait=False)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def add_request(
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
    ) -> RequestRow:
        return await self._run(
            self._journal.add_request,
            request_id,
            action=action,
            account=account,
            target=target,
            pollable=pollable,
            deadline=deadline,
            expected_results=expected_results,
            submitted_at=submitted_at,
            state=state,
            profile=profile,
        )

    async def update_request(self, request_id: str, **fields: Any) -> RequestRow:
        return await self._run(self._journal.update_request, request_id, **fields)

    async def get_request(self, request_id: str) -> RequestRow | None:
        return await self._run(self._journal.get_request, request_id)

    async def list_requests(
        self,
        states: Iterable[RequestState | str] | None = None,
        limit: int = 50,
        offset: int = 0,
        text: str | None = None,
    ) -> list[RequestRow]:
        states = None if states is None else list(states)
        return await self._run(self._journal.list_requests, states, limit, offset, text)

    async def count_requests(
        self, states: Iterable[RequestState | str] | None = None, text: str | None = None
    ) -> int:
        states = None if states is None else list(states)
        return await self._run(self._journal.count_requests, states, text)

    async def unfinished_requests(self) -> list[RequestRow]:
        return await self._run(self._journal.unfinished_requests)

    async def add_poll(
        self, request_id: str, status: str, *, changed: bool = True, polled_at: float | None = None
    ) -> int:
        return await self._run(
            self._journal.add_poll, request_id, status, changed=changed, polled_at=polled_at
        )

    async def polls_for(self, request_id: str) -> list[PollRow]:
        return await self._run(self._journal.polls_for, request_id)

    async def callbacks_for(self, request_id: str) -> list[CallbackRow]:
        return await self._run(self._journal.callbacks_for, request_id)

    async def recent_callbacks(
        self, limit: int = 100, after_id: int | None = None
    ) -> list[CallbackRow]:
        return await self._run(self._journal.recent_callbacks, limit, after_id)

    async def last_callback_id(self) -> int:
        return await self._run(self._journal.last_callback_id)

    async def rejections(self, limit: int = 100, after_id: int | None = None) -> list[RejectionRow]:
        return await self._run(self._journal.rejections, limit, after_id)

    async def add_device_lookup(
        self,
        account: str,
        kind: str,
        device_id: str,
        *,
        label: str | None = None,
        summary: Mapping[str, Any] | None = None,
        looked_up_at: float | None = None,
    ) -> None:
        await self._run(
            self._journal.add_device_lookup,
            account,
            kind,
            device_id,
            label=label,
            summary=summary,
            looked_up_at=looked_up_at,
        )

    async def recent_devices(self, limit: int = 20) -> list[DeviceRow]:
        return await self._run(self._journal.recent_devices, limit)

    async def counts(self) -> JournalCounts:
        return await self._run(self._journal.counts)
