"""A request of this session that finishes says so wherever the user is, and the card follows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from m2m_tui.desk.demo import DEMO_CALLBACK_PASSWORD, DEMO_CALLBACK_USER
from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.screens.dialogs import ActivateDialog, ConfirmDialog

from .conftest import SIZE, login, lookup, make_demo_app, wait_for
from .test_inbox import post
from .toasts import toasts, toasts_so_far, wait_for_toast


def finished(app: Any, title_start: str) -> list[tuple[str, str, str]]:
    """The toasts shown whose title starts so: (title, message, severity)."""
    return [
        (t.title, t.message, t.severity) for t in toasts(app) if t.title.startswith(title_start)
    ]


def late_callback(request_id: str) -> dict[str, Any]:
    """ThingSpace's CarrierService callback for the demo IMEI's suspend, as it POSTs it."""
    return {
        "username": DEMO_CALLBACK_USER,
        "password": DEMO_CALLBACK_PASSWORD,
        "requestId": request_id,
        "deviceIds": [{"id": wk.DEMO_IMEI, "kind": "imei"}],
        "deviceResponse": {"suspendResponse": {}},
        "status": "Success",
        "callbackCount": 1,
        "maxCallbackThreshold": 4,
    }


async def activate_a_line_someone_just_activated(pilot: Any) -> None:
    """The card reads the line pre-active; it turns active behind it; A, ZIP, Enter.

    (A on a line the card shows active is refused before sending: this is how ThingSpace's
    own DeviceAlreadyActive failure still happens.)
    """
    app = pilot.app
    await lookup(pilot, wk.PREACTIVE_IMEI)
    assert app.demo_services is not None
    device = app.demo_services.sim.state.find_device("imei", wk.PREACTIVE_IMEI)
    device.state = "active"
    await pilot.press("A")
    await wait_for(pilot, lambda: isinstance(app.screen, ActivateDialog))
    await pilot.press("1", "2", "3", "4", "5", "enter")


async def test_a_suspend_finishing_by_poll_is_announced_and_the_card_follows(
    tmp_path: Path,
) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await wait_for(pilot, app.demo_services.ready.is_set)
        # The simulator's own callback waits a minute (it is cancelled at the end): the poll
        # finishes the request, and the callback the test posts below comes after it.
        app.demo_services.sim.config.carrier_callback_delay = 60.0
        await lookup(pilot, wk.DEMO_IMEI)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(finished(app, f"Suspend IMEI {wk.DEMO_IMEI}")), 10)
        _, text, severity = finished(app, "Suspend")[0]
        assert text.startswith("completed by poll") and severity == "information"
        assert "(ThingSpace status: Success)" in text
        await wait_for(pilot, lambda: app.screen.device.state == "suspend")
        assert len(finished(app, "Suspend")) == 1  # once, however many updates follow:
        await pilot.press("escape", "x")  # the engineer has read it and dismisses it
        await wait_for(pilot, lambda: not toasts(app))
        request_id = app.submitted[0].request_id
        assert await post(app.tracking.listener_url, late_callback(request_id)) == 200
        tracked = app.tracking.tracker.get(request_id)
        await wait_for(pilot, lambda: tracked.received == 1)  # the late callback counted
        await wait_for(pilot, lambda: len(app.tracking.feed) == 0)  # and handed to the screen
        shown = await toasts_so_far(pilot)
        assert not [t for t in shown if t.title.startswith("Suspend")]  # not announced again


async def test_a_failed_activation_is_announced_with_its_fault(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await activate_a_line_someone_just_activated(pilot)  # refused by callback
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
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        sim = app.demo_services.sim if app.demo_services is not None else None
        assert sim is not None
        gate = sim.state.processing_gate = asyncio.Event()  # held until the view is open
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(app.submitted))
        await pilot.press("g")  # watch it in the requests view
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RequestsScreen")
        assert app.desk.ledger.awaiting  # still running when the view opened
        gate.set()
        await wait_for(pilot, lambda: not app.desk.ledger.awaiting, 10)
        assert type(app.screen).__name__ == "RequestsScreen"
        shown = await toasts_so_far(pilot)
        assert not [t for t in shown if t.title.startswith("Suspension status")]


def change(state: str, by: str | None, received: int, expected: int | None, failures: int = 0):
    from m2m_tui.tracking.tracker_events import RequestChanged

    return RequestChanged("r-1", "suspend", state, by, received, expected, failures, True)


def record(action: str = "suspend") -> Any:
    from m2m_tui.desk.actions import RequestAction, SubmittedRequest

    return SubmittedRequest(RequestAction(action), "acct", [], "IMEI 359876543210987", "r-1", True)


def test_notice_wording_for_each_final_state() -> None:
    from types import SimpleNamespace

    from m2m_tui.ui.outcome_notices import finished_notice

    by_poll = finished_notice(record(), change("completed", "poll", 0, 1), None)
    assert by_poll.title == "Suspend IMEI 359876543210987"
    assert by_poll.text.startswith("completed by poll (ThingSpace status: Success)")
    some_failed = finished_notice(record(), change("completed", "callback", 4, 5, 1), None)
    assert "4/5 devices answered, 1 failed" in some_failed.text
    assert some_failed.severity == "warning"
    fault = SimpleNamespace(last_error_code="DeviceState.Invalid", last_error_message="not active")
    failed = finished_notice(record(), change("failed", "callback", 1, 1, 1), fault)  # type: ignore[arg-type]
    assert failed.severity == "error" and "DeviceState.Invalid: not active" in failed.text
    late = finished_notice(record(), change("timed_out", None, 0, 1), None)
    assert late.severity == "warning" and "registration (u)" in late.text


async def test_the_card_shows_the_answer_about_its_device(tmp_path: Path) -> None:
    from m2m_tui.ui.widgets.suspension_panel import FailurePanel, SuspensionPanel

    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(app.screen.query(SuspensionPanel)), 10)
        panel = app.screen.query_one(SuspensionPanel)
        assert panel.border_title == f"Suspension · MDN {wk.SUSPENDED_MDN}"
        assert "days left" in str(panel.render())
        await lookup(pilot, wk.DEMO_IMEI)  # another device: the answer was not about it
        assert not app.screen.query(SuspensionPanel)
        await activate_a_line_someone_just_activated(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(app.screen.query(FailurePanel)), 10)
        assert "DeviceAlreadyActive" in str(app.screen.query_one(FailurePanel).render())


async def test_o_opens_the_request_just_submitted(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("o")
        await wait_for_toast(pilot, "no request submitted yet")
        assert type(app.screen).__name__ == "DevicesScreen"  # nothing submitted yet
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(app.submitted))
        await pilot.press("y")  # an app action bound on the screen, like o
        request_id = app.submitted[-1].request_id
        copied = f"copied request id: {request_id}"
        await wait_for_toast(pilot, copied)
        palette = [c.title for c in app.get_system_commands(app.screen)]
        assert palette.count("Copy request id") == 1 and "Copy last request id" not in palette
        assert "Open the last request submitted" in palette and "Open last request" not in palette
        await pilot.press("o")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RequestDetailScreen")
        assert app.screen.request_id == app.submitted[-1].request_id
        palette = [c.title for c in app.get_system_commands(app.screen)]
        assert "Open last request" in palette  # the detail has no o of its own
