"""A copy says so in a toast that fits: a short text whole, a long one by its size (walk finding:
the Markdown ticket was echoed whole, in a toast taller than the screen)."""

from __future__ import annotations

from pathlib import Path

from m2m_tui.sim import wellknown as wk
from m2m_tui.ui.app import copied_preview

from .conftest import SIZE, login, lookup, make_demo_app, wait_for
from .toasts import wait_for_toast


def test_a_short_line_is_echoed_whole() -> None:
    assert copied_preview("9f8e7d6c-request-id") == "9f8e7d6c-request-id"


def test_a_long_text_is_summarised_by_its_size_and_start() -> None:
    text = "# Device MDN 5551230102\n\n" + "- a line of the ticket\n" * 40
    shown = copied_preview(text)
    assert "\n" not in shown and len(shown) < 120
    assert f"{len(text):,} characters" in shown and "# Device MDN 5551230102" in shown


async def test_the_markdown_ticket_toast_fits_the_screen(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_MDN)
        await wait_for(pilot, lambda: app.screen.query_one("DeviceCard").diagnosis is not None)
        await pilot.press("escape", "m")
        shown = await wait_for_toast(pilot, "copied")
        assert "characters" in shown.message and len(shown.message.splitlines()) <= 3
