"""Issue 12 points 7 and 12: what the screens say at 80x24 is true and whole.

The confirm of a state change said "Tracked by polling and by the CarrierService callback."
while the status bar said "cb off"; the detail's summary box cut long advice at 5 lines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from m2m_tui.ui.screens.dialogs import ConfirmDialog

from .conftest import SIZE, make_demo_app, wait_for
from .test_small_screen import on_card, screen_lines


def screen_text(app: Any) -> str:
    """The screen's words in reading order: borders dropped, wrapped lines joined."""
    text = " ".join(screen_lines(app))
    text = re.sub(r"[│┃▌▐▊▎█▔▁▏▕╭╮╰╯─━┌┐└┘]", " ", text)
    return re.sub(r"\s+", " ", text)


async def confirm_text(app: Any, pilot: Any, key: str) -> str:
    await on_card(pilot)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    dialog = app.screen
    await wait_for(pilot, lambda: " ".join(dialog.title_text.split()) in screen_text(app))
    return screen_text(app)


async def test_listener_off_the_confirm_says_polling_only_and_why(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=False)
    async with app.run_test(size=SIZE) as pilot:
        shown = await confirm_text(app, pilot, "S")
        assert "CarrierService callback." not in shown, shown
        assert "Tracked by polling only (no callback can reach us: the callback listener" in shown
        assert "is off" in shown, shown


async def test_listener_on_the_confirm_says_polling_and_callback(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.desk.tracking is not None and app.desk.tracking.listening)
        shown = await confirm_text(app, pilot, "S")
        assert "Tracked by polling and by the CarrierService callback." in shown, shown
        assert "no callback can reach us" not in shown


# ---------------------------------------------------------------------- 7: advice in full

LIMIT_ID = "7a7a7a7a-0000-4000-8000-000000000007"
LIMIT_FAULT = "UnifiedWebService.REQUEST_FAILED.DeviceActionLimit.Exceeded"
LIMIT_MESSAGE = "Device action limit exceeded for today on this line"


def seed_daily_limit(path: Path) -> None:
    """A suspend of a filter that failed on the line's daily limit (the long fault advice)."""
    import m2m_tui.sim.wellknown as wk
    from m2m_tui.tracking.journal.sqlite import Journal
    from m2m_tui.tracking.records import CallbackRecord

    from .test_requests import ACCOUNT, STAMP, seed_journal

    seed_journal(path)
    target = {
        "filter": {
            "groupName": "Field units",
            "customFields": [{"key": "site", "value": "north-yard"}],
        }
    }
    failure = {
        "requestId": LIMIT_ID,
        "deviceIds": [{"id": wk.DEMO_IMEI, "kind": "Imei"}],
        "faultResponse": {"faultcode": LIMIT_FAULT, "faultstring": LIMIT_MESSAGE},
        "status": "Failed",
    }
    with Journal.open(path) as j:
        j.add_request(
            LIMIT_ID,
            action="suspend",
            account=ACCOUNT,
            target=target,
            pollable=False,
            deadline=STAMP + 1200,
            expected_results=1,
            submitted_at=STAMP - 60,
        )
        key = f"imei:{wk.DEMO_IMEI}"
        j.append_callbacks(
            [CallbackRecord(LIMIT_ID, "failure", failure, key, None, None, STAMP - 50)]
        )
        j.update_request(
            LIMIT_ID,
            state="failed",
            completed_by="callback",
            last_error_code=LIMIT_FAULT,
            last_error_message=LIMIT_MESSAGE,
        )


async def open_detail_of(pilot: Any, request_id: str) -> Any:
    from .test_request_detail import open_detail

    detail = await open_detail(pilot, request_id)
    # Painted: the short id the detail shows is on screen.
    await wait_for(pilot, lambda: request_id[:8] in screen_text(pilot.app))
    return detail


async def test_daily_limit_fault_advice_is_read_whole_at_80x24(tmp_path: Path) -> None:
    from .test_requests import make_demo_app as demo

    seed_daily_limit(tmp_path / "d" / "journal.sqlite3")
    app = demo(tmp_path / "d")
    async with app.run_test(size=SIZE) as pilot:
        await open_detail_of(pilot, LIMIT_ID)
        shown = screen_text(app)
        advice = (
            f"failed: DeviceActionLimit.Exceeded | {LIMIT_MESSAGE} | the line had its daily "
            "provisioning actions: retry tomorrow"
        )
        assert advice in shown, shown
        # The timeline's event is read whole too (it is not an identifier opened elsewhere).
        await pilot.press("t")
        await wait_for(
            pilot,
            lambda: bool(app.screen.query("#timeline")) and "submitted" in event_column(app),
        )
        assert event_column(app) == [
            "Event",
            "submitted",
            "failure",
            "DeviceActionLimit.Exce",
            "eded",
            "failed by callback",
        ]


def event_column(app: Any) -> list[str]:
    """The timeline's Event column as the screen shows it, line by line."""
    from textual.widgets import DataTable

    table = app.screen.query_one("#timeline", DataTable)
    # Time (12) and Source (8), each with a cell padding of 1 on both sides.
    left = table.region.x + 14 + 10 + 1
    lines = screen_lines(app)[table.region.y : table.region.bottom]
    cells = [line[left : left + 22].strip() for line in lines]
    return [cell for cell in cells if cell]


async def test_timed_out_callback_advice_is_read_whole_at_80x24(tmp_path: Path) -> None:
    from m2m_tui.ui.widgets.request_rows import CALLBACK_ADVICE

    from .test_requests import TIMED_OUT_ID, seeded_app

    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=SIZE) as pilot:
        await open_detail_of(pilot, TIMED_OUT_ID)
        shown = screen_text(app)
        assert "timed out: " + CALLBACK_ADVICE in shown, shown


async def test_requests_view_hint_reads_the_timed_out_advice_whole(tmp_path: Path) -> None:
    from m2m_tui.ui.widgets.request_rows import CALLBACK_ADVICE

    from .test_requests import TIMED_OUT_ID, open_requests, seeded_app

    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_requests(pilot)
        screen.table.move_cursor(row=screen.table.get_row_index(TIMED_OUT_ID))
        await wait_for(pilot, lambda: "timed out: " in screen_text(app))
        assert "timed out: " + CALLBACK_ADVICE in screen_text(app), screen_text(app)


async def test_detail_of_an_open_request_says_no_callback_can_arrive(tmp_path: Path) -> None:
    from .test_requests import WAITING_ID, seeded_app

    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=SIZE) as pilot:
        await open_detail_of(pilot, WAITING_ID)
        shown = screen_text(app)
        assert "finishes by callback only" not in shown, shown
        assert (
            "tracking callback only, and no callback can arrive: the callback listener is off"
            in shown
        ), shown


async def test_open_pollable_request_hint_promises_no_callback_with_the_listener_off(
    tmp_path: Path,
) -> None:
    import m2m_tui.sim.wellknown as wk
    from m2m_tui.tracking.journal.sqlite import Journal

    from .test_requests import ACCOUNT, STAMP, open_requests, seeded_app

    open_id = "6b6b6b6b-0000-4000-8000-000000000006"
    path = tmp_path / "d" / "journal.sqlite3"
    app = seeded_app(tmp_path / "d")
    with Journal.open(path) as j:
        j.add_request(
            open_id,
            action="suspend",
            account=ACCOUNT,
            target={"devices": [{"id": wk.DEMO_IMEI, "kind": "imei"}]},
            pollable=True,
            deadline=STAMP + 10 * 365 * 86400.0,
            expected_results=1,
            submitted_at=STAMP - 30,
        )
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_requests(pilot)
        screen.table.move_cursor(row=screen.table.get_row_index(open_id))
        await wait_for(pilot, lambda: "polling ThingSpace" in screen_text(app))
        shown = screen_text(app)
        assert "a callback may finish it first" not in shown, shown
        assert "polling ThingSpace for the status (no callback can arrive here)" in shown
