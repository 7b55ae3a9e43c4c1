"""The suspension panel's times: ThingSpace's offset-less callback times are US Eastern.

Walk finding 3: ``"suspendDate": "2026-12-01 11:36:11"`` was shown as ``11:36 UTC`` while
the diagnosis (from the device list's ISO time with offset) said ``16:36 UTC``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from m2m_tui.desk.times import UTC_TIMES, thingspace_time
from m2m_tui.ui.widgets.suspension_panel import SuspensionPanel

ITEM = {
    "state": "suspend",
    "suspendDate": "2026-12-01 11:36:11",
    "expectedResumeDate": "2027-01-21",
    "daysRemainingAutoResume": "61",
}


def test_offsetless_suspend_date_is_eastern_shown_in_utc() -> None:
    text = str(SuspensionPanel("5551230104", ITEM, UTC_TIMES).render())
    assert "Suspended 2026-12-01 16:36 UTC" in text
    assert "11:36" not in text


def test_summer_time_and_aware_times() -> None:
    summer = thingspace_time(datetime(2026, 7, 1, 11, 0))  # EDT, UTC-4
    assert summer.astimezone(UTC).hour == 15
    aware = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    assert thingspace_time(aware) is aware
