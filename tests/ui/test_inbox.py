"""The callbacks inbox against the demo: live rows by category, filters, raw view, replay."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from textual.widgets import DataTable, Input

from m2m_tui.desk.demo import DEMO_CALLBACK_PASSWORD, DEMO_CALLBACK_USER
from m2m_tui.ui.screens import inbox as inbox_module
from m2m_tui.ui.screens.inbox import CallbacksInboxScreen
from m2m_tui.ui.screens.inbox_dialogs import RawDialog, ReplayDialog

from .conftest import login, make_demo_app, screen_name, wait_for
from .toasts import wait_for_toast

SIZE = (100, 30)


def body(
    request_id: str, *, password: str = DEMO_CALLBACK_PASSWORD, mdn: str = "5551230001"
) -> dict[str, Any]:
    return {
        "username": DEMO_CALLBACK_USER,
        "password": password,
        "requestId": request_id,
        "deviceIds": [{"id": mdn, "kind": "mdn"}],
        "status": "Success",
        "deviceResponse": {"restoreResponse": {}},
        "callbackCount": 1,
        "maxCallbackThreshold": 4,
    }


async def post(url: str, payload: Any) -> int:
    async with httpx.AsyncClient(timeout=5) as client:
        if isinstance(payload, bytes):
            response = await client.post(url, content=payload)
        else:
            response = await client.post(url, json=payload)
        return response.status_code


def categories(screen: CallbacksInboxScreen) -> dict[str, str]:
    table = screen.query_one("#inbox", DataTable)
    out = {}
    for row_key in table.rows:
        entry = next(e for e in screen.entries if e.key == row_key.value)
        out[entry.request_id or entry.reason] = str(table.get_row(row_key)[2])
    return out


def row_texts(screen: CallbacksInboxScreen) -> list[str]:
    """The inbox table's rows as shown, top to bottom, each row's cells joined."""
    table = screen.query_one("#inbox", DataTable)
    return [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


def shows(screen: CallbacksInboxScreen, text: str) -> Callable[[], bool]:
    """Whether a row of the inbox table shows ``text`` (for ``wait_for``)."""
    return lambda: any(text in row for row in row_texts(screen))


def row_key(screen: CallbacksInboxScreen, wanted: Callable[[Any], bool]) -> str:
    """The table row (as shown) of the first entry ``wanted`` picks."""
    return next(e.key for e in screen.entries if wanted(e))


async def open_inbox(pilot: Any) -> CallbacksInboxScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.demo_services.ready.is_set())
    await login(pilot, password=None)
    await pilot.press("escape", "i")
    await wait_for(pilot, lambda: screen_name(app) == "CallbacksInboxScreen")
    screen = app.screen
    assert isinstance(screen, CallbacksInboxScreen)
    return screen


async def test_inbox_shows_every_category_live(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        assert app.tracking is not None and app.tracking.tracker is not None
        url = app.tracking.listener_url
        assert url is not None
        tracker = app.tracking.tracker
        tracker.submitted(
            "restore",
            app.account or "",
            "req-ours",
            devices=[{"id": "5551230001", "kind": "mdn"}, {"id": "5551230002", "kind": "mdn"}],
        )
        assert await post(url, body("req-ours")) == 200
        assert await post(url, body("req-early")) == 200
        assert await post(url, body("req-other")) == 200
        assert await post(url, body("req-ours", password="wrong")) == 401
        assert await post(url, b"{not json") == 400
        assert await post(url, b"x" * (1024 * 1024 + 10)) == 413
        await wait_for(pilot, lambda: len(screen.entries) >= 6)
        # The request of the early callback becomes known only now (the documented race).
        tracker.submitted(
            "restore",
            app.account or "",
            "req-early",
            devices=[{"id": "5551230001", "kind": "mdn"}, {"id": "5551230003", "kind": "mdn"}],
        )
        await wait_for(pilot, lambda: categories(screen).get("req-early") == "early")
        found = categories(screen)
        assert found["req-ours"] == "ours"
        assert found["req-other"] == "not ours"
        assert found["bad_credentials"] == "rejected: bad credentials"
        assert found["not_json"] == "rejected: malformed"
        assert found["too_large"] == "rejected: too large"
        # Newest first.
        table = screen.query_one("#inbox", DataTable)
        first = next(iter(table.ordered_rows)).key.value
        assert first == max(screen.entries, key=lambda e: e.received_at).key

        # A duplicate resend is flagged.
        resend = body("req-other") | {"callbackCount": 2}
        assert await post(url, resend) == 200
        await wait_for(pilot, lambda: any(e.duplicate for e in screen.entries))
        dup = next(e for e in screen.entries if e.duplicate)
        assert str(table.get_row(dup.key)[4]) == "dup"


async def test_filters_raw_view_and_copy(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        url = app.tracking.listener_url  # type: ignore[union-attr]
        tricky = "req-[bold]x[/]-1"
        assert await post(url, body(tricky)) == 200
        assert await post(url, body("req-two", password="nope")) == 401
        await wait_for(pilot, lambda: len(screen.entries) == 2)
        table = screen.query_one("#inbox", DataTable)
        await pilot.press("f")  # ours
        assert screen.category == "ours" and table.row_count == 0
        await pilot.press("f", "f")  # not ours
        assert screen.category == "not ours" and table.row_count == 1
        await pilot.press("f", "f")  # all again
        assert screen.category is None and table.row_count == 2
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        app.focused.value = "credentials"
        await pilot.pause()
        assert table.row_count == 1
        await pilot.press("escape")  # leaves the field, keeps the filter
        assert app.focused is table and screen.text == "credentials"
        screen.query_one("#inbox-find", Input).value = ""
        await pilot.pause()
        assert table.row_count == 2

        # The raw JSON of the callback whose id looks like markup: shown verbatim, redacted.
        table.move_cursor(
            row=table.get_row_index(row_key(screen, lambda e: e.request_id == tricky))
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RawDialog))
        dialog = app.screen
        assert isinstance(dialog, RawDialog)
        assert tricky in dialog.text and DEMO_CALLBACK_PASSWORD not in dialog.text
        assert json.loads(dialog.text)["requestId"] == tricky
        await pilot.press("y")
        assert app.clipboard == dialog.text
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CallbacksInboxScreen))
        # A rejection's raw view: reason, detail, redacted excerpt.
        table.move_cursor(row=table.get_row_index(row_key(screen, lambda e: e.is_rejection)))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RawDialog))
        text = app.screen.text  # type: ignore[attr-defined]
        assert "bad_credentials" in text and "nope" not in text
        await pilot.press("escape")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")


async def test_a_burst_is_added_in_batches_not_rebuilt(tmp_path: Path) -> None:
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        url = app.tracking.listener_url  # type: ignore[union-attr]
        before = screen.rebuilds
        async with httpx.AsyncClient(timeout=5) as client:
            for i in range(60):
                await client.post(url, json=body(f"burst-{i:03d}"))
        await wait_for(pilot, lambda: len(screen.entries) == 60)
        table = screen.query_one("#inbox", DataTable)
        assert table.row_count == 60
        assert screen.rebuilds == before  # appended and sorted, never rebuilt
        newest = next(iter(table.ordered_rows)).key.value
        assert screen.entries[0].key == newest and screen.entries[0].request_id == "burst-059"


async def test_window_and_older_pages(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(inbox_module, "WINDOW", 20)
    monkeypatch.setattr(inbox_module, "PAGE", 15)
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.demo_services.ready.is_set())  # type: ignore[union-attr]
        url = app.tracking.listener_url  # type: ignore[union-attr]
        async with httpx.AsyncClient(timeout=5) as client:
            for i in range(40):
                await client.post(url, json=body(f"old-{i:03d}"))
        screen = await open_inbox(pilot)
        await wait_for(pilot, lambda: screen.loaded)
        assert len(screen.entries) == 20 and screen.entries[0].request_id == "old-039"
        await pilot.press("o")
        await wait_for(pilot, lambda: len(screen.entries) > 20)
        assert len(screen.entries) == 35 and screen.entries[-1].request_id == "old-005"
        await pilot.press("o")
        await wait_for(pilot, lambda: len(screen.entries) > 35)
        assert len(screen.entries) == 40
        await pilot.press("o")
        await wait_for_toast(pilot, "no older rows in the journal")


async def test_replay_posts_to_our_listener(tmp_path: Path) -> None:
    saved = tmp_path / "customer.json"
    customer = body("req-replayed") | {"username": "customer", "password": "their-secret"}
    saved.write_text(json.dumps(customer), encoding="utf-8")
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_inbox(pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayDialog))
        field = app.screen.query_one(Input)
        field.value = str(tmp_path / "missing.json")
        await pilot.press("enter")
        assert isinstance(app.screen, ReplayDialog)  # says so, stays open
        field.value = str(saved)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(e.request_id == "req-replayed" for e in screen.entries))
        said = await wait_for_toast(pilot, "customer.json")
        assert "POSTed to our listener: accepted" in said.text
        listener = app.tracking.service.listener  # type: ignore[union-attr]
        assert listener is not None and listener.status().accepted == 1


async def test_replay_without_a_listener_journals_directly(tmp_path: Path) -> None:
    saved = tmp_path / "customer.json"
    saved.write_text(json.dumps(body("req-offline")), encoding="utf-8")
    app = make_demo_app(tmp_path / "demo", listener=False, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_inbox(pilot)
        assert app.tracking is not None and app.tracking.service.listener is None
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayDialog))
        app.screen.query_one(Input).value = str(saved)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(e.request_id == "req-offline" for e in screen.entries))
        said = await wait_for_toast(pilot, "customer.json")
        assert "journaled directly (no listener here): accepted" in said.text
        entry = next(e for e in screen.entries if e.request_id == "req-offline")
        assert entry.category == "not ours" and entry.source == "replay"


async def test_live_overflow_trims_the_window_with_one_rebuild(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(inbox_module, "WINDOW", 20)
    monkeypatch.setattr(inbox_module, "SLACK", 5)
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        titles = {command.title for command in app.get_system_commands(screen)}
        assert {"Cb URLs", "Replay", "Older rows"} <= titles
        url = app.tracking.listener_url  # type: ignore[union-attr]
        async with httpx.AsyncClient(timeout=5) as client:
            for i in range(40):
                await client.post(url, json=body(f"live-{i:03d}"))
        # The newest is on top once the table was trimmed (no row is added while one is due).
        await wait_for(pilot, lambda: "live-039" in next(iter(row_texts(screen)), ""))
        table = screen.query_one("#inbox", DataTable)
        assert 20 <= table.row_count <= 25 and table.row_count == len(screen.entries)
        assert next(iter(table.ordered_rows)).key.value == screen.entries[0].key
        assert 1 <= screen.rebuilds <= 4  # trimmed by a rebuild or two, never one per row


async def test_rebuilds_keep_coming_when_they_are_due_at_once(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A rebuild due immediately once scheduled a 0 s timer, which Textual cannot run: the
    table then stopped updating for good in the middle of a burst."""
    monkeypatch.setattr(inbox_module, "WINDOW", 30)
    monkeypatch.setattr(inbox_module, "SLACK", 5)
    monkeypatch.setattr(inbox_module, "INCREMENTAL_MAX", 2)
    monkeypatch.setattr(inbox_module, "REBUILD_EVERY", 0.0)
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inbox(pilot)
        url = app.tracking.listener_url  # type: ignore[union-attr]
        async with httpx.AsyncClient(timeout=5) as client:
            for wave in range(4):
                for i in range(20):
                    await client.post(url, json=body(f"wave{wave}-{i:02d}"))
                # Each wave reaches the table before the next (it stopped for good mid-burst).
                await wait_for(pilot, shows(screen, f"wave{wave}-19"))
        assert screen.rebuilds >= 2


async def test_the_inbox_never_reads_the_journal_on_the_event_loop(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Opening the inbox, following new callbacks and paging back all read in a thread:
    a big window read on the loop froze the keys while it ran."""
    import threading

    from m2m_tui.tracking.journal.sqlite import Journal

    readers: list[str] = []
    for name in ("recent_callbacks", "rejections", "callbacks_before", "get_request"):
        original = getattr(Journal, name)

        def spy(self: Journal, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            if threading.current_thread() is threading.main_thread():
                readers.append(_original.__name__)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Journal, name, spy)
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_inbox(pilot)
        url = app.tracking.listener_url  # type: ignore[union-attr]
        for i in range(3):
            assert await post(url, body(f"off-loop-{i}")) == 200
        await wait_for(pilot, lambda: len(screen.entries) == 3)
        await pilot.press("o")
        await wait_for_toast(pilot, "no older rows")
    assert readers == []
