"""The card's connection timeline: newest sessions first, daily bytes, a bar that fits 80 columns."""

from __future__ import annotations

from datetime import datetime, timedelta

from m2m_tui.api.models.history import ConnectionHistoryResponse
from m2m_tui.desk.device_timeline import daily_bytes, recent_sessions, sparkline

from .test_diagnosis_rules import SECTION_2_5

NOW = datetime.fromisoformat("2024-06-02T12:00:00+00:00")
EVENTS = ConnectionHistoryResponse.model_validate(SECTION_2_5).connectionHistory


def test_recent_sessions_newest_first_with_duration_and_bytes() -> None:
    rows = recent_sessions(EVENTS)
    assert [r.cells() for r in rows] == [
        ("2024-05-30 08:23", "0m28s", "0 B"),
        ("2024-05-29 10:00", "13m49s", "47.7 kB"),
        ("2024-05-28 10:00", "14m35s", "48.2 kB"),
    ]
    assert rows[0].ip == "10.12.34.56"
    assert len(recent_sessions(EVENTS, limit=1)) == 1
    lone_start = ConnectionHistoryResponse.model_validate(
        {"connectionHistory": [SECTION_2_5["connectionHistory"][0]]}
    ).connectionHistory
    assert recent_sessions(lone_start)[0].cells()[1] == "open"


def test_daily_bytes_and_sparkline() -> None:
    days = daily_bytes(EVENTS, NOW, days=7)
    assert days == [0, 48213, 47690, 0, 0, 0, 0]  # 27 May .. 2 Jun (UTC)
    bar = sparkline(days)
    assert len(bar) == 7 and bar[1] == "█" and bar[0] == " " and bar[2] != " "
    assert len(sparkline(daily_bytes(EVENTS, NOW))) == 30
    assert sparkline([0, 0]) == "  "
    assert sparkline([1, 10_000_000])[0] == "▁"  # any traffic is visible
    assert daily_bytes(EVENTS, NOW + timedelta(days=60), days=30) == [0] * 30
