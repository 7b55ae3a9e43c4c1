"""Issue 8 case 2 on the screen: suspend in the demo, quit, start the demo again (the same
seed, the same journal) and suspend again. Before, the second suspend went through on the
simulator and the app showed "Unexpected error ... JournalError: request ... is already
recorded" and tracked nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.screens.dialogs import ConfirmDialog, ErrorDialog

from .conftest import SIZE, login, lookup, make_demo_app, wait_for
from .toasts import toasts


async def suspend_demo_device(pilot: Any) -> Any:
    """Log in, open the demo device, suspend it (confirmed); the tracked request."""
    app = pilot.app
    await login(pilot, password=None)
    await lookup(pilot, wk.DEMO_IMEI)
    await pilot.press("S")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await wait_for(pilot, lambda: len(app.submitted) == 1)
    request_id = app.submitted[0].request_id
    assert app.tracking is not None
    await wait_for(pilot, lambda: app.tracking.tracker.get(request_id) is not None)
    request = app.tracking.tracker.get(request_id)
    await wait_for(pilot, lambda: request.finished, within=10)
    return request


async def test_suspend_again_after_restarting_the_demo_is_tracked(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    first = make_demo_app(folder, listener=True, fixed=False)
    async with first.run_test(size=SIZE, notifications=True) as pilot:
        before = await suspend_demo_device(pilot)

    second = make_demo_app(folder, listener=True, fixed=False)  # same seed, same journal
    async with second.run_test(size=SIZE, notifications=True) as pilot:
        after = await suspend_demo_device(pilot)
        await pilot.pause()
        assert not isinstance(second.screen, ErrorDialog)
        assert not [t for t in toasts(second) if "Unexpected" in t.title]
        assert after.request_id != before.request_id
        assert after.state == "completed"
