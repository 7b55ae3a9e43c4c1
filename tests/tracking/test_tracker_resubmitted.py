"""Issue 8 case 2: a requestId the journal already holds is never an error.

Same action and devices, from this tracker or still open: the same request, merged. Anything
else (a finished request from an earlier run, another action or device): a new attempt that
owns the id; the earlier one moves to ``<id>~N`` with its polls and callbacks, still visible.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from m2m_tui.api.models import CallbackMessage
from m2m_tui.tracking.events import CallbackAccepted
from m2m_tui.tracking.journal.interface import JournalStore
from m2m_tui.tracking.journal.open import open_journal
from m2m_tui.tracking.records import CallbackRecord, RequestAlreadyRecorded, RequestState
from m2m_tui.tracking.tracker import Tracker
from m2m_tui.tracking.tracker_events import RequestChanged, TrackerEvent

from .test_tracker import ACCOUNT, MDN, MDN2, Clock, carrier, deliver, suspension


@pytest.fixture
def journal(journal_location: str) -> Iterator[JournalStore]:
    """Each test on both journals: a file, and a team's PostgreSQL (``journal_backends``)."""
    with open_journal(journal_location) as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def events() -> list[TrackerEvent]:
    return []


@pytest.fixture
def tracker(journal: JournalStore, clock: Clock, events: list[TrackerEvent]) -> Tracker:
    made = Tracker(journal, deadline=600, clock=clock)
    made.subscribe(events.append)
    return made


def store(journal: JournalStore, tracker: Tracker | None, body: dict[str, Any], at: float) -> None:
    """A callback journaled at a chosen wall-clock time, as the listener would stamp it."""
    message = CallbackMessage.model_validate(body)
    device = message.devices()[0]
    (stored,) = journal.append_callbacks(
        [
            CallbackRecord(
                request_id=message.requestId,
                kind=message.kind.value,
                body=body,
                device_key=f"{device.kind}:{device.id}",
                received_at=at,
            )
        ]
    )
    if tracker is not None:
        row = next(r for r in journal.callbacks_for(message.requestId) if r.id == stored.id)
        tracker.callback(row)


def test_another_action_on_a_known_id_is_a_new_attempt(
    tracker: Tracker, journal: JournalStore, events: list[TrackerEvent]
) -> None:
    first = tracker.submitted("suspend", ACCOUNT, "dup", devices=[MDN])
    deliver(journal, tracker, carrier("dup", MDN))
    assert first.state is RequestState.COMPLETED

    again = tracker.submitted("restore", ACCOUNT, "dup", devices=[MDN], sent_at=time.time())

    assert again is not first and again.state is RequestState.SUBMITTED
    assert tracker.get("dup") is again
    new_row, old_row = journal.get_request("dup"), journal.get_request("dup~1")
    assert new_row is not None and new_row.action == "restore" and new_row.state == "submitted"
    assert old_row is not None and old_row.action == "suspend" and old_row.state == "completed"
    assert old_row.last_error_message is not None
    assert old_row.last_error_message.startswith("superseded: ThingSpace gave this requestId")
    assert [c.request_id for c in journal.callbacks_for("dup~1")] == ["dup~1"]
    assert journal.callbacks_for("dup") == []
    earlier = tracker.get("dup~1")
    assert earlier is not None and earlier.received == 1  # its history, still shown
    assert any(isinstance(e, RequestChanged) and e.request_id == "dup~1" for e in events)
    deliver(journal, tracker, carrier("dup", MDN, ok=False))
    assert again.state is RequestState.FAILED and earlier.state is RequestState.COMPLETED


def test_the_same_suspend_after_a_restart_is_a_new_attempt(
    journal: JournalStore, tmp_path: Path, clock: Clock
) -> None:
    """The simulator restarted with the same seed gave the same id to the same suspend."""
    before = Tracker(journal, deadline=600, clock=clock)
    before.submitted("suspend", ACCOUNT, "seeded-1", devices=[MDN])
    store(journal, before, carrier("seeded-1", MDN), at=time.time() - 60)
    before.polled("seeded-1", "Success")

    after = Tracker(journal, deadline=600, clock=clock)  # the app restarted as well
    request = after.submitted("suspend", ACCOUNT, "seeded-1", devices=[MDN], sent_at=time.time())
    assert request.state is RequestState.SUBMITTED and request.received == 0
    # The new attempt's callback is the same body as the earlier one's: not a duplicate.
    deliver(journal, after, carrier("seeded-1", MDN))
    assert request.state is RequestState.COMPLETED and request.duplicates == 0
    earlier = journal.get_request("seeded-1~1")
    assert earlier is not None and earlier.state == "completed"
    assert [p.status for p in journal.polls_for("seeded-1~1")] == ["Success"]
    assert journal.polls_for("seeded-1") == []


def test_a_callback_that_beat_the_answer_stays_with_the_new_attempt(
    journal: JournalStore, clock: Clock
) -> None:
    before = Tracker(journal, deadline=600, clock=clock)
    before.submitted("suspend", ACCOUNT, "early", devices=[MDN])
    now = time.time()
    store(journal, before, carrier("early", MDN), at=now - 30)
    sent_at = now - 1
    store(journal, None, carrier("early", MDN), at=now)  # same body: stored as a duplicate
    assert [c.duplicate for c in journal.callbacks_for("early")] == [False, True]

    after = Tracker(journal, deadline=600, clock=clock)
    request = after.submitted("suspend", ACCOUNT, "early", devices=[MDN], sent_at=sent_at)

    assert request.state is RequestState.COMPLETED and request.received == 1
    assert [c.duplicate for c in journal.callbacks_for("early")] == [False]
    assert len(journal.callbacks_for("early~1")) == 1


def test_an_open_request_found_again_is_merged(
    journal: JournalStore, tmp_path: Path, clock: Clock
) -> None:
    before = Tracker(journal, deadline=600, clock=clock)
    before.submitted("suspension_status", ACCOUNT, "open", devices=[MDN, MDN2])
    deliver(journal, before, suspension("open", MDN))

    after = Tracker(journal, deadline=600, clock=clock)
    request = after.submitted("suspension_status", ACCOUNT, "open", devices=[MDN2, MDN])

    assert request.state is RequestState.PARTIAL and request.received == 1
    assert journal.get_request("open~1") is None
    assert after.submitted("suspension_status", ACCOUNT, "open", devices=[MDN, MDN2]) is request
    deliver(journal, after, suspension("open", MDN2))
    assert request.received == 2


def test_a_repeat_in_the_same_run_is_the_same_request(
    tracker: Tracker, journal: JournalStore
) -> None:
    first = tracker.submitted("suspend", ACCOUNT, "twice", devices=[MDN])
    tracker.polled("twice", "Success")
    assert tracker.submitted("suspend", ACCOUNT, "twice", devices=[MDN]) is first
    assert journal.count_requests() == 1


def test_an_open_pollable_attempt_is_closed_and_no_longer_polled(
    journal: JournalStore, clock: Clock
) -> None:
    before = Tracker(journal, deadline=600, clock=clock)
    before.submitted("suspend", ACCOUNT, "p", devices=[MDN])
    after = Tracker(journal, deadline=600, clock=clock)
    after.resume()
    assert [r.request_id for r in after.pollable_unfinished()] == ["p"]

    request = after.submitted("suspend", ACCOUNT, "p", devices=[MDN2], sent_at=time.time())

    assert [r.request_id for r in after.pollable_unfinished()] == ["p"]
    assert after.get("p") is request
    earlier = journal.get_request("p~1")
    assert earlier is not None and earlier.state == "timed_out"
    assert after.get("p~1") is not None and after.get("p~1").finished  # type: ignore[union-attr]
    third = after.submitted("restore", ACCOUNT, "p", devices=[MDN2], sent_at=time.time())
    assert after.get("p") is third
    assert journal.get_request("p~2") is not None
    assert journal.count_requests() == 3


def test_a_late_event_for_a_moved_callback_is_not_counted_for_the_new_attempt(
    journal: JournalStore, clock: Clock
) -> None:
    """The listener's event for a callback stored before the new POST arrives afterwards."""
    before = Tracker(journal, deadline=600, clock=clock)
    before.submitted("suspend", ACCOUNT, "late", devices=[MDN])
    store(journal, None, carrier("late", MDN, ok=False), at=time.time() - 10)
    (stored,) = journal.callbacks_for("late")

    after = Tracker(journal, deadline=600, clock=clock)
    request = after.submitted("suspend", ACCOUNT, "late", devices=[MDN2], sent_at=time.time())
    after.callback(CallbackAccepted(stored.id, "late", stored.kind, stored.device_key, False, 0.0))

    assert request.received == 0 and request.state is RequestState.SUBMITTED
    assert [c.id for c in journal.callbacks_for("late~1")] == [stored.id]


def test_a_known_id_is_refused_with_the_recorded_row(journal: JournalStore) -> None:
    """Either backend says which request holds the id, so the tracker can decide."""
    journal.add_request(
        "known", action="suspend", account=ACCOUNT, target=[MDN], pollable=True, deadline=1.0
    )
    with pytest.raises(RequestAlreadyRecorded) as refused:
        journal.add_request(
            "known", action="restore", account=ACCOUNT, target=[MDN], pollable=True, deadline=2.0
        )
    assert refused.value.existing is not None and refused.value.existing.action == "suspend"
    assert journal.count_requests() == 1
