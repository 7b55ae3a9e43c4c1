"""``t`` on the device screen: the engineer states what the ticket says, the card diagnoses again.

Story F (MDN 5551230106): the SIM now sits in another device; only the IMEI on the ticket
lets R6 say so. The dialog checks the IMEI as it is typed and refuses a wrong one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from m2m_tui.sim.stories import MOVED_FROM_IMEI, MOVED_TO_IMEI, STORY_BY_LETTER
from m2m_tui.tracking.journal.diagnoses import journaled_diagnoses
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.ui.widgets.device_card import DeviceCard

from .conftest import SIZE, login, lookup, make_demo_app, screen_name, type_text, wait_for

SIM_MOVED = STORY_BY_LETTER["F"].mdn


def section(app: Any, name: str) -> str:
    return str(app.screen.query_one(f"#{name}").render())


def problem(app: Any) -> str:
    return str(app.screen.query_one("#problem", Static).render())


async def _story_f_card(pilot: Pilot[Any]) -> DeviceCard:
    app: Any = pilot.app
    await wait_for(pilot, app.demo_services.ready.is_set, within=20)
    await login(pilot, password=None)
    await lookup(pilot, SIM_MOVED)
    card = app.screen.query_one(DeviceCard)
    await wait_for(pilot, lambda: card.diagnosis is not None, within=10)
    card.focus()  # keys act on the device
    return card


async def _open_dialog(pilot: Pilot[Any]) -> None:
    await pilot.press("t")
    await wait_for(pilot, lambda: screen_name(pilot.app) == "TicketDialog")  # type: ignore[arg-type]


async def test_the_imei_on_the_ticket_brings_the_card_to_r6(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        card = await _story_f_card(pilot)
        assert card.diagnosis is not None and card.diagnosis.rule is None  # no guess without it
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["What the ticket says (IMEI, last report)"].startswith("key t")
        await _open_dialog(pilot)

        await type_text(pilot, MOVED_FROM_IMEI[:14])  # one digit short: said as typed
        await wait_for(pilot, lambda: "add the check digit" in problem(app))
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "TicketDialog"  # refused
        await type_text(pilot, MOVED_FROM_IMEI[14])
        await wait_for(pilot, lambda: problem(app) == "")
        await pilot.press("enter")

        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        await wait_for(pilot, lambda: section(app, "diagnosis").startswith("Diagnosis (R6)"))
        diagnosis = section(app, "diagnosis")
        assert f"The SIM is now in another device (IMEI {MOVED_TO_IMEI})" in diagnosis
        assert f"ticket: IMEI {MOVED_FROM_IMEI}" in diagnosis  # the evidence
        assert f"the ticket says IMEI {MOVED_FROM_IMEI}" in diagnosis

        await pilot.press("m")  # the Markdown ticket names it
        await wait_for(pilot, lambda: "**Diagnosis:** The SIM is now" in app.clipboard)
        assert f"- the ticket says: IMEI {MOVED_FROM_IMEI}" in app.clipboard

        path = Path(app.journal_path)  # and the journal, for `m2m-tui export`

        def journaled() -> bool:
            with Journal.open(path, readonly=True) as journal:
                return any(
                    d.rule == "R6" and MOVED_FROM_IMEI in d.markdown
                    for d in journaled_diagnoses(journal)
                )

        await wait_for(pilot, journaled)

        await _open_dialog(pilot)  # kept for the device: shown again to be changed
        assert app.screen.query_one("#ticket-imei", Input).value == MOVED_FROM_IMEI
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
        assert card.diagnosis.rule == "R6"


async def test_the_last_report_on_the_ticket_is_named_with_the_diagnosis(
    tmp_path: Path,
) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await _story_f_card(pilot)
        await _open_dialog(pilot)
        field = app.screen.query_one("#ticket-report", Input)
        field.focus()
        await type_text(pilot, "tomorrow")
        await wait_for(pilot, lambda: problem(app).startswith("Last report: not a time"))
        field.value = "2 days ago"
        await wait_for(pilot, lambda: problem(app) == "")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "the ticket says last report" in section(app, "diagnosis"))
        assert "(2 days ago)" in section(app, "diagnosis")


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="baselines are made with Python 3.11")
def test_ticket_dialog_at_80x24(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await _story_f_card(pilot)
        await _open_dialog(pilot)
        await type_text(pilot, MOVED_FROM_IMEI[:14])
        await wait_for(pilot, lambda: "add the check digit" in problem(pilot.app))

    assert snap_compare(make_demo_app(tmp_path / "d"), terminal_size=SIZE, run_before=run_before)
