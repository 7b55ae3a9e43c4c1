"""Issue 8 (start-up): the login form's first frame holds only what a first look needs.

The four callback rows (17 widgets, 4 inputs) are mounted right after the first frame; until
then one outline of the same shape stands in, so nothing on the form moves when they arrive,
and a value filled meanwhile (the validated settings) still reaches its field.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from m2m_tui.ui.screens.login_form import DeferredCallbackFields

from .conftest import SIZE, make_app, wait_for, write_config


def screen_lines(app: Any) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def test_callback_rows_arrive_after_the_first_frame_where_their_outline_was(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first: dict[str, Any] = {}
    mount = DeferredCallbackFields.mount

    async def after_first_frame(self: DeferredCallbackFields, screen: Any) -> None:
        first["inputs"] = [i.id for i in screen.query(Input)]
        first["checkbox"] = screen.query_one("#save-secrets").region
        first["lines"] = screen_lines(screen.app)
        await mount(self, screen)

    monkeypatch.setattr(DeferredCallbackFields, "mount", after_first_frame)
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.query("#callback-fields")))
        await pilot.pause()
        # The first frame: the seven login fields, the callback section as one outline.
        assert first["inputs"] == [f"f-{key}" for key in FIRST_FIELDS]
        assert "Listen at   127.0.0.1:0 (any free port)" in "\n".join(first["lines"])
        # Then the rows, where the outline was: the form below them does not move.
        screen = app.screen
        assert not screen.query("#callback-outline")
        assert [i.id for i in screen.query(Input)][7:] == [f"f-{key}" for key in CALLBACK_KEYS]
        assert screen.query_one("#save-secrets").region == first["checkbox"]
        lines = screen_lines(app)
        assert lines[10:16] == first["lines"][10:16]  # heading and rows, word for word
        assert app.focused is screen.query_one("#f-base_url", Input)  # a first run starts there


async def test_callback_values_filled_before_the_rows_reach_them(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validated settings arrive before the rows are mounted (a slow first frame): the
    profile's callback values are kept and land in the fields."""
    write_config(
        isolated_home,
        'default_profile = "acme"\n[profiles.acme]\nbase_url = "http://127.0.0.1:9"\n'
        '[profiles.acme.callback]\nlisten = "0.0.0.0:8443"\n'
        'public_url = "https://cb.example.com/m2m"\nusername = "cbuser"\n',
    )
    mount = DeferredCallbackFields.mount
    app = make_app(isolated_home, profile="acme")

    async def after_the_settings(self: DeferredCallbackFields, screen: Any) -> None:
        await app.config_ready.wait()
        await asyncio.sleep(0)  # settings_ready has filled the form (the pending rows too)
        await mount(self, screen)

    monkeypatch.setattr(DeferredCallbackFields, "mount", after_the_settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.screen.query("#callback-fields")))
        await pilot.pause()
        value = {key: app.screen.query_one(f"#f-{key}", Input).value for key in CALLBACK_KEYS}
        assert value == {
            "cb_listen": "0.0.0.0:8443",
            "cb_public_url": "https://cb.example.com/m2m",
            "cb_username": "cbuser",
            "cb_password": "",
        }


FIRST_FIELDS = ("name", "base_url", "app_key", "app_secret", "username", "password", "account")
CALLBACK_KEYS = ("cb_listen", "cb_public_url", "cb_username", "cb_password")
