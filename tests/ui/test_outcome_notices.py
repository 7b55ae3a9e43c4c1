"""A request of this session that finishes says so wherever the user is, and the card follows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.screens.dialogs import ActivateDialog, ConfirmDialog

from .conftest import SIZE, login, lookup, make_demo_app, wait_for


def toasts(app: Any) -> list[tuple[str, str, str]]:
    return [(n.title, n.message, n.severity) for n in app._notifications]


def finished(app: Any, title_start: str) -> list[tuple[str, str, str]]:
    return [t for t in toasts(app) if t[0].startswith(title_start)]


async def test_a_suspend_finishing_by_poll_is_announced_and_the_card_follows(
    tmp_path: Path,
) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_IMEI)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(finished(app, f"Suspend IMEI {wk.DEMO_IMEI}")), 10)
        _, text, severity = finished(app, "Suspend")[0]
        assert text.startswith("completed by ") and severity == "information"
        assert "1/1 device answered" in text
        await wait_for(pilot, lambda: app.screen.device.state == "suspend")
        assert len(finished(app, "Suspend")) == 1  # once, however many updates follow
        await pilot.pause(0.5)
        assert len(finished(app, "Suspend")) == 1


async def test_a_failed_activation_is_announced_with_its_fault(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_IMEI)  # already active: ThingSpace refuses by callback
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, ActivateDialog))
        await pilot.press("1", "2", "3", "4", "5", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(finished(app, "Activate")), 10)
        _, text, severity = finished(app, "Activate")[0]
        assert severity == "error" and text.startswith("FAILED")
        assert "DeviceAlreadyActive" in text


async def test_suspension_status_completion_is_announced(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(finished(app, "Suspension status")), 10)
        _, text, _ = finished(app, "Suspension status")[0]
        assert "completed by callback" in text and "1 device answered" in text


async def test_no_toast_over_the_view_that_already_shows_the_request(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    assert app.options.demo is not None and app.options.demo.sim_config is not None
    app.options.demo.sim_config.processing_delay = 1.0  # time to open the requests view
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(app.submitted))
        await pilot.press("g")  # watch it in the requests view
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RequestsScreen")
        assert app._awaiting_outcome  # still running when the view opened
        await wait_for(pilot, lambda: not app._awaiting_outcome, 10)
        assert type(app.screen).__name__ == "RequestsScreen"
        assert not finished(app, "Suspension status")
