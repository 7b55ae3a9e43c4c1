"""One request summary shape (issue 8): the tracker, its events and a journal row with its
result counts (``RequestSummary.of_row``, what the desk's queries build) all give
:class:`RequestSummary`, with enum states, and agree about the same request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.records import (
    FINISHED_STATES,
    UNFINISHED_STATES,
    CompletedBy,
    RequestAction,
    RequestState,
    RequestSummary,
)
from m2m_tui.tracking.tracker import Tracker
from m2m_tui.tracking.tracker_events import RequestChanged, TrackerEvent

from .test_tracker import ACCOUNT, MDN, MDN2, Clock, carrier, deliver


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.open(tmp_path / "journal.sqlite") as opened:
        yield opened


def request_summary(journal: Journal, request_id: str) -> RequestSummary | None:
    """What a journal query does (desk.queries): the row and its result counts."""
    row = journal.get_request(request_id)
    if row is None:
        return None
    return RequestSummary.of_row(row, *journal.result_counts([request_id])[request_id])


def comparable(summary: RequestSummary) -> RequestSummary:
    """The fields both sides know (the journal adds updated_at)."""
    return replace(summary, updated_at=None)


def test_tracker_events_and_journal_agree_on_one_shape(journal: Journal) -> None:
    events: list[TrackerEvent] = []
    tracker = Tracker(journal, deadline=600, clock=Clock(), profile="acme")
    tracker.subscribe(events.append)
    tracker.submitted("suspend", ACCOUNT, "multi", devices=[MDN, MDN2])
    deliver(journal, tracker, carrier("multi", MDN))
    deliver(journal, tracker, carrier("multi", MDN2, ok=False))

    live = tracker.summary("multi")
    stored = request_summary(journal, "multi")
    (row,) = journal.list_requests()
    paged = RequestSummary.of_row(row, *journal.result_counts(["multi"])["multi"])
    change = [e for e in events if isinstance(e, RequestChanged)][-1]

    assert live is not None and stored is not None
    assert type(live) is RequestSummary and isinstance(change, RequestSummary)
    assert comparable(live) == comparable(stored) == comparable(paged)
    assert (change.state, change.received, change.failures) == (live.state, 2, 1)
    assert live.state is RequestState.COMPLETED and live.action is RequestAction.SUSPEND
    assert live.completed_by is CompletedBy.CALLBACK
    assert live.outcome == stored.outcome == "1 of 2 devices failed"
    assert live.profile == "acme" and live.target == {"devices": [MDN, MDN2]}
    assert stored.updated_at is not None
    assert tracker.summaries() == [live]


def test_states_are_enums_that_still_read_as_their_strings() -> None:
    change = RequestChanged("r-1", "suspend", "failed", "poll", 1, 1, 1, True)
    assert change.state is RequestState.FAILED and change.completed_by is CompletedBy.POLL
    assert change.state == "failed" and f"{change.state}" == "failed"
    assert change.finished and change.state in FINISHED_STATES
    assert {"completed", "failed", "timed_out"} == FINISHED_STATES
    assert not FINISHED_STATES & UNFINISHED_STATES
    assert change.outcome == "the device failed"


def test_a_damaged_row_still_has_a_summary(journal: Journal) -> None:
    journal.add_request(
        "odd", action="restore", account=ACCOUNT, target={"filter": {}}, pollable=False, deadline=1
    )
    journal.connection.execute("UPDATE requests SET target = '{' WHERE request_id = 'odd'")
    summary = request_summary(journal, "odd")
    assert summary is not None and summary.target == "{" and summary.received == 0
    assert request_summary(journal, "missing") is None
