"""The requests view: pages from the journal, live rows, filters, sort, and what to check.

Most tests seed a journal with known requests (fixed times, so ages and texts are exact)
and open the view on the demo app (no listener); the live test runs the demo's listener.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

import m2m_tui.sim.wellknown as wk
from m2m_tui.desk import identity
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.records import CallbackRecord
from m2m_tui.ui.screens.requests import RequestsScreen

from .conftest import FIXED_NOW, login, lookup, make_demo_app, screen_name, wait_for
from .test_filter_listing import footer_keys

STAMP = FIXED_NOW.timestamp()
ACCOUNT = "0000123456-00001"
STATUS_ID = "5f1e2d3c-0000-4000-8000-000000000001"
POLL_ID = "7a6b5c4d-0000-4000-8000-000000000002"
FAILED_ID = "9c8d7e6f-0000-4000-8000-000000000003"
TIMED_OUT_ID = "b1c2d3e4-0000-4000-8000-000000000004"
WAITING_ID = "d4e5f6a7-0000-4000-8000-000000000005"
FAULT = "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive"
FAR = 10 * 365 * 86400.0
#: Who submitted the seeded requests: "me" in the tests of "mine", and a colleague.
ME = "jdoe@jump1"
COLLEAGUE = "asmith@jump2"


def status_body(request_id: str, count: int = 1) -> dict[str, Any]:
    return {
        "username": "demo-callbacks",
        "password": "demo-callback-secret",
        "requestId": request_id,
        "deviceResponse": {
            "deviceSuspensionStatusResponse": [
                {
                    "deviceIds": [{"id": wk.SUSPENDED_MDN, "kind": "mdn"}],
                    "state": "suspend",
                    "suspendDate": "2025-12-17 10:00:00",
                    "expectedResumeDate": "2026-03-17",
                    "daysRemainingAutoResume": "61",
                    "maxSuspendDaysAllowed": "90",
                    "numDaysSuspendedLast12Months": "29",
                    "numDaysSuspendAllowedCurrent12Months": "61",
                    "timesSuspendedLast12Months": "2",
                }
            ]
        },
        "callbackCount": count,
        "maxCallbackThreshold": 4,
    }


def seed_journal(path: Path, now: float = STAMP, bulk: int = 0) -> None:
    """Five requests, one per outcome, plus ``bulk`` older completed ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    devices = [{"id": wk.SUSPENDED_MDN, "kind": "mdn"}]
    imei = [{"id": wk.DEMO_IMEI, "kind": "imei"}]
    far = max(now, time.time()) + FAR
    with Journal.open(path) as j:
        for index in range(bulk):
            j.add_request(
                f"0bulk{index:05d}-0000-4000-8000-000000000000",
                action="suspend",
                account=ACCOUNT,
                target={"devices": imei},
                pollable=True,
                deadline=now,
                expected_results=1,
                submitted_at=now - 86400 - index * 60,
                state="completed",
            )
        j.add_request(
            TIMED_OUT_ID,
            action="suspension_status",
            account=ACCOUNT,
            target={"filter": {"groupName": "trucks"}},
            pollable=False,
            deadline=now - 3000,
            submitted_at=now - 4500,
        )  # recorded before the submitter was: By shows "-"
        j.update_request(
            TIMED_OUT_ID,
            state="timed_out",
            last_error_message="no callbacks before the deadline: check the callback "
            "registration for this account, the firewall and public URL, and that the "
            "listener is reachable (/healthz)",
        )
        j.add_request(
            FAILED_ID,
            action="activate",
            account=ACCOUNT,
            target={"devices": imei},
            pollable=True,
            deadline=now + 1200,
            expected_results=1,
            submitted_at=now - 3600,
            submitted_by=COLLEAGUE,
        )
        failure = {
            "requestId": FAILED_ID,
            "deviceIds": [{"id": wk.DEMO_IMEI, "kind": "Imei"}],
            "faultResponse": {"faultcode": FAULT, "faultstring": "Device is already active"},
            "status": "Failed",
        }
        j.append_callbacks(
            [
                CallbackRecord(
                    FAILED_ID, "failure", failure, f"imei:{wk.DEMO_IMEI}", None, None, now - 3590
                )
            ]
        )
        j.update_request(
            FAILED_ID,
            state="failed",
            completed_by="callback",
            last_error_code=FAULT,
            last_error_message="Device is already active",
        )
        j.add_request(
            POLL_ID,
            action="suspend",
            account=ACCOUNT,
            target={"devices": imei},
            pollable=True,
            deadline=now + 1200,
            expected_results=1,
            submitted_at=now - 600,
            submitted_by=ME,
        )
        j.add_poll(POLL_ID, "Pending", polled_at=now - 598)
        j.add_poll(POLL_ID, "Success", polled_at=now - 590)
        j.update_request(POLL_ID, state="completed", completed_by="poll")
        j.add_request(
            WAITING_ID,
            action="suspension_status",
            account=ACCOUNT,
            target={"devices": devices},
            pollable=False,
            deadline=far,
            expected_results=1,
            submitted_at=now - 240,
            submitted_by=COLLEAGUE,
        )
        j.add_request(
            STATUS_ID,
            action="suspension_status",
            account=ACCOUNT,
            target={"devices": devices},
            pollable=False,
            deadline=now + 1200,
            expected_results=1,
            submitted_at=now - 180,
            submitted_by=ME,
        )
        key = f"mdn:{wk.SUSPENDED_MDN}"
        completion = {
            "requestId": STATUS_ID,
            "deviceResponse": {},
            "comment": "Request Completed Processing",
        }
        j.append_callbacks(
            [
                CallbackRecord(
                    STATUS_ID, "suspension_status", status_body(STATUS_ID), key, 1, None, now - 170
                ),
                CallbackRecord(STATUS_ID, "completion", completion, None, 1, None, now - 169),
                CallbackRecord(
                    STATUS_ID,
                    "suspension_status",
                    status_body(STATUS_ID, 2),
                    key,
                    2,
                    None,
                    now - 20,
                ),
            ]
        )
        j.update_request(STATUS_ID, state="completed", completed_by="callback")


def seeded_app(folder: Path, bulk: int = 0) -> Any:
    seed_journal(folder / "journal.sqlite3", bulk=bulk)
    return make_demo_app(folder)


async def open_requests(pilot: Pilot[Any]) -> RequestsScreen:
    app: Any = pilot.app
    await wait_for(pilot, app.demo_services.ready.is_set)
    await login(pilot, password=None)
    await pilot.press("escape", "g")
    await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
    screen: RequestsScreen = app.screen
    await wait_for(pilot, lambda: screen.table.row_count > 0)
    await pilot.pause()
    return screen


def cells(screen: RequestsScreen, key: str) -> list[str]:
    return [str(c) for c in screen.table.get_row(key)]


def static_text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_rows_show_every_outcome(tmp_path: Path) -> None:
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_requests(pilot)
        table = screen.table
        assert table.row_count == 5
        order = [str(table.coordinate_to_cell_key((r, 0)).row_key.value) for r in range(5)]
        assert order == [STATUS_ID, WAITING_ID, POLL_ID, FAILED_ID, TIMED_OUT_ID]
        assert cells(screen, STATUS_ID) == [
            STATUS_ID[:8],
            "susp status",
            "completed by callback",
            "1/1",
            wk.SUSPENDED_MDN,
            "3m",
            "jdoe",
        ]
        assert cells(screen, WAITING_ID)[2] == "awaiting callbacks"
        assert cells(screen, POLL_ID)[2:4] == ["completed by poll", "0/1"]
        assert cells(screen, FAILED_ID)[2:4] == ["failed by callback", "1/1 ✗1"]
        assert cells(screen, TIMED_OUT_ID)[2] == "timed out"
        assert cells(screen, TIMED_OUT_ID)[4] == "filter groupName=trucks"
        assert cells(screen, TIMED_OUT_ID)[5] == "1h"
        assert [cells(screen, key)[6] for key in order] == ["jdoe", "asmith", "jdoe", "asmith", "-"]
        assert "5 request(s)" in static_text(screen, "#requests-info")
        # The hint line says what a highlighted request waits for, or what to check.
        await pilot.press("down")
        assert "awaiting callbacks" in static_text(screen, "#request-hint")
        await pilot.press("ctrl+end")
        hint = static_text(screen, "#request-hint")
        assert "firewall" in hint and "public URL" in hint and "listener" in hint
        await pilot.press("up")
        assert "DeviceAlreadyActive" in static_text(screen, "#request-hint")


async def test_wide_terminal_adds_the_account(tmp_path: Path) -> None:
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(110, 30)) as pilot:
        screen = await open_requests(pilot)
        row = cells(screen, STATUS_ID)
        assert row[2] == "completed by callback" and row[5] == ACCOUNT
        assert row[6:] == ["3m", "jdoe"]  # the user alone: no room for the host yet
        await pilot.resize_terminal(130, 30)
        await wait_for(pilot, lambda: cells(screen, STATUS_ID)[7] == ME)  # user@host


async def test_filter_by_state_and_text_and_sort(tmp_path: Path) -> None:
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_requests(pilot)
        table = screen.table

        def keys() -> list[str]:
            return [
                str(table.coordinate_to_cell_key((r, 0)).row_key.value)
                for r in range(table.row_count)
            ]

        await pilot.press("f")  # unfinished
        await wait_for(pilot, lambda: keys() == [WAITING_ID])
        assert "state unfinished" in static_text(screen, "#requests-info")
        await pilot.press("f")  # completed
        await wait_for(pilot, lambda: set(keys()) == {STATUS_ID, POLL_ID})
        await pilot.press("f", "f")  # failed, then timed out
        await wait_for(pilot, lambda: keys() == [TIMED_OUT_ID])
        await pilot.press("f")  # all again
        await wait_for(pilot, lambda: len(keys()) == 5)

        await pilot.press("slash")
        assert screen.query_one("#requests-text", Input).has_focus
        await pilot.press(*"trucks", "enter")
        await wait_for(pilot, lambda: keys() == [TIMED_OUT_ID])
        assert table.has_focus
        screen.query_one("#requests-text", Input).value = ""
        await wait_for(pilot, lambda: len(keys()) == 5)

        await pilot.press("o")  # oldest first
        assert keys()[0] == TIMED_OUT_ID
        assert "sort oldest" in static_text(screen, "#requests-info")
        await pilot.press("o")  # by state: unfinished first, then timed out, failed, completed
        assert keys()[:3] == [WAITING_ID, TIMED_OUT_ID, FAILED_ID]
        assert "sort state" in static_text(screen, "#requests-info")
        for _ in range(5):
            await pilot.press("o")  # results, action, target, id, then newest first again
        assert keys()[0] == STATUS_ID
        assert "sort newest" in static_text(screen, "#requests-info")


async def test_pages_and_window(tmp_path: Path) -> None:
    app = seeded_app(tmp_path / "d", bulk=450)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_requests(pilot)
        table = screen.table
        assert table.row_count == 60  # the first page fills the screen, the rest on demand
        assert "60 of 455" in static_text(screen, "#requests-info")
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: table.row_count == 260)
        await pilot.press("ctrl+end")
        await wait_for(pilot, lambda: table.row_count == 455)
        assert "455 request(s)" in static_text(screen, "#requests-info")


async def test_enter_opens_and_y_copies(tmp_path: Path) -> None:
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_requests(pilot)
        from m2m_tui.ui.screens.help import screen_commands

        titles = {c.title for c in screen_commands(app.screen)}
        assert {"Open", "Copy id", "Find", "State", "Sort", "Reload"} <= titles  # the palette
        await pilot.press("y")
        assert app.clipboard == STATUS_ID
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "RequestDetailScreen")
        assert app.screen.request_id == STATUS_ID
        titles = {c.title for c in screen_commands(app.screen)}
        assert {"Raw", "Tab", "Copy id", "JSON", "Ticket", "Export"} <= titles
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")


async def test_live_rows_update_in_place(tmp_path: Path) -> None:
    """A new request is added on top; its changes update its cells, never rebuild the table."""
    app = seeded_app(tmp_path / "d", bulk=300)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_requests(pilot)
        table = screen.table
        assert app.tracking is not None and app.tracking.tracker is not None
        tracker = app.tracking.tracker
        clears: list[int] = []
        original = table.clear

        def counting_clear(*args: Any, **kwargs: Any) -> Any:
            clears.append(1)
            return original(*args, **kwargs)

        table.clear = counting_clear  # type: ignore[method-assign]
        new_id = "ffff0000-0000-4000-8000-00000000abcd"
        tracker.submitted(
            "suspend", ACCOUNT, new_id, devices=[{"id": wk.DEMO_IMEI, "kind": "imei"}]
        )
        await wait_for(pilot, lambda: new_id in table.rows)
        assert str(table.coordinate_to_cell_key((0, 0)).row_key.value) == new_id
        tracker.polled(new_id, "Pending")
        await wait_for(pilot, lambda: cells(screen, new_id)[2] == "pending")
        tracker.polled(new_id, "Success")
        await wait_for(pilot, lambda: cells(screen, new_id)[2] == "completed by poll")
        assert not clears and table.row_count == 61


async def test_live_demo_request_goes_from_awaiting_to_completed(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, app.demo_services.ready.is_set)  # type: ignore[union-attr]
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await pilot.press("s", "g")
        await wait_for(pilot, lambda: screen_name(app) == "RequestsScreen")
        screen: Any = app.screen
        await wait_for(pilot, lambda: screen.table.row_count == 1)
        request_id = app.submitted[0].request_id
        await wait_for(pilot, lambda: cells(screen, request_id)[2] == "completed by callback")
        assert cells(screen, request_id)[3] == "1/1"


async def test_i_opens_the_inbox_from_the_requests_screen(tmp_path: Path) -> None:
    """Walk finding 11: ``i`` worked from the device screen but did nothing here."""
    from m2m_tui.ui.screens.inbox import CallbacksInboxScreen

    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_requests(pilot)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, CallbacksInboxScreen))


async def test_age_column_follows_the_clock(tmp_path: Path) -> None:
    """Walk finding 11: the Age column stayed at "4s" for 15 s (and never moved without a
    live clock); it is redrawn each second, changed cells only."""
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_requests(pilot)
        before = str(screen.table.get_cell(STATUS_ID, "age"))
        later = app.clock() + 3 * 86400
        app.clock = lambda: later
        await wait_for(
            pilot, lambda: str(screen.table.get_cell(STATUS_ID, "age")) != before, within=3.0
        )
        assert str(screen.table.get_cell(STATUS_ID, "age")).endswith("d")


async def test_m_narrows_to_my_requests_and_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: "can be narrowed to mine": the key is in the footer, the title says which."""
    monkeypatch.setattr(identity, "local_submitter", lambda: ME)
    app = seeded_app(tmp_path / "d")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_requests(pilot)
        assert screen.table.row_count == 5
        assert "m" in footer_keys(app)
        assert "everyone's" in screen.sub_title and "everyone's" in info(screen)
        await pilot.press("m")
        await wait_for(pilot, lambda: screen.table.row_count == 2)
        assert {str(screen.table.get_row_at(r)[0]) for r in range(2)} == {
            STATUS_ID[:8],
            POLL_ID[:8],
        }
        assert screen.sub_title == "Requests: mine, state all"
        await wait_for(pilot, lambda: "2 request(s) · mine" in info(screen))
        # With the state filter too: mine and completed.
        await pilot.press("f", "f")
        await wait_for(pilot, lambda: "state completed" in info(screen))
        await wait_for(pilot, lambda: screen.table.row_count == 2)
        await pilot.press("f", "f", "f")  # back to all states
        await wait_for(pilot, lambda: "state all" in info(screen))
        await pilot.press("m")
        await wait_for(pilot, lambda: screen.table.row_count == 5)
        assert screen.sub_title == "Requests: everyone's, state all"


def info(screen: Any) -> str:
    return static_text(screen, "#requests-info")
