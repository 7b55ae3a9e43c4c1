"""A suspend whose POST timed out is found again by the callback that names its device.

The POST is never resent (it may have acted); the ledger watches callbacks about the device
and adopts the requestId the first unknown one carries: from then on it is journaled and
tracked like any other request of the session.
"""

from __future__ import annotations

from pathlib import Path

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.desk.actions import DeviceTarget, RequestAction, Unconfirmed
from m2m_tui.desk.requests import RequestDesk
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.wellknown import DEMO_MDN
from m2m_tui.tracking.records import RequestState
from tests.conftest import ClientFactory

from ..waiting import eventually
from .desk_helpers import ACCOUNT, register, settings


async def test_a_timed_out_suspend_is_adopted_from_its_callback_and_tracked(
    make_client: ClientFactory, sim: RunningSimulator, tmp_path: Path
) -> None:
    client: ThingSpaceClient = make_client(settings={"timeout": 0.3})
    await client.login()
    journal = tmp_path / "journal.sqlite3"
    desk = RequestDesk(journal, client=client, account=ACCOUNT)
    tracking = await desk.start_tracking(settings(journal, 0))
    try:
        assert tracking.listener_url is not None
        await register(client, tracking.listener_url + "cb")
        sim.config.faults.latency = 0.6  # ThingSpace answers after our timeout
        outcome = await desk.submit(RequestAction.SUSPEND, DeviceTarget(ACCOUNT, "mdn", DEMO_MDN))
        sim.config.faults.latency = 0.0
        assert isinstance(outcome, Unconfirmed) and outcome.watching and not outcome.found
        assert len(desk.ledger) == 0 and desk.ledger.watching == 1

        # The simulator went on with it: its CarrierService callback names the device.
        adopted = []

        def drain() -> bool:
            batch = tracking.feed.flush()
            if batch is not None:
                adopted.extend(desk.process(batch).adopted)
            return bool(adopted)

        await eventually(drain)
        found = adopted[0]
        assert found.found_after_timeout and found.journaled
        assert [r.request_id for r in desk.ledger.requests] == list(sim.state.requests)
        assert desk.ledger.watching == 0
        assert tracking.tracker is not None
        tracked = tracking.tracker.get(found.request.request_id)
        assert tracked is not None
        await eventually(lambda: tracked.finished)
        assert tracked.state is RequestState.COMPLETED
    finally:
        await desk.close()
