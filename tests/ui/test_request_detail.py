"""The request detail: results with suspension and failure panels, the timeline, raw JSON,
copy (OSC 52) and export; seeded journals for exact texts, the demo for the live path."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

import m2m_tui.sim.wellknown as wk
from m2m_tui.ui.screens.request_detail import RequestDetailScreen
from m2m_tui.ui.screens.request_dialogs import ExportDialog, RawJsonScreen
from m2m_tui.ui.widgets.suspension_panel import FailurePanel, SuspensionPanel, gauge_parts

from .conftest import login, lookup, make_demo_app, screen_name, wait_for
from .test_requests import (
    FAILED_ID,
    POLL_ID,
    STATUS_ID,
    TIMED_OUT_ID,
    open_requests,
    seeded_app,
)
from .toasts import wait_for_toast


async def open_detail(pilot: Pilot[Any], request_id: str) -> RequestDetailScreen:
    app: Any = pilot.app
    screen = await open_requests(pilot)
    screen.table.move_cursor(row=screen.table.get_row_index(request_id))
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen_name(app) == "RequestDetailScreen")
    detail: RequestDetailScreen = app.screen
    await wait_for(pilot, lambda: detail.data is not None)
    await pilot.pause()
    return detail


def text_of(widget: Any) -> str:
    return str(widget.render())


def summary(detail: RequestDetailScreen) -> str:
    return text_of(detail.query_one("#detail-summary", Static))


def rows(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]


def test_gauge_uses_days_used_plus_days_still_allowed() -> None:
    assert gauge_parts(29, 61, 90) == (29, 90)
    assert gauge_parts(29, None, 90) == (29, 90)
    assert gauge_parts(10, 20, 90) == (10, 30)  # the window's own figures win
    assert gauge_parts(None, 61, 90) == (0, 0)


async def test_suspension_status_detail(tmp_path: Path) -> None:
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        detail = await open_detail(pilot, STATUS_ID)
        head = summary(detail)
        assert STATUS_ID in head and "completed by callback" in head and "dup 1" in head
        assert "by callback only" in head
        assert "submitted by jdoe@jump1" in head  # whose request, in a team's journal
        results = detail.query_one("#results", DataTable)
        assert rows(results) == [["MDN 5551234568", "ok", "state suspend", "14:27:10 UTC"]]
        panels = list(detail.query(SuspensionPanel))
        assert len(panels) == 1
        panel = text_of(panels[0])
        assert "suspend" in panel and "2025-12-17" in panel and "2026-03-17 (61 days left)" in panel
        assert "29 of 90 days" in panel and "times suspended (12 mo) 2" in panel

        await pilot.press("t")
        timeline = detail.query_one("#timeline", DataTable)
        assert timeline.has_focus
        events = rows(timeline)
        assert [r[1:3] for r in events] == [
            ["app", "submitted"],
            ["callback", "susp status: suspend"],
            ["callback", "completion"],
            ["callback", "completed by callback"],
            ["callback", "susp status: suspend"],
        ]
        assert events[-1][5] == "dup" and events[1][5] == "" and events[-1][4] == "2"

        timeline.move_cursor(row=1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RawJsonScreen))
        raw: RawJsonScreen = app.screen  # type: ignore[assignment]
        body = json.loads(raw.text)
        assert body["requestId"] == STATUS_ID and body["kind"] == "suspension_status"
        assert "demo-callback-secret" not in raw.text  # the journal redacted it
        await pilot.press("c")
        assert app.clipboard == raw.text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        await pilot.press("t")
        assert detail.query_one("#results", DataTable).has_focus


async def test_failure_shows_fault_and_next_step(tmp_path: Path) -> None:
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await open_detail(pilot, FAILED_ID)
        assert "failed by callback" in summary(detail)
        assert rows(detail.query_one("#results", DataTable))[0][1:3] == [
            "failed",
            "DeviceAlreadyActive",
        ]
        panel = text_of(detail.query_one(FailurePanel))
        assert "DeviceAlreadyActive" in panel and "Device is already active" in panel
        assert "the device is already active" in panel  # the next step, from the hints


async def test_poll_and_timeout_details(tmp_path: Path) -> None:
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await open_detail(pilot, POLL_ID)
        assert "completed by poll" in summary(detail)
        assert "Completed by poll" in text_of(detail.query_one("#results-pane Static"))
        await pilot.press("t")
        events = rows(detail.query_one("#timeline", DataTable))
        assert [r[1:3] for r in events] == [
            ["app", "submitted"],
            ["poll", "Pending"],
            ["poll", "Success"],
            ["poll", "completed by poll"],
        ]
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        screen: Any = app.screen
        screen.table.move_cursor(row=screen.table.get_row_index(TIMED_OUT_ID))
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "RequestDetailScreen")
        detail = app.screen  # type: ignore[assignment]
        await wait_for(pilot, lambda: detail.data is not None)
        text = summary(detail)
        for needle in ("timed out", "registration", "firewall", "public URL", "listener"):
            assert needle in text


async def test_copy_id_json_and_ticket_summary(tmp_path: Path) -> None:
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_detail(pilot, STATUS_ID)
        await pilot.press("y")
        assert app.clipboard == STATUS_ID
        await pilot.press("j")
        await wait_for(pilot, lambda: app.clipboard.startswith("{"))
        document = json.loads(app.clipboard)
        assert document["requests"][0]["requestId"] == STATUS_ID
        assert len(document["callbacks"]) == 3
        await pilot.press("m")
        await wait_for(pilot, lambda: app.clipboard.startswith("###"))
        assert STATUS_ID in app.clipboard and "| yes |" in app.clipboard
        await wait_for_toast(pilot, "copied Markdown summary")


async def test_export_to_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_detail(pilot, STATUS_ID)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        field = app.screen.query_one("#export-path", Input)
        assert field.value == "request-5f1e2d3c.md"
        await pilot.press("enter")
        target = out / "request-5f1e2d3c.md"
        await wait_for(pilot, target.exists)
        assert STATUS_ID in target.read_text()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it names accounts and devices
        await wait_for_toast(pilot, str(target))

        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        field = app.screen.query_one("#export-path", Input)
        field.value = "notes.txt"
        await pilot.press("enter")
        assert "end the name with .json, .csv or .md" in text_of(
            app.screen.query_one("#export-problem")
        )
        field.value = "sub/[bold]x.csv"  # no such folder, and markup-looking text
        await pilot.press("enter")
        # Said inside the dialog, which stays open with the typed path (walk finding 12).
        assert "no folder sub: create it" in text_of(app.screen.query_one("#export-problem"))
        assert isinstance(app.screen, ExportDialog)
        assert field.value == "sub/[bold]x.csv"
        field.value = "req.csv"
        await pilot.press("enter")
        await wait_for(pilot, (out / "req.csv").exists)
        assert (out / "req.csv").read_text().startswith("requestId,action")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))


async def test_live_detail_fills_in_when_callbacks_arrive(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set)  # type: ignore[union-attr]
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(app.submitted))
        await pilot.press("g")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        screen: Any = app.screen
        await wait_for(pilot, lambda: screen.table.row_count == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "RequestDetailScreen")
        detail: Any = app.screen
        await wait_for(pilot, lambda: bool(list(detail.query(SuspensionPanel))))
        await wait_for(pilot, lambda: "completed by callback" in summary(detail))
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        assert str(screen.table.get_row_at(0)[2]) == "completed by callback"
