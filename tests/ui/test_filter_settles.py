"""Issue 8 case 4 on the screen: suspend a whole group from the filter screen; every device
fails, and the FAILED notice comes as soon as the last one answered, not at the deadline."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from m2m_tui.ui.screens.dialogs import ConfirmDialog

from .conftest import SIZE, login, make_demo_app, type_text, wait_for
from .test_filter import count_text, open_filter
from .toasts import wait_for_toast


async def test_filter_suspend_that_all_fails_says_failed_at_once(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await open_filter(pilot, app)
        app.screen.query_one("#q-group", Input).value = "suspended devices"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "devices" in count_text(app) and not app.screen.more)
        matched = len(app.screen.devices)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        # The listing said they are all suspended already: the confirm says each will fail.
        assert any(f"all {matched} devices listed" in line for line in app.screen.lines)
        await type_text(pilot, str(matched))  # a change of many devices: typed, not "y"
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.submitted))
        request_id = app.submitted[0].request_id

        notice = await wait_for_toast(
            pilot, lambda t: t.severity == "error" and "FAILED" in t.text, within=15
        )
        assert app.tracking is not None
        tracked = app.tracking.tracker.get(request_id)
        assert tracked is not None and tracked.state == "failed"
        assert tracked.expected == tracked.received == tracked.failures == matched
        assert f"{matched}/{matched} devices answered, {matched} failed" in notice.message
