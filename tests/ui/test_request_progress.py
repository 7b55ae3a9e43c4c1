"""Issue 12 point 15: a request's progress is a bar of answered against expected, with the
failures counted beside it, in the requests view and the detail, moved by real callbacks
POSTed to the demo's listener (coalesced: one bar update per tracking flush)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from textual.widgets import ProgressBar

from m2m_tui.desk.demo import DEMO_CALLBACK_PASSWORD, DEMO_CALLBACK_USER
from m2m_tui.ui.screens.request_detail import RequestDetailScreen
from m2m_tui.ui.screens.requests import RequestsScreen
from m2m_tui.ui.widgets.request_progress import RequestProgress

from .conftest import login, make_demo_app, screen_name, wait_for

ACCOUNT = "0000123456-00001"
FILTER_ID = "f1f1f1f1-0000-4000-8000-000000000001"
LIST_ID = "d2d2d2d2-0000-4000-8000-000000000002"
MDNS = ["5551230001", "5551230002", "5551230003"]


def restore_body(request_id: str, mdn: str, *, fault: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": DEMO_CALLBACK_USER,
        "password": DEMO_CALLBACK_PASSWORD,
        "requestId": request_id,
        "deviceIds": [{"id": mdn, "kind": "mdn"}],
        "status": "Success",
        "deviceResponse": {"restoreResponse": {}},
        "callbackCount": 1,
        "maxCallbackThreshold": 4,
    }
    if fault:
        body["status"] = "Failed"
        body["faultResponse"] = {"faultcode": "X.DeviceNotSuspended", "faultstring": "active"}
    return body


async def post(url: str, payload: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.post(url, json=payload)).status_code == 200


def bar_of(screen: Any) -> tuple[RequestProgress, ProgressBar]:
    widget = screen.query_one(RequestProgress)
    return widget, widget.query_one(ProgressBar)


def text_of(widget: RequestProgress) -> str:
    return str(widget.query_one(".progress-text").render())


async def handed_over(pilot: Any) -> None:
    """Every tracker event so far has left the feed and the screens have handled it."""
    feed = pilot.app.tracking.feed
    await wait_for(pilot, lambda: len(feed) == 0)
    await pilot.pause()


async def start(pilot: Any) -> tuple[Any, str]:
    app = pilot.app
    await wait_for(pilot, app.demo_services.ready.is_set)
    await login(pilot, password=None)
    assert app.tracking is not None and app.tracking.tracker is not None
    url = app.tracking.listener_url
    assert url is not None
    return app.tracking.tracker, url


async def test_filter_request_bar_moves_with_callbacks_and_marks_failures(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=(80, 24)) as pilot:
        tracker, url = await start(pilot)
        tracker.submitted("restore", ACCOUNT, FILTER_ID, filter={"groupName": "trucks"})
        await pilot.press("escape", "g")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        screen: RequestsScreen = app.screen  # type: ignore[assignment]
        await wait_for(pilot, lambda: FILTER_ID in screen.table.rows)
        widget, bar = bar_of(screen)
        await wait_for(pilot, lambda: widget.shown is not None)
        assert widget.display and bar.total is None  # a filter's size is not known: not made up
        assert bar.progress == 0
        assert "expected count unknown" in text_of(widget)

        await post(url, restore_body(FILTER_ID, MDNS[0]))
        await wait_for(pilot, lambda: bar.progress == 1)
        assert "✗" not in text_of(widget) and not widget.has_class("-failures")
        await post(url, restore_body(FILTER_ID, MDNS[1], fault=True))
        await post(url, restore_body(FILTER_ID, MDNS[2]))
        await wait_for(pilot, lambda: bar.progress == 3)
        await wait_for(pilot, lambda: "✗ 1 failed" in text_of(widget))
        assert widget.has_class("-failures")
        assert "3 answered · expected count unknown" in text_of(widget)
        assert bar.total is None

        # The detail shows the same bar, from the same live state.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        detail_widget, detail_bar = bar_of(app.screen)
        await wait_for(pilot, lambda: detail_bar.progress == 3)
        assert "✗ 1 failed" in text_of(detail_widget) and detail_bar.total is None


async def test_device_list_bar_counts_against_expected(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=(80, 24)) as pilot:
        tracker, url = await start(pilot)
        devices = [{"id": mdn, "kind": "mdn"} for mdn in MDNS]
        tracker.submitted("restore", ACCOUNT, LIST_ID, devices=devices)
        await app.push_screen(RequestDetailScreen(app.services, LIST_ID))
        await wait_for(pilot, lambda: isinstance(app.screen, RequestDetailScreen))
        widget, bar = bar_of(app.screen)
        await wait_for(pilot, lambda: bar.total == 3)
        assert bar.progress == 0 and "0/3 answered" in text_of(widget)
        await post(url, restore_body(LIST_ID, MDNS[0], fault=True))
        await wait_for(pilot, lambda: bar.progress == 1)
        assert "1/3 answered" in text_of(widget) and "✗ 1 failed" in text_of(widget)
        assert bar.percentage is not None and round(bar.percentage, 2) == 0.33
        for mdn in MDNS[1:]:
            await post(url, restore_body(LIST_ID, mdn))
        await wait_for(pilot, lambda: bar.progress == 3)
        assert bar.percentage == 1.0 and "3/3 answered" in text_of(widget)


async def test_a_burst_of_callbacks_moves_the_bar_once(tmp_path: Path) -> None:
    """Fifty results in one go reach the view as one coalesced update: one bar change."""
    import time

    from m2m_tui.tracking.events import CallbackAccepted

    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=(80, 24)) as pilot:
        tracker, _url = await start(pilot)
        tracker.submitted("restore", ACCOUNT, FILTER_ID, filter={"groupName": "trucks"})
        await pilot.press("escape", "g")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        screen: RequestsScreen = app.screen  # type: ignore[assignment]
        await wait_for(pilot, lambda: FILTER_ID in screen.table.rows)
        widget, bar = bar_of(screen)
        await wait_for(pilot, lambda: widget.shown is not None)
        await handed_over(pilot)
        before = widget.changes
        now = time.time()
        for index in range(50):
            tracker.callback(
                CallbackAccepted(10_000 + index, FILTER_ID, "result", f"mdn:{index}", False, now)
            )
        await wait_for(pilot, lambda: bar.progress == 50)
        await handed_over(pilot)  # any later update for the same burst would be in by now
        assert widget.changes == before + 1
        assert "50 answered" in text_of(widget)
