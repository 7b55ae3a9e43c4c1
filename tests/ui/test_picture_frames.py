"""The device picture's frames: answers asked together are painted together (issue 10's speed).

The device's answer and its histories' are asked at the same moment; a frame painted for the
device alone made the others wait for it. The card holds its repaints for a short window
(``PAINT_WINDOW``) once the device is in, never longer: a hung history is not waited for.
Frames are read where Textual renders them (``App._display``, called headless too).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.strip import Strip

from m2m_tui.api.history import DiagnosticsReads
from m2m_tui.ui.screens import device_picture
from m2m_tui.ui.widgets.device_card import DeviceCard

from .conftest import SIZE, login, make_demo_app, wait_for

SUSPENDED_BY_JDOE = "5551230102"  # story B: R2
GATED = ("connection_history", "provisioning_history", "usage_history", "service_plans")


def frame_text(update: Any) -> str:
    strips: list[Any] = []
    for line in getattr(update, "strips", ()):
        strips.extend([line] if isinstance(line, Strip) else line)
    for chop in getattr(update, "chops", ()):
        strips.extend(strip for strip in chop.values() if strip is not None)
    return "\n".join(strip.text for strip in strips)


@dataclass(frozen=True)
class Frame:
    text: str  # what the frame (re)paints
    device_in: bool  # the device's answer had landed on the card
    diagnosed: bool  # so had every other answer, and the verdict


def record_frames(app: Any) -> list[Frame]:
    frames: list[Frame] = []
    real = app._display

    def display(screen: Any, update: Any) -> None:
        real(screen, update)
        cards = list(app.screen.query(DeviceCard))
        if update is not None and cards:
            card = cards[0]
            frames.append(
                Frame(frame_text(update), card.device is not None, card.diagnosis is not None)
            )

    app._display = display
    return frames


def gate_reads(monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...]) -> asyncio.Event:
    gate = asyncio.Event()
    for name in names:
        real = getattr(DiagnosticsReads, name)

        async def held(self: DiagnosticsReads, *args: Any, _real: Any = real) -> Any:
            await gate.wait()
            return await _real(self, *args)

        monkeypatch.setattr(DiagnosticsReads, name, held)
    return gate


async def _enter(pilot: Any, identifier: str) -> None:
    app = pilot.app
    await wait_for(pilot, app.demo_services.ready.is_set, within=20)
    await login(pilot, password=None)
    field = app.screen.query_one("#identifier")
    field.value = identifier
    field.focus()
    await pilot.press("enter")


async def test_the_device_waits_for_the_answers_asked_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(device_picture, "PAINT_WINDOW", 30.0)  # only completion ends it here
    gate = gate_reads(monkeypatch, GATED)
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        frames = record_frames(app)
        await _enter(pilot, SUSPENDED_BY_JDOE)
        card = app.screen.query_one(DeviceCard)
        await wait_for(pilot, lambda: card.device is not None)  # the device's answer is in
        for _ in range(3):
            await pilot.pause()  # the screen would have painted by now
        assert not any(f.device_in for f in frames)  # no frame for the device alone
        gate.set()
        await wait_for(pilot, lambda: any("Diagnosis (R2)" in f.text for f in frames))
        first = next(f for f in frames if f.device_in)
        assert first.diagnosed and "Diagnosis (R2)" in first.text and "State" in first.text


async def test_a_hung_history_is_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = gate_reads(monkeypatch, ("connection_history",))
    app = make_demo_app(tmp_path / "demo")
    async with app.run_test(size=SIZE) as pilot:
        frames = record_frames(app)
        await _enter(pilot, SUSPENDED_BY_JDOE)
        # Painted after the window, the history still loading.
        await wait_for(pilot, lambda: any(f.device_in and "State" in f.text for f in frames))
        assert not any(f.diagnosed for f in frames)
        gate.set()
        await wait_for(pilot, lambda: any("Diagnosis (R2)" in f.text for f in frames))
