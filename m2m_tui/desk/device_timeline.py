"""The card's connection timeline, computed headless: last sessions and daily bytes.

The screen only prints these: the newest sessions (start, duration, bytes) and a one-line bar
of daily bytes over the window that fits 80 columns. Days without a Stop count as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from m2m_tui.api.models.history import ConnectionEvent
from m2m_tui.desk.diagnosis_facts import pair_sessions, size_text

BARS = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class SessionRow:
    """One line of the timeline table (None where the window cut the session)."""

    start: datetime | None
    duration: timedelta | None
    bytes_used: int | None
    ip: str | None

    @property
    def open(self) -> bool:
        return self.start is not None and self.duration is None

    def cells(self) -> tuple[str, str, str]:
        start = self.start.strftime("%Y-%m-%d %H:%M") if self.start else "before window"
        if self.duration is not None:
            seconds = int(self.duration.total_seconds())
            length = f"{seconds // 60}m{seconds % 60:02d}s"
        else:
            length = "open" if self.open else "?"
        size = size_text(self.bytes_used) if self.bytes_used is not None else "-"
        return start, length, size


def recent_sessions(events: list[ConnectionEvent], limit: int = 20) -> list[SessionRow]:
    """The newest ``limit`` sessions, newest first."""
    rows = [SessionRow(s.start, s.duration, s.bytes_used, s.ip) for s in pair_sessions(events)]
    return list(reversed(rows))[:limit]


def daily_bytes(events: list[ConnectionEvent], now: datetime, days: int = 30) -> list[int]:
    """Bytes per UTC day, oldest first, ``days`` entries ending today (a Stop counts on its day)."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    totals = [0] * days
    for event in events:
        when = event.when
        if event.event != "Stop" or when is None:
            continue
        index = (when.date() - first).days
        if 0 <= index < days:
            totals[index] += event.bytes_used or 0
    return totals


def sparkline(values: list[int]) -> str:
    """One character per value, scaled to the largest; a day with any traffic is never blank."""
    top = max(values, default=0)
    if top <= 0:
        return BARS[0] * len(values)
    out = []
    for value in values:
        if value <= 0:
            out.append(BARS[0])
        else:
            out.append(BARS[max(1, round(value / top * (len(BARS) - 1)))])
    return "".join(out)
