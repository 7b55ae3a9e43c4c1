"""A provisioning POST that timed out is found again by the callbacks that name its device."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.screens.dialogs import ConfirmDialog, ErrorDialog

from .conftest import SIZE, login, lookup, make_demo_app, wait_for
from .test_inbox import body, post
from .toasts import wait_for_toast


def suspend_posts(app: Any) -> int:
    """Suspend POSTs the simulator has received (counted on arrival, before any latency)."""
    calls = app.demo_services.sim.state.calls
    return sum(n for call, n in calls.items() if call.endswith("/devices/actions/suspend"))


def demo_with_short_timeout(folder: Path) -> Any:
    app = make_demo_app(folder, listener=True, fixed=False)
    app.options.loaded.config.profiles["demo"].timeout = 0.4
    return app


async def suspend_and_time_out(pilot: Any, latency: float) -> None:
    app = pilot.app
    app.demo_services.sim.config.faults.latency = latency  # ThingSpace answers too late
    await pilot.press("S")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
    app.demo_services.sim.config.faults.latency = 0.0
    assert "NOT retried" in app.screen.title_text
    assert not app.submitted


async def close_the_error_and_see_it_watched(pilot: Any) -> None:
    """A toast never covers a dialog: the notice shows once the engineer closed this one."""
    await pilot.press("escape")
    await wait_for_toast(pilot, lambda t: t.title == "Timed out: watching")


async def test_a_timed_out_suspend_is_adopted_when_its_callback_names_the_device(
    tmp_path: Path,
) -> None:
    app = demo_with_short_timeout(tmp_path / "demo")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_IMEI)
        await suspend_and_time_out(pilot, latency=0.8)
        await close_the_error_and_see_it_watched(pilot)
        # The simulator went on with it; its CarrierService callback names the device.
        await wait_for(pilot, lambda: bool(app.submitted), within=10)
        sim_ids = list(app.demo_services.sim.state.requests)
        assert [r.request_id for r in app.submitted] == sim_ids
        await wait_for_toast(pilot, lambda t: t.title == "Timed-out request found")
        tracker = app.tracking.tracker
        await wait_for(pilot, lambda: tracker.get(sim_ids[0]).finished, within=10)
        assert tracker.get(sim_ids[0]).state.value == "completed"


async def test_a_callback_that_beat_the_timeout_is_found_in_the_journal(tmp_path: Path) -> None:
    app = demo_with_short_timeout(tmp_path / "demo")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_MDN)
        url = app.tracking.listener_url
        assert url is not None
        # Before the POST: a callback about another device (not to be taken for its answer).
        assert await post(url, body("someone-elses", mdn="5551230001")) == 200
        app.demo_services.sim.config.faults.latency = 5.0  # hold the sim: nothing comes from it
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        # While our POST hangs (the simulator has it), ThingSpace's callback for it arrives first.
        await wait_for(pilot, lambda: suspend_posts(app) == 1)
        assert await post(url, body("the-lost-one", mdn=wk.DEMO_MDN)) == 200
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
        await wait_for(pilot, lambda: bool(app.submitted))
        assert [r.request_id for r in app.submitted] == ["the-lost-one"]
        assert app.tracking.tracker.get("someone-elses") is None


def test_watch_rules() -> None:
    from types import SimpleNamespace as Cb

    from m2m_tui.desk.actions import RequestAction
    from m2m_tui.desk.actions import wire_keys as device_keys
    from m2m_tui.desk.ledger import WATCH_SECONDS, TimeoutWatch, UnconfirmedRequest

    keys = device_keys([{"id": "5551234567", "kind": "MDN"}])
    assert keys == frozenset({"mdn:5551234567"})
    assert device_keys({"accountName": "x"}) == frozenset()  # a filter names no device

    def item(at: float) -> UnconfirmedRequest:
        return UnconfirmedRequest(RequestAction.SUSPEND, "a", [], "MDN 5551234567", True, at, keys)

    watch = TimeoutWatch()
    watch.pending.add(item(100.0))
    watch.pending.add(item(101.0))

    def cb(rid: str, dup: bool = False, ours: bool = False) -> Cb:
        return Cb(request_id=rid, device_key="mdn:5551234567", duplicate=dup, ours=ours)

    known = {"known-1"}
    found = watch.adoptions(
        [cb("x", dup=True), cb("known-1"), cb("r1"), cb("r1"), cb("mine", ours=True)],
        known.__contains__,
        200.0,
    )
    assert [(i.sent_at, rid) for i, rid in found] == [(100.0, "r1")]  # oldest first, once
    assert len(watch.pending) == 1
    assert watch.adoptions([cb("r2")], known.__contains__, 101.0 + WATCH_SECONDS + 1) == []
    assert len(watch.pending) == 0  # an hour later it is no longer watched
