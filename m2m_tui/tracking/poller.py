"""One asyncio task that polls every pollable request's status, never overlapping itself.

Each request has its own interval: about 2 s at first, growing to about 30 s, jittered so many
requests do not poll in lock-step. A 429 or 5xx pauses all polling (ThingSpace is struggling,
so asking faster helps no one); a terminal status, a completion callback or the deadline stops
polling that request. Session expiry is handled by the client's renewal, so the poller only
pauses when the client gives up (a rejected password is never retried).

Nothing one poll does may end polling for the session: any exception from a status call counts
as an error of that request (logged by type, backed off, given up after a few), and a failure
around the polls (the tracker, the journal) is logged and waited out like a 5xx.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from m2m_tui.api.errors import (
    ApiError,
    AuthError,
    NetworkError,
    RateLimited,
    RequestTimeout,
    ServerError,
    ThingSpaceError,
)
from m2m_tui.api.models import RequestStatusResponse
from m2m_tui.tracking.tracker import Tracker
from m2m_tui.tracking.tracker_events import PollerStatus

log = logging.getLogger("m2m_tui.tracking")

StatusCall = Callable[[str, str], Awaitable[RequestStatusResponse]]
StatusPublisher = Callable[[PollerStatus], None]


@dataclass(frozen=True)
class PollSchedule:
    """Per-request interval: ``first`` growing by ``growth`` up to ``longest``, +/- ``jitter``."""

    first: float = 2.0
    growth: float = 1.5
    longest: float = 30.0
    jitter: float = 0.2
    #: Consecutive errors on one request after which it is left to callbacks and the deadline.
    give_up_after: int = 5
    #: Pause after a 429/5xx when the server gives no Retry-After.
    pause: float = 10.0
    #: How often deadlines are checked even when nothing is due.
    tick: float = 1.0

    def next_interval(self, previous: float | None, rng: random.Random) -> float:
        base = self.first if previous is None else min(self.longest, previous * self.growth)
        return base * (1 + self.jitter * (2 * rng.random() - 1))


@dataclass
class _Slot:
    due: float
    interval: float | None = None
    errors: int = 0


class Poller:
    """Polls ``tracker.pollable_unfinished()`` with ``status_call(account, request_id)``."""

    def __init__(
        self,
        tracker: Tracker,
        status_call: StatusCall,
        *,
        schedule: PollSchedule | None = None,
        on_status: StatusPublisher | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._tracker = tracker
        self._status_call = status_call
        self._schedule = schedule or PollSchedule()
        self._on_status = on_status
        self._clock = clock
        self._rng = rng or random.Random()
        self._slots: dict[str, _Slot] = {}
        self._wake = asyncio.Event()
        self._paused_until: float | None = None
        self._last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        #: Status calls made, for tests and the status bar.
        self.polls = 0
        #: Polls that failed, and rounds that failed around the polls (tracker, journal).
        self.errors = 0
        tracker.on_new_pollable(self.wake)

    def set_status_call(self, status_call: StatusCall) -> None:
        """Poll through another client from now on (the user logged in again)."""
        self._status_call = status_call
        self._paused_until = None
        self.wake()

    def wake(self) -> None:
        """Look at the tracker again now (a pollable request was submitted)."""
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="m2m-tui poller")
        return self._task

    async def stop(self) -> None:
        """Cancel the loop and wait for it; whatever ended it, stopping does not raise."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait({task})
        if not task.cancelled() and task.exception() is not None:
            log.error("the poller had ended with %s", type(task.exception()).__name__)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def status(self) -> PollerStatus:
        paused = self._paused_until
        wall_pause = None if paused is None else time.time() + max(0.0, paused - self._clock())
        return PollerStatus(
            running=self.running,
            tracked=len(self._slots),
            paused_until=wall_pause,
            last_error=self._last_error,
        )

    async def run(self) -> None:
        """The loop: poll what is due, one request at a time, then sleep until the next due."""
        try:
            while True:
                try:
                    self._tracker.check_deadlines()
                    self._sync_slots()
                    await self._poll_due()
                except Exception as exc:  # the tracker or the journal: wait, then go on
                    self.errors += 1
                    log.error("polling round failed; pausing", exc_info=exc)
                    self._paused_until = self._clock() + self._schedule.pause
                    self._last_error = f"polling failed ({type(exc).__name__}); trying again"
                    self._publish()
                await self._sleep_until_next()
        finally:
            self._publish()

    def _sync_slots(self) -> None:
        now = self._clock()
        wanted = {r.request_id: r for r in self._tracker.pollable_unfinished()}
        for request_id in list(self._slots):
            if request_id not in wanted:
                del self._slots[request_id]
        for request_id in wanted:
            if request_id not in self._slots:
                first = self._schedule.next_interval(None, self._rng)
                # Poll soon but not at once: ThingSpace has only just accepted the request.
                self._slots[request_id] = _Slot(due=now + min(first, 1.0) / 2)

    async def _poll_due(self) -> None:
        now = self._clock()
        if self._paused_until is not None:
            if now < self._paused_until:
                return
            self._paused_until = None
            self._publish()
        due = sorted((slot.due, rid) for rid, slot in self._slots.items() if slot.due <= now)
        for _, request_id in due:
            request = self._tracker.get(request_id)
            slot = self._slots.get(request_id)
            if request is None or slot is None or request.finished or not request.pollable:
                self._slots.pop(request_id, None)
                continue
            if not await self._poll_one(request.account, request_id, slot):
                return  # paused: leave the rest for later

    async def _poll_one(self, account: str, request_id: str, slot: _Slot) -> bool:
        """Poll one request; False when polling as a whole must pause."""
        self.polls += 1
        try:
            answer = await self._status_call(account, request_id)
        except (RateLimited, ServerError, RequestTimeout, NetworkError) as exc:
            self.errors += 1
            retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
            self._pause(retry_after if retry_after is not None else self._schedule.pause, exc)
            return False
        except AuthError as exc:
            self.errors += 1
            # The client already renewed what it could; waiting will not fix a password.
            self._pause(self._schedule.longest, exc)
            return False
        except (ApiError, ThingSpaceError) as exc:
            return self._failed(request_id, slot, exc.code, exc.message)
        except Exception as exc:  # not the client's typed errors: its text may hold anything
            log.warning("status call for %s failed: %s", request_id, type(exc).__name__)
            return self._failed(
                request_id, slot, None, f"status call failed ({type(exc).__name__})"
            )
        slot.errors = 0
        self._last_error = None
        self._tracker.polled(request_id, answer.status)
        self._reschedule(slot)
        return True

    def _failed(self, request_id: str, slot: _Slot, code: str | None, message: str) -> bool:
        """One request's poll failed: back off on it, and leave it after a few failures."""
        self.errors += 1
        slot.errors += 1
        self._tracker.poll_failed(request_id, code, message)
        if slot.errors >= self._schedule.give_up_after:
            self._tracker.stop_polling(
                request_id, f"status unavailable ({code or message}); awaiting callbacks"
            )
            self._slots.pop(request_id, None)
            return True
        self._reschedule(slot)
        return True

    def _reschedule(self, slot: _Slot) -> None:
        slot.interval = self._schedule.next_interval(slot.interval, self._rng)
        slot.due = self._clock() + slot.interval

    def _pause(self, seconds: float, exc: ThingSpaceError) -> None:
        self._paused_until = self._clock() + seconds
        self._last_error = f"{exc.message}: {exc.hint}"
        log.info("poller paused %.1fs: %s", seconds, exc.message)
        self._publish()

    async def _sleep_until_next(self) -> None:
        now = self._clock()
        wake_at = now + self._schedule.tick
        if self._slots:
            wake_at = min(wake_at, min(slot.due for slot in self._slots.values()))
        if self._paused_until is not None:
            wake_at = max(wake_at, min(self._paused_until, now + self._schedule.tick))
        self._wake.clear()
        # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that lands while
        # the wake-up completes (a submit just before quitting), and stop() then hangs.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, wake_at - now)):
                await self._wake.wait()

    def _publish(self) -> None:
        if self._on_status is not None:
            self._on_status(self.status())
