"""Issue 8 case 4: a filter request whose matched count is known settles when all answered.

CarrierService sends no completion message, so without the count a filter suspend waited for
its deadline (25 minutes) even when every device had already failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.records import RequestState
from m2m_tui.tracking.tracked import outcome_text
from m2m_tui.tracking.tracker import Tracker
from m2m_tui.tracking.tracker_events import RequestChanged, TrackerEvent

from .test_tracker import ACCOUNT, Clock, carrier, deliver

FIELD_UNITS = {"groupName": "Field units"}


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite") as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def events() -> list[TrackerEvent]:
    return []


@pytest.fixture
def tracker(journal: Journal, clock: Clock, events: list[TrackerEvent]) -> Tracker:
    made = Tracker(journal, deadline=600, clock=clock)
    made.subscribe(events.append)
    return made


def mdn(n: int) -> dict[str, str]:
    return {"id": f"555000000{n}", "kind": "mdn"}


def test_every_device_failed_settles_failed_at_once(
    tracker: Tracker, journal: Journal, events: list[TrackerEvent]
) -> None:
    request = tracker.submitted(
        "suspend", ACCOUNT, "all-bad", filter=FIELD_UNITS, expected_devices=3
    )
    assert request.expected == 3 and not request.pollable
    for n in range(3):
        assert not request.finished
        deliver(journal, tracker, carrier("all-bad", mdn(n), ok=False))
    assert request.state is RequestState.FAILED
    assert request.completed_by is not None and request.completed_by.value == "callback"
    last = [e for e in events if isinstance(e, RequestChanged)][-1]
    assert last.state == "failed" and last.outcome == "all 3 devices failed"
    stored = journal.get_request("all-bad")
    assert stored is not None and stored.state == "failed" and stored.expected_results == 3
    assert stored.last_error_code == "UnifiedWebService.INPUT_INVALID.DeviceState.Invalid"


def test_some_failed_completes_with_the_count(
    tracker: Tracker, journal: Journal, events: list[TrackerEvent]
) -> None:
    request = tracker.submitted("restore", ACCOUNT, "mixed", filter=FIELD_UNITS, expected_devices=5)
    for n in range(5):
        deliver(journal, tracker, carrier("mixed", mdn(n), ok=n >= 3))
        if n == 3:
            assert request.state is RequestState.PARTIAL
            assert request.outcome == "3 of 5 devices failed so far (4 answered)"
    assert request.state is RequestState.COMPLETED
    assert (request.received, request.failures) == (5, 3)
    last = [e for e in events if isinstance(e, RequestChanged)][-1]
    assert last.state == "completed" and last.outcome == "3 of 5 devices failed"


def test_a_resend_does_not_count_as_another_device(tracker: Tracker, journal: Journal) -> None:
    request = tracker.submitted(
        "suspend", ACCOUNT, "resent", filter=FIELD_UNITS, expected_devices=2
    )
    deliver(journal, tracker, carrier("resent", mdn(0), ok=False))
    deliver(journal, tracker, carrier("resent", mdn(0), ok=False))  # ThingSpace's retry
    assert request.state is RequestState.PARTIAL and request.received == 1
    deliver(journal, tracker, carrier("resent", mdn(1), ok=False))
    assert request.state is RequestState.FAILED


def test_the_count_learned_later_settles_a_request_already_whole(
    tracker: Tracker, journal: Journal
) -> None:
    request = tracker.submitted("suspend", ACCOUNT, "later", filter=FIELD_UNITS)
    deliver(journal, tracker, carrier("later", mdn(0), ok=False))
    deliver(journal, tracker, carrier("later", mdn(1), ok=False))
    assert request.state is RequestState.PARTIAL
    again = tracker.submitted("suspend", ACCOUNT, "later", filter=FIELD_UNITS, expected_devices=2)
    assert again is request and request.state is RequestState.FAILED
    stored = journal.get_request("later")
    assert stored is not None and stored.expected_results == 2 and stored.state == "failed"


def test_outcome_wording() -> None:
    assert outcome_text(0, 5, 0) is None
    assert outcome_text(1, 1, 0) == "the device succeeded"
    assert outcome_text(1, 1, 1) == "the device failed"
    assert outcome_text(4, 4, 0) == "all 4 devices succeeded"
    assert outcome_text(2, None, 1) == "1 of 2 devices failed"
    assert outcome_text(2, 5, 2) == "2 of 5 devices failed so far (2 answered)"


def test_devices_missing_at_the_deadline_time_out_with_the_count(
    tracker: Tracker, journal: Journal, clock: Clock
) -> None:
    request = tracker.submitted("suspend", ACCOUNT, "short", filter=FIELD_UNITS, expected_devices=4)
    deliver(journal, tracker, carrier("short", mdn(0), ok=False))
    deliver(journal, tracker, carrier("short", mdn(1)))
    clock.now += 601
    assert tracker.check_deadlines() == ["short"]
    assert request.state is RequestState.TIMED_OUT
    assert request.last_error_message is not None
    assert request.last_error_message.startswith("2 of 4 devices never answered")
