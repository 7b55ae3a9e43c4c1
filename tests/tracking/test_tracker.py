"""The tracker's state machine over a real journal: correlation, orphans, duplicates, order,
completion by poll or by callback, deadlines, and restart recovery."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from m2m_tui.api.models import CallbackMessage, RequestStatus
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.records import CallbackRecord, CallbackRow, RequestState
from m2m_tui.tracking.tracker import Tracker
from m2m_tui.tracking.tracker_events import CallbackReceived, RequestChanged, TrackerEvent

ACCOUNT = "0000123456-00001"
MDN = {"id": "5551234567", "kind": "mdn"}
MDN2 = {"id": "5551234568", "kind": "mdn"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


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


def deliver(journal: Journal, tracker: Tracker | None, body: dict[str, Any]) -> CallbackRow:
    """What the listener does: journal the callback, then hand the committed row on."""
    message = CallbackMessage.model_validate(body)
    devices = message.devices()
    key = f"{devices[0].kind}:{devices[0].id}" if devices else None
    record = CallbackRecord(
        request_id=message.requestId,
        kind=message.kind.value,
        body=body,
        device_key=key,
        callback_count=message.callbackCount,
    )
    (stored,) = journal.append_callbacks([record])
    row = next(r for r in journal.callbacks_for(message.requestId) if r.id == stored.id)
    if tracker is not None:
        tracker.callback(row)
    return row


def suspension(request_id: str, device: dict[str, str], count: int = 1) -> dict[str, Any]:
    return {
        "username": "u",
        "password": "pw",
        "requestId": request_id,
        "deviceResponse": {
            "deviceSuspensionStatusResponse": [
                {"deviceIds": [device], "state": "suspend", "daysRemainingAutoResume": "61"}
            ]
        },
        "callbackCount": count,
        "maxCallbackThreshold": 4,
    }


def completion(request_id: str) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "deviceResponse": {},
        "comment": "Request Completed Processing",
        "callbackCount": 1,
    }


def carrier(request_id: str, device: dict[str, str], *, ok: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"requestId": request_id, "deviceIds": [device], "callbackCount": 1}
    if ok:
        body.update(status="Success", deviceResponse={"suspendResponse": {"deviceIds": [device]}})
    else:
        body.update(
            status="Failed",
            faultResponse={
                "faultcode": "UnifiedWebService.INPUT_INVALID.DeviceState.Invalid",
                "faultstring": "Device is not in a valid state",
            },
        )
    return body


def states(events: list[TrackerEvent], request_id: str) -> list[str]:
    return [e.state for e in events if isinstance(e, RequestChanged) and e.request_id == request_id]


def test_suspension_status_completes_by_callback(
    tracker: Tracker, journal: Journal, events: list[TrackerEvent]
) -> None:
    request = tracker.submitted("suspension_status", ACCOUNT, "r1", devices=[MDN, MDN2])
    assert not request.pollable and request.expected == 2
    deliver(journal, tracker, suspension("r1", MDN))
    assert tracker.get("r1").state is RequestState.PARTIAL  # type: ignore[union-attr]
    deliver(journal, tracker, suspension("r1", MDN2))
    deliver(journal, tracker, completion("r1"))
    final = tracker.get("r1")
    assert final is not None and final.state is RequestState.COMPLETED
    assert final.completed_by is not None and final.completed_by.value == "callback"
    assert final.received == 2
    assert states(events, "r1")[-1] == "completed"
    stored = journal.get_request("r1")
    assert stored is not None and stored.state == "completed" and stored.completed_by == "callback"


def test_single_device_suspend_completes_by_poll(tracker: Tracker, journal: Journal) -> None:
    request = tracker.submitted("suspend", ACCOUNT, "r2", devices=[MDN])
    assert request.pollable and tracker.pollable_unfinished() == [request]
    tracker.polled("r2", RequestStatus.PENDING)
    assert request.state is RequestState.PENDING
    tracker.polled("r2", RequestStatus.PENDING)  # unchanged: not journaled again
    tracker.polled("r2", "Success")
    assert request.state is RequestState.COMPLETED
    assert request.completed_by is not None and request.completed_by.value == "poll"
    assert [p.status for p in journal.polls_for("r2")] == ["Pending", "Success"]
    assert tracker.pollable_unfinished() == []
    # The CarrierService callback arriving afterwards adds the result, does not reopen it.
    deliver(journal, tracker, carrier("r2", MDN))
    assert request.state is RequestState.COMPLETED and request.received == 1


def test_failure_spellings_from_poll(tracker: Tracker) -> None:
    for request_id, spelling in (("f1", "Failed"), ("f2", "Failure")):
        tracker.submitted("restore", ACCOUNT, request_id, devices=[MDN])
        tracker.polled(request_id, spelling)
        assert tracker.get(request_id).state is RequestState.FAILED  # type: ignore[union-attr]


def test_single_device_finished_by_its_callback_before_any_poll(
    tracker: Tracker, journal: Journal
) -> None:
    request = tracker.submitted("suspend", ACCOUNT, "r3", devices=[MDN])
    deliver(journal, tracker, carrier("r3", MDN, ok=False))
    assert request.state is RequestState.FAILED
    assert request.completed_by is not None and request.completed_by.value == "callback"
    assert request.last_error_code == "UnifiedWebService.INPUT_INVALID.DeviceState.Invalid"
    result = request.results["mdn:5551234567"]
    assert not result.ok and result.fault_message == "Device is not in a valid state"


def test_callback_before_the_synchronous_answer_is_attached(
    tracker: Tracker, journal: Journal, events: list[TrackerEvent]
) -> None:
    deliver(journal, tracker, suspension("early", MDN))
    received = [e for e in events if isinstance(e, CallbackReceived)]
    assert received and received[-1].ours is False  # not known yet
    request = tracker.submitted("suspension_status", ACCOUNT, "early", devices=[MDN])
    assert request.received == 1 and request.state is RequestState.PARTIAL
    deliver(journal, tracker, completion("early"))
    assert request.state is RequestState.COMPLETED


def test_callback_row_applied_once_even_if_seen_twice(tracker: Tracker, journal: Journal) -> None:
    request = tracker.submitted("suspension_status", ACCOUNT, "once", devices=[MDN, MDN2])
    row = deliver(journal, tracker, suspension("once", MDN))
    tracker.callback(row)  # e.g. an event delivered after the journal was read at submit
    assert request.received == 1 and len(request.applied) == 1


def test_duplicates_are_flagged_and_never_counted_twice(
    tracker: Tracker, journal: Journal, events: list[TrackerEvent]
) -> None:
    request = tracker.submitted("suspension_status", ACCOUNT, "dup", devices=[MDN, MDN2])
    deliver(journal, tracker, suspension("dup", MDN, count=1))
    resent = deliver(journal, tracker, suspension("dup", MDN, count=2))
    assert resent.duplicate
    assert request.received == 1 and request.duplicates == 1
    assert request.state is RequestState.PARTIAL
    flagged = [e for e in events if isinstance(e, CallbackReceived) and e.duplicate]
    assert len(flagged) == 1


def test_out_of_order_completion_first(tracker: Tracker, journal: Journal) -> None:
    request = tracker.submitted("suspension_status", ACCOUNT, "ooo", devices=[MDN, MDN2])
    deliver(journal, tracker, completion("ooo"))
    assert request.state is RequestState.COMPLETED
    deliver(journal, tracker, suspension("ooo", MDN2))
    deliver(journal, tracker, suspension("ooo", MDN))
    assert request.state is RequestState.COMPLETED and request.received == 2


def test_multi_device_carrier_request_finishes_when_every_device_answered(
    tracker: Tracker, journal: Journal
) -> None:
    request = tracker.submitted("suspend", ACCOUNT, "multi", devices=[MDN, MDN2])
    assert not request.pollable  # ThingSpace's status endpoint is single-device only
    deliver(journal, tracker, carrier("multi", MDN))
    assert request.state is RequestState.PARTIAL
    deliver(journal, tracker, carrier("multi", MDN2, ok=False))
    assert request.state is RequestState.COMPLETED
    assert request.failures == 1


def test_filter_requests_finish_only_by_completion(tracker: Tracker, journal: Journal) -> None:
    request = tracker.submitted(
        "suspension_status", ACCOUNT, "flt", filter={"groupName": "Field units"}
    )
    assert request.expected is None and not request.pollable
    for n in range(5):
        deliver(journal, tracker, suspension("flt", {"id": f"555000000{n}", "kind": "mdn"}))
    assert request.state is RequestState.PARTIAL and request.received == 5
    deliver(journal, tracker, completion("flt"))
    assert request.state is RequestState.COMPLETED


def test_deadline_times_out_with_advice(tracker: Tracker, journal: Journal, clock: Clock) -> None:
    tracker.submitted("suspension_status", ACCOUNT, "slow", devices=[MDN])
    answered = tracker.submitted("suspension_status", ACCOUNT, "no-completion", devices=[MDN2])
    deliver(journal, tracker, suspension("no-completion", MDN2))
    assert answered.state is RequestState.PARTIAL  # waits for "Request Completed Processing"
    tracker.submitted("suspend", ACCOUNT, "fast", devices=[MDN2])
    tracker.polled("fast", "Success")
    clock.now += 599
    assert tracker.check_deadlines() == []
    clock.now += 2
    assert tracker.check_deadlines() == ["slow", "no-completion"]
    assert answered.state is RequestState.COMPLETED
    slow = tracker.get("slow")
    assert slow is not None and slow.state is RequestState.TIMED_OUT
    assert slow.last_error_message is not None and "registration" in slow.last_error_message


def test_unknown_callbacks_stay_not_ours(
    tracker: Tracker, journal: Journal, events: list[TrackerEvent]
) -> None:
    deliver(journal, tracker, carrier("someone-else", MDN))
    received = [e for e in events if isinstance(e, CallbackReceived)]
    assert received[-1].ours is False and tracker.get("someone-else") is None
    assert journal.callbacks_for("someone-else")  # still in the journal, still visible


def test_restart_recovery(journal: Journal, tmp_path: Path, clock: Clock) -> None:
    first = Tracker(journal, deadline=600, clock=clock)
    first.submitted("suspension_status", ACCOUNT, "resume-cb", devices=[MDN, MDN2])
    first.submitted("suspend", ACCOUNT, "resume-poll", devices=[MDN])
    first.submitted("restore", ACCOUNT, "done", devices=[MDN2])
    first.polled("done", "Success")
    deliver(journal, first, suspension("resume-cb", MDN))
    # While nobody was tracking, the second device's callback was journaled (by `listen`).
    deliver(journal, None, suspension("resume-cb", MDN2))
    journal.close()

    with Journal.open(tmp_path / "journal.sqlite") as reopened:
        second = Tracker(reopened, deadline=600, clock=clock)
        resumed = {r.request_id: r for r in second.resume()}
        assert set(resumed) == {"resume-cb", "resume-poll"}
        assert resumed["resume-cb"].received == 2
        assert resumed["resume-poll"].pollable
        assert [r.request_id for r in second.pollable_unfinished()] == ["resume-poll"]
        deliver(reopened, second, completion("resume-cb"))
        assert resumed["resume-cb"].state is RequestState.COMPLETED


def test_broken_subscriber_does_not_stop_tracking(tracker: Tracker, journal: Journal) -> None:
    def explode(_: TrackerEvent) -> None:
        raise RuntimeError("boom")

    tracker.subscribe(explode)
    request = tracker.submitted("suspend", ACCOUNT, "robust", devices=[MDN])
    tracker.polled("robust", "Success")
    assert request.state is RequestState.COMPLETED


def test_filter_provisioning_request_settles_at_its_deadline(
    tracker: Tracker, journal: Journal, clock: Clock
) -> None:
    """CarrierService sends no completion message: a filter suspend is whole at the deadline."""
    suspend = tracker.submitted("suspend", ACCOUNT, "fs", filter={"groupName": "Field units"})
    status = tracker.submitted("suspension_status", ACCOUNT, "fss", filter={"groupName": "g"})
    quiet = tracker.submitted("restore", ACCOUNT, "fq", filter={"servicePlan": "P"})
    deliver(journal, tracker, carrier("fs", MDN))
    deliver(journal, tracker, carrier("fs", MDN2, ok=False))
    deliver(journal, tracker, suspension("fss", MDN))
    assert suspend.state is RequestState.PARTIAL
    clock.now += 601
    tracker.check_deadlines()
    assert suspend.state is RequestState.COMPLETED and suspend.failures == 1
    assert suspend.last_error_message is not None and "2 device(s)" in suspend.last_error_message
    # Suspension status promises a completion message: missing, it is a real time-out.
    assert status.state is RequestState.TIMED_OUT
    assert quiet.state is RequestState.TIMED_OUT  # nothing at all came back
