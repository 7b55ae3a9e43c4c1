"""Snapshots at 80x24 for issue 12: the device screen's footer, a confirm dialog with a toast
raised (the toast waits), and a FAILED notice (with its fault code).

Same determinism as test_snapshots.py: fixed clock and simulator, no listener, steady cursor.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.pilot import Pilot

from m2m_tui.sim import wellknown as wk

from .conftest import SIZE, login, lookup, make_demo_app, wait_for
from .toasts import wait_for_toast

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11), reason="baselines are made with Python 3.11"
)


async def _on_card(pilot: Pilot[Any]) -> None:
    app: Any = pilot.app
    await wait_for(pilot, app.demo_services.ready.is_set)
    await login(pilot, password=None)
    await lookup(pilot, wk.DEMO_IMEI)
    await pilot.press("escape")  # keys act on the device: the footer shows its keys


def test_device_screen_footer(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(make_demo_app(tmp_path / "d"), terminal_size=SIZE, run_before=_on_card)


def test_confirm_dialog_with_a_toast_raised(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await _on_card(pilot)
        await pilot.press("S")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")
        app.notify("Restore 5551234567 completed by poll", title="Request finished")
        for _ in range(3):  # held under the dialog: nothing would be mounted after these
            await pilot.pause()

    assert snap_compare(make_demo_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)


def test_failed_notice(snap_compare: Any, tmp_path: Path) -> None:
    from m2m_tui.desk.actions import RequestAction, SubmittedRequest
    from m2m_tui.tracking.tracker_events import RequestChanged
    from m2m_tui.ui.outcome_notices import finished_notice

    record = SubmittedRequest(
        RequestAction("suspend"), "acct", [], f"IMEI {wk.DEMO_IMEI}", "r-1", True
    )
    change = RequestChanged("r-1", "suspend", "failed", "callback", 1, 1, 1, True)
    fault = SimpleNamespace(
        last_error_code="DeviceActionLimit.Exceeded",
        last_error_message="daily provisioning limit reached",
    )
    notice = finished_notice(record, change, fault)  # type: ignore[arg-type]

    async def run_before(pilot: Pilot[Any]) -> None:
        await _on_card(pilot)
        pilot.app.notify(notice.text, title=notice.title, severity=notice.severity, markup=False)
        await wait_for_toast(pilot, notice.title)

    assert snap_compare(make_demo_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)
