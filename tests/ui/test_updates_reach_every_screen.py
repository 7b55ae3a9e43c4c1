"""Tracking updates reach every screen that shows them, not only the one on top."""

from __future__ import annotations

from pathlib import Path

import m2m_tui.sim.wellknown as wk
from m2m_tui.ui.screens.request_detail import RequestDetailScreen

from .conftest import screen_name, wait_for
from .test_requests import ACCOUNT, cells, open_requests, seeded_app


async def test_a_request_finishing_under_the_detail_screen_is_final_on_the_view(
    tmp_path: Path,
) -> None:
    """The requests view lies under a request's detail while the request completes: it has
    the final state already (no catch-up when it comes back on top)."""
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_requests(pilot)
        assert app.tracking is not None and app.tracking.tracker is not None
        tracker = app.tracking.tracker
        new_id = "ffff0000-0000-4000-8000-00000000beef"
        tracker.submitted(
            "suspend", ACCOUNT, new_id, devices=[{"id": wk.DEMO_IMEI, "kind": "imei"}]
        )
        tracker.polled(new_id, "Pending")
        await wait_for(pilot, lambda: new_id in view.table.rows)
        await wait_for(pilot, lambda: cells(view, new_id)[2] == "pending")
        view.table.move_cursor(row=view.table.get_row_index(new_id))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        detail = app.screen

        tracker.polled(new_id, "Success")
        await wait_for(pilot, lambda: cells(view, new_id)[2] == "completed by poll")
        assert app.screen is detail  # the view learnt it while under the detail

        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        assert cells(view, new_id)[2] == "completed by poll"
