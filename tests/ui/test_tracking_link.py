"""The app hands every accepted request to the tracker; callbacks and polls finish them live."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

import m2m_tui.sim.wellknown as wk
from m2m_tui.ui.screens.dialogs import ConfirmDialog

from .conftest import login, lookup, make_demo_app, screen_name, wait_for

SIZE = (100, 30)


async def test_demo_requests_finish_by_callback_and_by_poll(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            pilot, lambda: app.demo_services is not None and app.demo_services.ready.is_set()
        )
        await login(pilot, password=None)
        assert app.tracking is not None and app.tracking.tracker is not None
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("s")  # suspension status: callback only
        await wait_for(pilot, lambda: len(app.submitted) == 1)
        status_id = app.submitted[0].request_id
        tracker = app.tracking.tracker
        await wait_for(
            pilot, lambda: tracker.get(status_id) is not None and tracker.get(status_id).finished
        )
        status = tracker.get(status_id)
        assert status.state.value == "completed" and status.completed_by.value == "callback"
        assert status.received == 1 and status.completion_seen

        await lookup(pilot, wk.DEMO_IMEI)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: len(app.submitted) == 2)
        suspend_id = app.submitted[1].request_id
        await wait_for(pilot, lambda: tracker.get(suspend_id).finished, within=10)
        assert tracker.get(suspend_id).state.value == "completed"

        await pilot.press("g")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        table = app.screen.query_one(DataTable)
        states = {str(table.get_row(key)[2]) for key in (status_id, suspend_id)}
        assert "completed by callback" in states
        assert app.listener_state.accepted >= 2  # per-device and completion callbacks
