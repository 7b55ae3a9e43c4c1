"""Case 1: the listener's port is already taken (``m2m-tui listen`` runs on it).

Before, tracking did not start at all: a suspend was still sent and announced "polling +
callback", yet never journaled, never polled, and gone after a restart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.desk.actions import DeviceTarget, RequestAction, Submitted
from m2m_tui.desk.requests import RequestDesk
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.wellknown import DEMO_MDN
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.records import RequestState

from ..waiting import eventually
from .desk_helpers import ACCOUNT, port_taken, settings


async def test_port_taken_a_suspend_is_journaled_polled_and_found_after_restart(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    sim.config.processing_delay = 0.6  # still pending when the desk closes the first time
    with port_taken() as port:
        desk = RequestDesk(journal, client=client, account=ACCOUNT)
        tracking = await desk.start_tracking(settings(journal, port))
        # The listener could not start, and the desk says why; the rest runs.
        assert not tracking.listening and tracking.started and tracking.polling
        assert tracking.listener_error is not None and str(port) in tracking.listener_error

        outcome = await desk.submit(RequestAction.SUSPEND, DeviceTarget(ACCOUNT, "mdn", DEMO_MDN))
        assert isinstance(outcome, Submitted) and outcome.journaled
        # The notice tells the truth: polled, and no callback can come here.
        assert outcome.how == "polling (no callback can arrive)"
        request_id = outcome.request.request_id
        # In the journal before the screen could say "submitted".
        with Journal.open(journal, readonly=True) as reader:
            row = reader.get_request(request_id)
        assert row.pollable and row.state == RequestState.SUBMITTED.value

        # The app quits before ThingSpace finished it...
        await desk.close()

    # ...and a restart (a new desk on the same journal) finds it and polls it to the end.
    again = RequestDesk(journal, client=client, account=ACCOUNT)
    tracking = await again.start_tracking(settings(journal, None))
    try:
        assert tracking.tracker is not None
        found = tracking.tracker.get(request_id)
        assert found is not None and not found.finished
        await eventually(lambda: found.finished)
        assert found.state is RequestState.COMPLETED
        assert found.completed_by is not None and found.completed_by.value == "poll"
    finally:
        await again.close()
    with Journal.open(journal, readonly=True) as reader:
        assert reader.get_request(request_id).state == RequestState.COMPLETED.value


async def test_port_taken_a_suspend_completes_by_poll(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.sqlite3"
    with port_taken() as port:
        desk = RequestDesk(journal, client=client, account=ACCOUNT)
        tracking = await desk.start_tracking(settings(journal, port))
        try:
            outcome = await desk.submit(
                RequestAction.SUSPEND, DeviceTarget(ACCOUNT, "mdn", DEMO_MDN)
            )
            assert isinstance(outcome, Submitted)
            assert tracking.tracker is not None
            tracked = tracking.tracker.get(outcome.request.request_id)
            assert tracked is not None
            await eventually(lambda: tracked.finished)
            assert tracked.state is RequestState.COMPLETED
            assert tracked.completed_by is not None and tracked.completed_by.value == "poll"
        finally:
            await desk.close()


async def test_journal_unusable_the_notice_says_not_tracked(
    client: ThingSpaceClient, sim: RunningSimulator, tmp_path: Path
) -> None:
    """Only an unusable journal stops tracking; then the notice must not claim polling."""
    journal = tmp_path / "not-a-file"
    journal.mkdir()
    desk = RequestDesk(journal, client=client, account=ACCOUNT)
    with pytest.raises(Exception, match="not-a-file"):
        await desk.start_tracking(settings(journal, None))
    assert desk.tracking is not None and desk.tracking.error
    outcome = await desk.submit(RequestAction.SUSPEND, DeviceTarget(ACCOUNT, "mdn", DEMO_MDN))
    assert isinstance(outcome, Submitted) and not outcome.journaled
    assert outcome.how.startswith("NOT tracked: ") and "not-a-file" in outcome.how
    await desk.close()
