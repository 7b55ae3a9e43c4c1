"""Device selection by identifier, the card, and the actions on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from m2m_tui.sim import RunningSimulator
from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.screens.devices import DevicesScreen
from m2m_tui.ui.screens.dialogs import (
    ActivateDialog,
    ConfirmDialog,
    DeactivateDialog,
    ErrorDialog,
    KindChoiceDialog,
)
from m2m_tui.ui.widgets.device_card import DeviceCard
from m2m_tui.ui.widgets.identifier import IdentifierInput

from .bars_seen import header_text, status_text
from .conftest import (
    SIZE,
    login,
    lookup,
    make_app,
    make_demo_app,
    screen_name,
    sim_profile_toml,
    type_text,
    wait_for,
    write_config,
)
from .toasts import toast_texts, toasts, wait_for_toast


def app_for(
    sim: RunningSimulator, home: Path, profile: dict[str, str] | None = None, **kwargs: Any
) -> Any:
    extra = dict(profile or {})
    if kwargs.pop("profile_read_only", False):
        extra["read_only"] = "true"
    write_config(home, sim_profile_toml(sim, **extra))
    secrets = home / "config" / "secrets.toml"
    secrets.write_text(
        f'[profiles.acme]\napp_secret = "{sim.config.app_secret}"\n'
        f'password = "{sim.config.password}"\n'
    )
    secrets.chmod(0o600)
    return make_app(home, profile="acme", **kwargs)


def card_text(app: Any) -> str:
    return str(app.screen.query_one("#card-body").render())


def hint_text(app: Any) -> str:
    return str(app.screen.query_one("#kind-hint").render())


async def test_imei_lookup_shows_card(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        field = app.screen.query_one("#identifier", Input)
        assert field.has_focus
        field.value = wk.DEMO_IMEI[:13]
        await pilot.press(*wk.DEMO_IMEI[13:])
        assert "IMEI" in hint_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.device is not None)
        text = card_text(app)
        for expected in (
            wk.DEMO_MDN,
            wk.DEMO_ICCID,
            wk.DEMO_MSISDN,
            "active",
            "M2MPLAN4G",
            "10.12.34.56",
            "Default: 0000123456-00001",
            "Connected",
            "Last conn.",
            "Activated",
        ):
            assert expected in text
        assert app.screen.query_one(DeviceCard).has_focus


async def test_bad_identifier_says_what_is_expected(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        app.screen.query_one("#identifier", Input).value = "12x4"
        await pilot.pause()
        assert "identifiers are digits" in hint_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.device is None
        app.screen.query_one("#identifier", Input).value = "1" * 21
        await pilot.pause()
        assert "fits no identifier" in hint_text(app)
        calls = sum(sim.state.calls.values())
        await pilot.press("enter")
        await pilot.pause()
        assert sum(sim.state.calls.values()) == calls


async def test_ambiguous_identifier_one_key_choice(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        app.screen.query_one("#identifier", Input).value = wk.ESN_DEVICE_ESN
        await pilot.pause()
        assert "ESN or MSISDN?" in hint_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, KindChoiceDialog))
        await pilot.press("e")
        await wait_for(pilot, lambda: getattr(app.screen, "device", None) is not None)
        assert wk.ESN_DEVICE_MDN in card_text(app)
        assert app.screen.target.kind == "esn"


async def test_not_found_is_explained(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, "0000000000")
        assert app.screen.device is None
        assert "check the identifier" in hint_text(app)


async def test_expired_session_is_renewed(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        sim.state.expire_sessions()
        await lookup(pilot, wk.DEMO_MDN)
        assert app.screen.device is not None
        assert sim.state.logins == 2
        await wait_for_toast(pilot, "session expired")


async def test_network_down_after_login(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await sim.close()
        await lookup(pilot, wk.DEMO_MDN)
        await wait_for(pilot, lambda: "unreachable" in hint_text(app), within=15)
        assert app.screen.device is None
        assert screen_name(app) == "DevicesScreen"


async def test_suspend_confirms_then_hands_request_over(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_IMEI)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = "\n".join(app.screen.lines)
        assert "daily limit" in text and "still billed" in text
        await pilot.press("n")
        await pilot.pause()
        assert not app.submitted and not sim.state.requests
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(app.submitted))
        record = app.submitted[0]
        assert record.pollable and record.request_id in sim.state.requests
        await wait_for_toast(pilot, record.request_id)
        await pilot.press("g")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        await pilot.press("y")
        await wait_for_toast(pilot, f"copied request id: {record.request_id}")


LISTENING = {"callback": '{ listen = "127.0.0.1:0", public_url = "http://127.0.0.1:9/cb" }'}


async def test_suspension_status_needs_no_confirm(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home, LISTENING)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await wait_for(pilot, lambda: app.tracking is not None and app.tracking.listening)
        frame = app.screen.query_one(IdentifierInput)
        await wait_for(pilot, lambda: str(frame.border_subtitle).startswith("keys act"))
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(app.submitted))
        assert not app.submitted[0].pollable


async def test_suspension_status_without_listener_asks_and_says_why(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)  # no public URL, no fixed port: no listener
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await wait_for(pilot, lambda: app.tracking is not None and app.tracking.started)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = " ".join(app.screen.lines)
        assert "finishes only by callback" in text and "listener is off" in text
        assert not sim.state.requests
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(app.submitted))


async def test_activate_asks_plan_and_zip(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.PREACTIVE_IMEI)
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, ActivateDialog))
        assert app.screen.query_one("#plan", Input).value == "M2MPLAN4G"
        await pilot.press("1", "2", "enter")
        assert isinstance(app.screen, ActivateDialog)  # ZIP too short
        assert "5 digits" in str(app.screen.query_one("#problem").render())
        await pilot.press("3", "4", "5", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert any("12345" in line for line in app.screen.lines)
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(app.submitted))
        assert app.submitted[0].action.value == "activate"


async def test_deactivate_spells_out_the_fee(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_MDN)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, DeactivateDialog))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = "\n".join(app.screen.lines)
        assert "service ENDS" in text and "early-termination fee" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not app.submitted


@pytest.mark.parametrize("how", ["flag", "profile"])
async def test_read_only_blocks_state_changes(
    sim: RunningSimulator, isolated_home: Path, how: str
) -> None:
    if how == "flag":
        app = app_for(sim, isolated_home, LISTENING, read_only=True)
    else:
        app = app_for(sim, isolated_home, LISTENING, profile_read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await wait_for(pilot, lambda: "READ-ONLY" in header_text(app))
        await lookup(pilot, wk.DEMO_MDN)
        # Never possible in this session: not offered in the footer at all.
        assert app.screen.check_action("suspend", ()) is False
        footer = " ".join(str(key.render()) for key in app.screen.query("FooterKey"))
        assert "Find" in footer, footer  # the footer is drawn, with the keys still possible
        for word in ("Suspend", "Restore", "Activate", "Deactivate"):
            assert word not in footer, footer
        await pilot.press("S", "R", "D", "A")
        await pilot.pause()
        assert screen_name(app) == "DevicesScreen"
        await wait_for_toast(pilot, "read-only")
        assert not app.submitted and not sim.state.requests
        await wait_for(pilot, lambda: app.tracking is not None and app.tracking.listening)
        await pilot.press("s")  # reading the suspension status is still allowed
        await wait_for(pilot, lambda: bool(app.submitted))


async def test_recent_devices_one_key_away(sim: RunningSimulator, isolated_home: Path) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_MDN)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(app.screen.recent_rows) == 2)
        # A card is shown, not the list: a digit starts an identifier instead of opening a
        # recent device the user cannot see.
        await pilot.press("2")
        field = app.screen.query_one("#identifier", Input)
        assert field.has_focus and field.value == "2"
        assert app.screen.target.id == wk.SUSPENDED_MDN
        # The list is one key away: h, then pick the second.
        await pilot.press("escape", "h")
        await wait_for(pilot, lambda: screen_name(app) == "PickDialog")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.screen.target.id == wk.DEMO_MDN)
        assert wk.DEMO_IMEI in card_text(app)


async def suspend_shown_device(pilot: Any) -> None:
    app: Any = pilot.app
    await pilot.press("S")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")
    await wait_for(pilot, lambda: bool(app.submitted))


def lookups_done(app: Any) -> bool:
    return all(w.is_finished for w in app.screen.workers if w.group == "lookup")


def quick_refresh_app(
    sim: RunningSimulator, home: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[object]]:
    """An app whose post-submit refresh comes after 0.3 s, and the targets it was asked for."""
    monkeypatch.setattr(DevicesScreen, "REFRESH_AFTER_SUBMIT", 0.3)
    asked: list[object] = []
    refresh = DevicesScreen.refresh_device

    def counted(self: DevicesScreen, target: Any) -> None:
        asked.append(target)
        refresh(self, target)

    monkeypatch.setattr(DevicesScreen, "refresh_device", counted)
    return app_for(sim, home), asked


async def suspend_demo_imei(pilot: Any) -> None:
    await login(pilot, password=None)
    await lookup(pilot, wk.DEMO_IMEI)
    await suspend_shown_device(pilot)


async def test_card_is_read_again_after_a_state_change(
    sim: RunningSimulator, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DevicesScreen, "REFRESH_AFTER_SUBMIT", 0.3)
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_IMEI)
        assert app.screen.device.state == "active"
        await suspend_shown_device(pilot)
        await wait_for(pilot, lambda: app.screen.device.state == "suspend")
        assert "suspend" in card_text(app)
        assert app.screen.query_one(DeviceCard).has_focus


async def test_late_refresh_never_swaps_the_card_back(
    sim: RunningSimulator, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, asked = quick_refresh_app(sim, isolated_home, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await suspend_demo_imei(pilot)
        await lookup(pilot, wk.SUSPENDED_MDN)  # the engineer moves on at once
        await wait_for(pilot, lambda: bool(asked))  # the late refresh came
        await wait_for(pilot, lambda: lookups_done(app))  # and any read it started has ended
        assert app.screen.target.id == wk.SUSPENDED_MDN
        assert wk.SUSPENDED_MDN in card_text(app) and wk.DEMO_IMEI not in card_text(app)


async def test_late_refresh_never_takes_the_keyboard(
    sim: RunningSimulator, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, asked = quick_refresh_app(sim, isolated_home, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await suspend_demo_imei(pilot)
        await pilot.press("slash", "3", "5", "9")
        await wait_for(pilot, lambda: bool(asked))  # the late refresh came
        await wait_for(pilot, lambda: lookups_done(app))  # and any read it started has ended
        field = app.screen.query_one("#identifier", Input)
        assert field.has_focus and field.value == "359"
        await pilot.press("8")
        assert field.value == "3598"


async def test_frame_says_whether_keys_type_or_act(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        frame = app.screen.query_one(IdentifierInput)

        def says(start: str) -> Callable[[], bool]:
            return lambda: str(frame.border_subtitle).startswith(start)

        await wait_for(pilot, says("typing"))
        await lookup(pilot, wk.DEMO_IMEI)
        await wait_for(pilot, says("keys act"))
        await pilot.press("slash")
        await wait_for(pilot, says("typing"))
        await pilot.press("escape")
        await wait_for(pilot, says("keys act"))


async def test_a_timed_out_suspend_is_said_not_retried_and_sent_once(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home, {"timeout": "0.4"})
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_IMEI)
        sim.config.faults.latency = 0.8  # ThingSpace answers after our timeout
        await suspend_shown_device_unanswered(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, ErrorDialog))
        dialog: Any = app.screen
        assert "NOT retried" in dialog.title_text
        assert "may have been accepted" in dialog.text and "request status" in dialog.text
        # ThingSpace went on with it although we hung up: the case the dialog warns about.
        # It answers 0.4 s after we gave up; by then any resend would have been counted.
        await wait_for(pilot, lambda: len(sim.state.requests) == 1, within=3)
        posts = [call for call in sim.state.calls if call.endswith("/devices/actions/suspend")]
        assert [sim.state.calls[call] for call in posts] == [1] and not app.submitted
        assert app.is_running
        # No listener in this profile: no promise to watch for callbacks that cannot come.
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ErrorDialog))
        await pilot.pause()
        assert not [t for t in toasts(app) if t.title == "Timed out: watching"]


async def suspend_shown_device_unanswered(pilot: Any) -> None:
    app: Any = pilot.app
    await pilot.press("S")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.press("y")


async def test_a_fresh_demo_offers_its_devices(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=False, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await wait_for(pilot, lambda: "Demo devices to try" in card_text(app))
        text = card_text(app)
        for kind, value in (
            ("IMEI", wk.DEMO_IMEI),
            ("MDN", wk.SUSPENDED_MDN),
            ("ESN", wk.ESN_DEVICE_ESN),
        ):
            assert kind in text and value in text
        assert "suspend" in text and "pre-active" in text
        await pilot.press("1")  # the input has the keys: a digit is typed, not a shortcut
        assert app.screen.query_one("#identifier", Input).value == "1"
        await pilot.press("backspace", "escape", "2")
        await wait_for(pilot, lambda: app.screen.device is not None)
        assert app.screen.target.id == wk.SUSPENDED_MDN and "suspend" in card_text(app)


async def test_a_request_made_on_the_mdn_shows_on_the_card_found_by_imei(tmp_path: Path) -> None:
    """Issue 8, case 7: the card matches requests by the device's identity, not its label."""
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await wait_for(pilot, app.demo_services.ready.is_set)
        # The simulator holds the request until the device was looked up again (no race
        # against a processing delay on a loaded machine).
        gate = app.demo_services.sim.state.processing_gate = asyncio.Event()
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("s")  # suspension status, asked on the MDN
        await wait_for(pilot, lambda: bool(app.submitted))
        await lookup(pilot, wk.SUSPENDED_IMEI)  # the same device, by another identifier
        assert app.screen.target.kind == "imei"
        assert not app.screen.query(".device-outcome")
        gate.set()
        # When the request finishes, its answer shows on this card.
        await wait_for(pilot, lambda: bool(app.screen.query(".device-outcome")), within=10)
        assert "Suspension ·" in str(app.screen.query_one(".device-outcome").border_title)


async def test_listener_port_taken_the_suspend_is_still_tracked_by_poll(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """Issue 8, case 1: a taken port only removes the callback path, and the toasts say so."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        app = app_for(sim, isolated_home, {"callback": f'{{ listen = "127.0.0.1:{port}" }}'})
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await login(pilot, password=None)
            await wait_for_toast(pilot, "callbacks off")
            await wait_for(pilot, lambda: "cb failed" in status_text(app))
            await lookup(pilot, wk.DEMO_MDN)
            await suspend_shown_device(pilot)
            await wait_for_toast(pilot, "polling (no callback can arrive)")
            assert not [text for text in toast_texts(app) if "polling + callback" in text]
            tracker = app.tracking.tracker
            request_id = app.submitted[0].request_id
            await wait_for(pilot, lambda: tracker.get(request_id).finished, within=10)
            assert tracker.get(request_id).completed_by.value == "poll"


async def test_a_state_change_the_line_cannot_take_is_dim_and_says_why(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """A walk finding: A was offered on an active line, and ThingSpace failed it later."""
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_MDN)  # active
        await pilot.press("escape")
        assert app.screen.check_action("activate", ()) is None  # dim in the footer
        assert app.screen.check_action("restore", ()) is None
        assert app.screen.check_action("suspend", ()) is True
        await pilot.press("A")
        await wait_for_toast(pilot, "already active")
        assert screen_name(app) == "DevicesScreen" and not sim.state.requests


async def test_slash_after_a_lookup_error_starts_a_new_identifier(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """A walk finding: '/5559999999' after a rejected '12345' looked up '123455559999999'."""
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        field = app.screen.query_one("#identifier", Input)
        await type_text(pilot, "12345")
        await pilot.press("enter")  # fits no identifier: the input keeps it, with the reason
        await pilot.press("slash")
        await type_text(pilot, wk.DEMO_MDN)
        assert field.value == wk.DEMO_MDN


async def test_state_keys_without_a_device_say_to_look_one_up(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = app_for(sim, isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await pilot.press("escape")
        await pilot.press("S")
        await wait_for_toast(pilot, "look one up first")
        assert not sim.state.requests


async def test_quitting_with_a_request_still_awaited_asks_first(tmp_path: Path) -> None:
    """A walk finding: ctrl+q right after a suspend quit without a word (the demo forgets it)."""
    from m2m_tui.ui.screens.dialogs import ConfirmDialog

    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await wait_for(pilot, app.demo_services.ready.is_set)
        gate = app.demo_services.sim.state.processing_gate = asyncio.Event()
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("s")  # suspension status: held by the simulator, so still awaited
        await wait_for(pilot, lambda: bool(app.submitted))
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        lines = " ".join(app.screen.lines)
        assert "Not finished yet: 1 request" in lines and app.submitted[0].request_id in lines
        assert "demo forgets them" in lines
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        assert app.is_running
        gate.set()


async def test_a_recent_list_read_late_never_replaces_a_lookup_on_its_way(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """The list of recent devices, read when the screen opens, arrived after a lookup had
    begun, replaced the card and left the lookup nowhere to land (a flaky test showed it)."""
    app = app_for(sim, isolated_home)
    release = asyncio.Event()
    async with app.run_test(size=SIZE) as pilot:
        recent = app.services.recent
        read = recent.recent

        reads: list[int] = []

        def recent_read() -> bool:
            return bool(reads)

        async def late(limit: int) -> Any:
            await release.wait()
            rows = await read(limit)
            reads.append(len(rows))
            return rows

        recent.recent = late  # type: ignore[method-assign]
        await login(pilot, password=None)
        sim.config.faults.latency = 0.5  # the lookup's answers are on their way meanwhile
        field = app.screen.query_one("#identifier", Input)
        field.value = wk.DEMO_MDN
        await pilot.press("enter")
        card = app.screen.query_one(DeviceCard)
        await wait_for(pilot, lambda: card.picture is not None)
        release.set()  # the recent list arrives now, before the device
        await wait_for(pilot, lambda: app.screen.recent_rows is not None and recent_read())
        sim.config.faults.latency = 0.0
        await wait_for(pilot, lambda: app.screen.device is not None, within=10)
        assert wk.DEMO_MDN in card_text(app)
