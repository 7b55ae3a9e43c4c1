"""Issue 10, the card: the full picture of a device, each section loading on its own.

The demo's simulator (fixed clock and seed) serves the scenario-kit story devices
(MDN 55512301NN); one section is made to fail or to hang by wrapping the real read.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from m2m_tui.api.errors import ApiError
from m2m_tui.api.history import DiagnosticsReads
from m2m_tui.tracking.journal.diagnoses import JournaledDiagnosis, journaled_diagnoses
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.ui.screens.request_dialogs import RawJsonScreen
from m2m_tui.ui.widgets.device_card import DeviceCard

from .conftest import SIZE, login, lookup, make_demo_app, screen_name, wait_for
from .toasts import wait_for_toast

SUSPENDED_BY_JDOE = "5551230102"  # story B: R2
NOT_ATTACHING = "5551230103"  # story C: R7


def section(app: Any, name: str) -> str:
    return str(app.screen.query_one(f"#{name}").render())


async def _picture(pilot: Any, identifier: str) -> DeviceCard:
    app = pilot.app
    await wait_for(pilot, app.demo_services.ready.is_set, within=20)
    await login(pilot, password=None)
    await lookup(pilot, identifier)
    card = app.screen.query_one(DeviceCard)
    await wait_for(pilot, lambda: card.diagnosis is not None, within=10)
    return card


async def test_the_card_answers_why_a_suspended_device_stopped(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        card = await _picture(pilot, SUSPENDED_BY_JDOE)
        diagnosis = section(app, "diagnosis")
        assert diagnosis.startswith("Diagnosis (R2): Suspended by jdoe")
        assert "provisioning: Suspend by jdoe" in diagnosis  # the evidence
        assert "Next step: Request suspension status" in diagnosis
        assert "state suspend" in diagnosis
        assert "Connections, 30 days" in section(app, "timeline")
        assert "start (UTC)" in section(app, "timeline")
        provisioning = section(app, "provisioning")
        assert "Suspend by jdoe" in provisioning and "Activation Confirmed" in provisioning
        assert "M2M 4G LTE" in section(app, "plan")
        # The diagnosis is the first thing on the card.
        assert card.query_one("#diagnosis").region.y < card.query_one("#card-body").region.y


async def test_not_attaching_story_names_the_silence_and_the_step(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        card = await _picture(pilot, NOT_ATTACHING)
        assert card.diagnosis is not None and card.diagnosis.rule == "R7"
        assert "Next step:" in section(app, "diagnosis")


async def test_a_failing_section_leaves_the_others_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: DiagnosticsReads, *args: Any) -> Any:
        raise ApiError("provisioning history unavailable", status=500, code="UnexpectedError")

    monkeypatch.setattr(DiagnosticsReads, "provisioning_history", broken)
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        card = await _picture(pilot, SUSPENDED_BY_JDOE)
        assert "Provisioning history: could not be read" in section(app, "provisioning")
        assert "unavailable" in section(app, "provisioning")
        assert "5551230102" in section(app, "card-body")
        assert "start (UTC)" in section(app, "timeline")
        assert "M2M 4G LTE" in section(app, "plan")
        # The rules say what they can without it, never a guess from the missing section.
        assert card.diagnosis is not None
        assert "jdoe" not in section(app, "diagnosis")
        assert app.screen.device is not None  # the device can still be acted on


async def test_a_slow_section_never_blocks_the_card_or_the_keyboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    real = DiagnosticsReads.connection_history

    async def slow(self: DiagnosticsReads, *args: Any) -> Any:
        await gate.wait()
        return await real(self, *args)

    monkeypatch.setattr(DiagnosticsReads, "connection_history", slow)
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set, within=20)
        await login(pilot, password=None)
        field = app.screen.query_one("#identifier", Input)
        field.value = SUSPENDED_BY_JDOE
        field.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "5551230102" in section(app, "card-body"))
        await wait_for(pilot, lambda: "Suspend by jdoe" in section(app, "provisioning"))
        assert section(app, "timeline") == "Connections: loading…"
        assert section(app, "diagnosis") == "Diagnosis: loading…"
        await pilot.press("slash")  # the keyboard still works meanwhile
        assert app.screen.query_one("#identifier", Input).has_focus
        gate.set()
        await wait_for(pilot, lambda: "start (UTC)" in section(app, "timeline"))
        await wait_for(pilot, lambda: section(app, "diagnosis").startswith("Diagnosis (R2)"))


async def test_reads_work_in_read_only_mode(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        card = await _picture(pilot, SUSPENDED_BY_JDOE)
        assert app.read_only
        assert card.diagnosis is not None and card.diagnosis.rule == "R2"


async def test_ticket_summary_and_raw_json_carry_the_diagnosis(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        await _picture(pilot, SUSPENDED_BY_JDOE)
        app.screen.query_one(DeviceCard).focus()
        await pilot.press("m")
        summary = app.clipboard
        assert "**Diagnosis:** Suspended by jdoe" in summary
        assert "- provisioning: Suspend by jdoe" in summary  # the evidence
        assert "**Next step:**" in summary
        assert "**Provisioning history (last 365 days):**" in summary
        await pilot.press("j")
        await wait_for(pilot, lambda: screen_name(app) == "RawJsonScreen")
        raw = app.screen
        assert isinstance(raw, RawJsonScreen)
        assert '"provisioning": [' in raw.text and '"eventBy": "jdoe"' in raw.text
        assert '"connections": [' in raw.text


def _journaled(path: Path) -> list[JournaledDiagnosis]:
    with Journal.open(path, readonly=True) as journal:
        return journaled_diagnoses(journal)


async def test_request_detail_carries_the_device_picture(tmp_path: Path) -> None:
    """A request about the device: its ticket summary adds the diagnosis, p shows the histories."""
    app = make_demo_app(tmp_path / "demo", listener=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _picture(pilot, SUSPENDED_BY_JDOE)
        await pilot.press("s")  # suspension status, a request about this device
        await wait_for(pilot, lambda: bool(app.submitted))
        # Its callback gives R2 the auto-resume date, on the card (never a guessed 90 days).
        await wait_for(pilot, lambda: "auto-resumes on" in section(app, "diagnosis"), within=10)
        assert "expectedResumeDate" in section(app, "diagnosis")
        await pilot.press("o")
        await wait_for(pilot, lambda: screen_name(app) == "RequestDetailScreen")
        await wait_for(pilot, lambda: app.screen.data is not None)
        await pilot.press("m")
        await wait_for_toast(pilot, "Markdown summary")
        assert "**Diagnosis:** Suspended by jdoe" in app.clipboard
        assert app.clipboard.count("**Diagnosis:**") == 1  # the picture's, not the journal's too
        # journaled for `m2m-tui export`, the newest (with the auto-resume date) last
        path = Path(app.journal_path)
        await wait_for(
            pilot, lambda: any("auto-resumes on" in d.markdown for d in _journaled(path))
        )
        assert "auto-resumes on" in app.clipboard
        assert "- provisioning: Suspend by jdoe" in app.clipboard
        await pilot.press("p")
        await wait_for(pilot, lambda: screen_name(app) == "RawJsonScreen")
        assert '"eventBy": "jdoe"' in app.screen.text
