"""Snapshots at 80x24 of the requests view and of a request's detail with its suspension panel.

Deterministic: a journal seeded with fixed times (ages come from the app's fixed clock, the
detail shows UTC), the demo without a listener, a steady cursor. Update these baselines with
``pytest tests/ui/test_snapshots_requests.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from .conftest import SIZE, wait_for
from .test_requests import STATUS_ID, open_requests, seeded_app

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11), reason="baselines are made with Python 3.11"
)


def test_requests_view(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_requests(pilot)

    assert snap_compare(seeded_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)


def test_request_detail_suspension_panel(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        screen = await open_requests(pilot)
        screen.table.move_cursor(row=screen.table.get_row_index(STATUS_ID))
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RequestDetailScreen")
        await wait_for(pilot, lambda: app.screen.data is not None)
        await pilot.pause()

    assert snap_compare(seeded_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)
