"""The footer rebuilds once per change, and never ahead of a device picture landing.

Textual's own footer removed and mounted every key each time the screen said its bindings
may have changed: three times in a lookup, each a restyle and a relayout of the screen in the
middle of the answers arriving (``bench/device_picture.py``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from m2m_tui.api.history import DiagnosticsReads
from m2m_tui.ui.widgets.device_card import DeviceCard
from m2m_tui.ui.widgets.footer import SteadyFooter

from .conftest import SIZE, login, lookup, make_demo_app, wait_for

SUSPENDED_BY_JDOE = "5551230102"


def footer_keys(app: Any) -> list[str]:
    return [key.key for key in app.screen.query(FooterKey)]


async def test_a_lookup_rebuilds_the_footer_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    real_init = FooterKey.__init__

    def counting(self: FooterKey, key: str, *args: Any, **kwargs: Any) -> None:
        built.append(key)
        real_init(self, key, *args, **kwargs)

    monkeypatch.setattr(FooterKey, "__init__", counting)
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set, within=20)  # type: ignore[union-attr]
        await login(pilot, password=None)
        await wait_for(pilot, lambda: bool(footer_keys(app)))
        await pilot.pause()
        built.clear()
        await lookup(pilot, SUSPENDED_BY_JDOE)
        card = app.screen.query_one(DeviceCard)
        await wait_for(pilot, lambda: card.diagnosis is not None, within=10)
        await wait_for(pilot, lambda: "S" in footer_keys(app))  # keys act on the device now
        await pilot.pause()
        shown = footer_keys(app)
        assert {"S", "R", "A", "D", "question_mark"} <= set(shown)
        assert sorted(built) == sorted(shown)  # every key built once: one rebuild


async def test_the_device_keys_show_while_a_section_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The footer waits for the rest of the picture only so long: a hung history never keeps
    the device's keys out of it."""
    gate = asyncio.Event()
    real = DiagnosticsReads.connection_history

    async def slow(self: DiagnosticsReads, *args: Any) -> Any:
        await gate.wait()
        return await real(self, *args)

    monkeypatch.setattr(DiagnosticsReads, "connection_history", slow)
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set, within=20)  # type: ignore[union-attr]
        await login(pilot, password=None)
        field = app.screen.query_one("#identifier")
        field.value = SUSPENDED_BY_JDOE  # type: ignore[attr-defined]
        field.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "S" in footer_keys(app))
        assert app.screen.query_one(DeviceCard).diagnosis is None  # still loading
        gate.set()


class Toggle(App[None]):
    """One key whose action is possible or not (shown dimmed), and a key always there."""

    BINDINGS = [Binding("x", "act", "Act"), Binding("h", "help_me", "Help")]

    def __init__(self) -> None:
        super().__init__()
        self.possible = False

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield SteadyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act":
            return True if self.possible else None
        return True

    def action_act(self) -> None:
        pass

    def action_help_me(self) -> None:
        pass

    def action_more(self) -> None:
        pass


def _key(app: App[Any], name: str) -> FooterKey:
    return next(key for key in app.screen.query(FooterKey) if key.key == name)


async def test_enabling_a_key_keeps_the_footer_and_only_undims_it() -> None:
    app = Toggle()
    async with app.run_test(size=(60, 5)) as pilot:
        await wait_for(pilot, lambda: bool(footer_keys(app)))
        before = list(app.screen.query(FooterKey))
        assert _key(app, "x").has_class("-disabled")
        app.possible = True
        app.refresh_bindings()
        await wait_for(pilot, lambda: not _key(app, "x").has_class("-disabled"))
        assert list(app.screen.query(FooterKey)) == before  # the same widgets, not rebuilt
        app.possible = False
        app.refresh_bindings()
        await wait_for(pilot, lambda: _key(app, "x").has_class("-disabled"))
        assert list(app.screen.query(FooterKey)) == before


async def test_bindings_said_changed_but_unchanged_do_not_rebuild() -> None:
    app = Toggle()
    async with app.run_test(size=(60, 5)) as pilot:
        await wait_for(pilot, lambda: bool(footer_keys(app)))
        before = list(app.screen.query(FooterKey))
        for _ in range(3):
            app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert list(app.screen.query(FooterKey)) == before


async def test_a_held_footer_rebuilds_on_release() -> None:
    app = Toggle()
    async with app.run_test(size=(60, 5)) as pilot:
        await wait_for(pilot, lambda: bool(footer_keys(app)))
        footer = app.screen.query_one(SteadyFooter)
        footer.hold(60)
        app.bind("y", "more", description="More")
        app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert "y" not in footer_keys(app)  # held back
        footer.release()
        await wait_for(pilot, lambda: "y" in footer_keys(app))
