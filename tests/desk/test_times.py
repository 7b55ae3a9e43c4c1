"""The one time convention: every time labelled, in UTC or the machine's local zone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from m2m_tui.desk.times import Times, zone_setting

# 2026-12-01 10:02:03 UTC
MOMENT = datetime(2026, 12, 1, 10, 2, 3, tzinfo=UTC).timestamp()


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_utc_is_labelled_utc_whatever_the_input() -> None:
    times = Times("utc")
    assert times.stamp(MOMENT) == "2026-12-01 10:02:03 UTC"
    assert times.clock(MOMENT) == "10:02:03 UTC"
    assert times.minute(MOMENT) == "2026-12-01 10:02 UTC"
    # a device date at -05:00 (as ThingSpace sends them) is the same moment
    card = datetime(2026, 12, 1, 5, 2, 3, tzinfo=timezone(timedelta(hours=-5)))
    assert times.stamp(card) == "2026-12-01 10:02:03 UTC"
    # naive means UTC
    assert times.minute(datetime(2026, 12, 1, 10, 2)) == "2026-12-01 10:02 UTC"


def test_local_names_the_zone(new_york: None) -> None:
    times = Times("local")
    assert times.stamp(MOMENT) == "2026-12-01 05:02:03 EST"
    assert times.clock(MOMENT) == "05:02:03 EST"
    assert times.name == "local (EST)"
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert times.minute(summer) == "2026-07-01 08:00 EDT"


def test_local_without_an_abbreviation_writes_the_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "<+0530>-05:30")
    time.tzset()
    try:
        assert Times("local").clock(MOMENT) == "15:32:03 UTC+05:30"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_missing_and_unparsed_values() -> None:
    assert Times().stamp(None) == "-"
    assert Times().minute("not a date") == "not a date"


def test_setting_text() -> None:
    assert zone_setting(" Local ") == "local"
    assert zone_setting("UTC") == "utc"
    with pytest.raises(ValueError, match="utc"):
        zone_setting("EST")
