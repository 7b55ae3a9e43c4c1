"""Issue 12 at 80x24: keys in sight, toasts that never cover a dialog, state in characters,
``/`` never typed, registration and messages that say what is true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, Static

from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.screens.dialogs import ConfirmDialog, DeactivateDialog
from m2m_tui.ui.screens.help import HelpScreen
from m2m_tui.ui.screens.registration import RegistrationScreen

from .conftest import SIZE, login, lookup, make_demo_app, screen_name, wait_for
from .toasts import toasts


async def settle(pilot: Any) -> None:
    """Let every message already posted be handled (a toast would be mounted by then)."""
    for _ in range(3):
        await pilot.pause()


def screen_lines(app: Any) -> list[str]:
    """What the terminal shows, line by line (toasts included).

    Textual has no public reading of the composed screen but an SVG export; its compositor's
    strips are the same characters, so this one private read stays.
    """
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def on_card(pilot: Any, identifier: str = wk.DEMO_IMEI) -> None:
    app = pilot.app
    await wait_for(pilot, app.demo_services.ready.is_set)
    await login(pilot, password=None)
    await lookup(pilot, identifier)
    await pilot.press("escape")  # keys act on the device


# ---------------------------------------------------------------------- 6: keys in sight


async def test_device_footer_at_80x24_shows_the_state_keys_quit_and_more(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await on_card(pilot)
        footer = screen_lines(app)[-1]
        for shown in ("S Suspend", "R Restore", "A Activate", "D Deactivate", "^q Quit", "? more"):
            assert shown in footer, (shown, footer)
        # "? more" lists what the footer leaves out.
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        text = "\n".join(str(s.render()) for s in help_screen.query(Static))
        for key in ("Recent", "Filter", "Every callback", "Callback registration", "Log out"):
            assert key in text, key


async def test_request_detail_footer_at_80x24_ends_with_quit_and_more(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await on_card(pilot)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.desk.last is not None, 10)
        await pilot.press("o")
        await wait_for(pilot, lambda: screen_name(app) == "RequestDetailScreen")
        footer = screen_lines(app)[-1]
        assert "^q Quit" in footer and "? more" in footer, footer


# ---------------------------------------------------------------------- 5: toasts


async def test_a_toast_raised_under_a_confirm_dialog_waits_for_it(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_card(pilot)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        app.notify("Restore 5551234567\nFAILED by callback", title="Late news", severity="error")
        await settle(pilot)
        shown = "\n".join(screen_lines(app))
        assert "Late news" not in shown and "daily limit" in shown
        assert not toasts(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: "Late news" in "\n".join(screen_lines(app)))


async def test_toasts_step_aside_when_a_dialog_opens_and_x_dismisses(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await on_card(pilot)
        app.notify("copied request id", title="Earlier")
        await wait_for(pilot, lambda: "Earlier" in "\n".join(screen_lines(app)))
        assert "x Hide" in screen_lines(app)[-1]
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await settle(pilot)
        assert "Earlier" not in "\n".join(screen_lines(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: "Earlier" in "\n".join(screen_lines(app)))
        await pilot.press("x")
        await wait_for(pilot, lambda: "Earlier" not in "\n".join(screen_lines(app)))
        assert not toasts(app)
        await wait_for(pilot, lambda: "x Hide" not in screen_lines(app)[-1])


async def test_toasts_are_short_lived(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # How long a toast stays is what the app asks of Textual's notify: record that (waiting
    # 10 s of wall clock for the toasts to go would only test Textual's timer).
    asked: dict[str, float | None] = {}
    textual_notify = App.notify

    def recorded(self: App[Any], message: str, **kwargs: Any) -> None:
        asked[message] = kwargs.get("timeout")
        textual_notify(self, message, **kwargs)

    monkeypatch.setattr(App, "notify", recorded)
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set)  # type: ignore[union-attr]
        app.notify("submitted", timeout=10)
        app.notify("failed", severity="error", timeout=15)
        await wait_for(pilot, lambda: len(toasts(app)) == 2)
        assert {t.message: t.severity for t in toasts(app)} == {
            "submitted": "information",
            "failed": "error",
        }
        submitted, failed = asked["submitted"], asked["failed"]
        assert submitted is not None and submitted <= 5
        assert failed is not None and failed <= 10


# ---------------------------------------------------------------------- 8: checkbox


async def test_checkbox_state_is_in_the_characters(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await on_card(pilot)
        app.push_screen(DeactivateDialog())
        await wait_for(pilot, lambda: isinstance(app.screen, DeactivateDialog))
        await pilot.pause()
        assert any("[ ] Waive" in line for line in screen_lines(app))
        app.screen.query_one("#etf").value = True
        await pilot.pause()
        assert any("[x] Waive" in line for line in screen_lines(app))


# ---------------------------------------------------------------------- 10: "/"


async def test_slash_is_never_typed_into_the_identifier(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set)  # type: ignore[union-attr]
        await login(pilot, password=None)
        field = app.screen.query_one("#identifier", Input)
        assert app.focused is field
        await pilot.press("slash", "1", "2", "slash", "3", "slash")
        assert field.value == "123"


# ---------------------------------------------------------------------- 2: registration


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


async def test_register_on_a_row_already_ours_says_nothing_is_diverted(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_registration(pilot)
        await pilot.press("R")  # CarrierService: the demo registered our listener
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and not dialog.danger
        text = "\n".join([dialog.title_text, *dialog.lines])
        assert "already" in text and "Nothing to do" in text and "refreshes the credentials" in text
        assert "Another system" not in text and "Replaces" not in text
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen)


async def test_register_where_nothing_is_registered_warns_no_one(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.demo_services.ready.is_set())  # type: ignore[union-attr]
        sim = app.demo_services.sim  # type: ignore[union-attr]
        del sim.state.registrations[(sim.config.primary_account, "DeviceSuspensionStatus")]
        screen = await open_registration(pilot)
        screen.query_one("#callbacks", DataTable).move_cursor(row=1)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        text = "\n".join(app.screen.lines)  # type: ignore[attr-defined]
        assert "Replaces: none registered" in text and "Another system" not in text


# ---------------------------------------------------------------------- 12: messages


def test_a_500_unexpected_error_does_not_blame_the_input() -> None:
    from m2m_tui.api.errors import ServerError, error_from_body
    from m2m_tui.api.models import M2MErrorBody

    body = M2MErrorBody(errorCode="REQUEST_FAILED.UnexpectedError", errorMessage="oops")
    error = error_from_body(body, status=500, method="POST", path="/v1/devices/actions/suspend")
    assert isinstance(error, ServerError)
    assert "input" not in error.hint and "internal error" in error.hint


def test_copied_texts_use_words_not_python() -> None:
    from m2m_tui.api.models import Device
    from m2m_tui.ui.widgets.device_card import summary_text
    from m2m_tui.ui.widgets.request_rows import target_text

    device = Device.model_validate(
        {"deviceIds": [{"id": wk.DEMO_IMEI, "kind": "imei"}], "connected": False}
    )
    assert "connected no" in summary_text(device) and "False" not in summary_text(device)
    target = {"filter": {"customFields": [{"key": "CustomField1", "value": "blue"}]}}
    assert target_text(target) == "filter CustomField1=blue"


def test_an_active_line_has_no_resume_countdown() -> None:
    from m2m_tui.ui.widgets.suspension_panel import SuspensionPanel

    panel = SuspensionPanel(wk.DEMO_IMEI, {"state": "active", "daysRemainingAutoResume": "0"})
    assert "days left" not in str(panel.render())


# ---------------------------------------------------------------------- 7: advice wrapped


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


async def test_a_lookup_error_keeps_its_advice_at_80_columns(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set)  # type: ignore[union-attr]
        await login(pilot, password=None)
        await lookup(pilot, _luhn("35987654321000"))
        shown = " ".join(line.strip(" │") for line in screen_lines(app))
        assert "check the identifier and its kind" in " ".join(shown.split()), shown


async def test_a_form_error_has_no_pydantic_prefix(isolated_home: Path) -> None:
    from .conftest import make_app
    from .test_login import fill

    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        fill(app, name="acme", base_url="ftp://thingspace", app_key="k", username="u")
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = str(app.screen.query_one("#login-message").render())
        assert "base_url: expected an http" in text and "Value error" not in text


async def test_checkbox_state_reads_without_colour(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set)  # type: ignore[union-attr]
        app.push_screen(DeactivateDialog())
        await wait_for(pilot, lambda: isinstance(app.screen, DeactivateDialog))
        await pilot.press("tab", "tab")
        box = app.screen.query_one("#etf")
        box.focus()
        await pilot.press("space")
        await wait_for(pilot, lambda: box.value)  # type: ignore[attr-defined]
        assert any("[x] Waive" in line for line in screen_lines(app))


async def test_filter_footer_at_80x24_shows_every_state_change(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set)  # type: ignore[union-attr]
        await login(pilot, password=None)
        await pilot.press("escape", "f")
        await wait_for(pilot, lambda: screen_name(app) == "FilterScreen")
        app.screen.query_one("#q-plan", Input).value = "M2MPLAN3G"
        app.screen.query_one("#q-plan", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.query_one(DataTable).row_count > 0)
        await pilot.pause()
        footer = screen_lines(app)[-1]
        for shown in ("S Suspend all", "R Restore all", "D Deactivate all", "^q Quit", "? more"):
            assert shown in footer, (shown, footer)
