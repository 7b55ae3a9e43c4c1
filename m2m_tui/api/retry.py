"""When and how long to wait before retrying a read-only call (``thingspace-api.md`` §8.4).

Only idempotent calls are retried: GETs and the read-only device list. Provisioning POSTs are
never retried here because they are not idempotent and count against per-line daily limits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 521, 522, 524})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped; ``Retry-After`` wins when the server sends one."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 20.0
    #: A Retry-After longer than this is not waited for: the caller gets RateLimited at once.
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds to wait before retry number ``attempt`` (1-based), or None to give up."""
        if attempt > self.attempts:
            return None
        if retry_after is not None:
            return None if retry_after > self.max_retry_after else max(0.0, retry_after)
        backoff: float = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        jitter: float = 0.5 + rng.random() / 2
        return backoff * jitter


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
