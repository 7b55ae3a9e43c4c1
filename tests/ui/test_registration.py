"""Callback registration against the demo simulator: list, register (confirm), deregister,
restore on exit, read-only, preflight."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static

from m2m_tui.sim.state import Registration
from m2m_tui.ui.screens.dialogs import ConfirmDialog
from m2m_tui.ui.screens.registration import RegistrationScreen, restore_registrations

from .conftest import login, make_demo_app, screen_name, wait_for
from .toasts import wait_for_toast

SIZE = (100, 30)
CUSTOMER_URL = "https://hooks.customer.example:443/thingspace"


async def open_registration(pilot: Any) -> RegistrationScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.demo_services.ready.is_set())
    await login(pilot, password=None)
    await pilot.press("escape", "u")
    await wait_for(pilot, lambda: screen_name(app) == "RegistrationScreen")
    screen = app.screen
    assert isinstance(screen, RegistrationScreen)
    await wait_for(pilot, lambda: screen.loaded)
    return screen


def ours_column(screen: RegistrationScreen) -> dict[str, str]:
    table = screen.query_one("#callbacks", DataTable)
    return {str(key.value): str(table.get_row(key)[1]) for key in table.rows}


def text_of(screen: RegistrationScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_demo_registration_is_shown_as_ours(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registration(pilot)
        assert ours_column(screen) == {"CarrierService": "ours", "DeviceSuspensionStatus": "ours"}
        summary = text_of(screen, "#reg-summary")
        assert app.tracking is not None and str(app.tracking.listener_url) in summary
        assert summary.count("ours ✓") == 2 and "demo listener" in summary


async def test_register_names_the_url_it_replaces_and_restores_on_exit(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.demo_services.ready.is_set())  # type: ignore[union-attr]
        sim = app.demo_services.sim  # type: ignore[union-attr]
        account = sim.config.primary_account
        registrations = sim.state.registrations
        registrations[(account, "CarrierService")] = Registration(
            account, "CarrierService", CUSTOMER_URL, "cust-user", "cust-pass"
        )
        del registrations[(account, "DeviceSuspensionStatus")]
        screen = await open_registration(pilot)
        assert ours_column(screen) == {"CarrierService": "other", "DeviceSuspensionStatus": "-"}
        assert "OTHER" in text_of(screen, "#reg-summary")

        # CarrierService is the first row: the dialog names the customer's URL.
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        text = "\n".join(dialog.lines)
        assert f"Replaces: {CUSTOMER_URL}" in text and "Another system" in text
        await pilot.press("n")  # cancelled: nothing changes
        await wait_for(pilot, lambda: app.screen is screen)
        assert registrations[(account, "CarrierService")].url == CUSTOMER_URL
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: ours_column(screen)["CarrierService"] == "ours")
        ours = app.tracking.listener_url  # type: ignore[union-attr]
        assert registrations[(account, "CarrierService")].url == ours
        assert registrations[(account, "CarrierService")].username == "demo-callbacks"

        # Nothing registered for DeviceSuspensionStatus: the dialog says so.
        screen.query_one("#callbacks", DataTable).move_cursor(row=1)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "Replaces: none registered" in "\n".join(app.screen.lines)  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_for(pilot, lambda: ours_column(screen)["DeviceSuspensionStatus"] == "ours")

        plan = app.callback_restore
        assert set(plan.previous) == {"CarrierService", "DeviceSuspensionStatus"}
        assert not plan.enabled
        await pilot.press("t")
        assert plan.enabled and "Restore on exit on" in text_of(screen, "#reg-summary")
    # The app exited: the previous registrations are back.
    assert registrations[(account, "CarrierService")].url == CUSTOMER_URL
    assert registrations[(account, "CarrierService")].password == "cust-pass"
    assert (account, "DeviceSuspensionStatus") not in registrations


async def test_deregister_asks_first_and_can_be_restored(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_registration(pilot)
        sim = app.demo_services.sim  # type: ignore[union-attr]
        account = sim.config.primary_account
        before = sim.state.registrations[(account, "DeviceSuspensionStatus")].url
        screen.query_one("#callbacks", DataTable).move_cursor(row=1)
        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        lines = "\n".join(app.screen.lines)  # type: ignore[attr-defined]
        assert f"Removes: {before}" in lines and "another system may depend" in lines
        await pilot.press("y")
        await wait_for(pilot, lambda: ours_column(screen)["DeviceSuspensionStatus"] == "-")
        assert (account, "DeviceSuspensionStatus") not in sim.state.registrations
        await pilot.press("X")  # nothing left to remove
        await wait_for_toast(pilot, "has nothing registered")
        app.callback_restore.enabled = True
        done = await restore_registrations(app.services)
        assert done == [f"DeviceSuspensionStatus: restored {before}"]
        assert sim.state.registrations[(account, "DeviceSuspensionStatus")].url == before


async def test_read_only_blocks_changes_visibly(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_registration(pilot)
        assert "READ-ONLY: register and deregister are blocked" in text_of(screen, "#reg-summary")
        # Never possible this session: not offered in the footer at all.
        assert screen.check_action("register", ()) is False
        assert screen.check_action("deregister", ()) is False
        # A walk pressed R and nothing happened: pressed anyway, the key says why.
        await pilot.press("R")
        await wait_for_toast(pilot, "read-only")
        assert app.screen is screen  # no dialog


async def test_preflight_of_the_demo_listener(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_registration(pilot)
        await pilot.press("p")
        await wait_for(pilot, lambda: len(screen.preflight_lines) == 4, within=8)
        notes = text_of(screen, "#reg-notes")
        assert "127.0.0.1 is a loopback address" in notes
        assert "cannot reach it" in notes
        assert "is not accepted by ThingSpace" in notes or "one ThingSpace accepts" in notes
        assert "https with a third-party certificate is recommended" in notes
        assert "the listener answers at" in notes
