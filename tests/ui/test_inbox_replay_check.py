"""Replaying a malformed file from the inbox: the dialog says what is wrong, nothing is posted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.widgets import Input, Static

from m2m_tui.desk.demo import DEMO_CALLBACK_PASSWORD, DEMO_CALLBACK_USER
from m2m_tui.ui.screens.inbox import CallbacksInboxScreen
from m2m_tui.ui.screens.inbox_dialogs import ReplayDialog

from .conftest import login, make_demo_app, screen_name, wait_for
from .toasts import toast_texts, wait_for_toast


def body(request_id: str) -> dict[str, Any]:
    return {
        "username": DEMO_CALLBACK_USER,
        "password": DEMO_CALLBACK_PASSWORD,
        "requestId": request_id,
        "deviceIds": [{"id": "5551230001", "kind": "mdn"}],
        "status": "Success",
        "deviceResponse": {"restoreResponse": {}},
    }


async def open_inbox(pilot: Any) -> CallbacksInboxScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.demo_services.ready.is_set())
    await login(pilot, password=None)
    await pilot.press("escape", "i")
    await wait_for(pilot, lambda: screen_name(app) == "CallbacksInboxScreen")
    assert isinstance(app.screen, CallbacksInboxScreen)
    return app.screen


async def test_a_malformed_file_is_refused_in_the_dialog_and_never_posted(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"requestId": "req-broken", "deviceIds": [', encoding="utf-8")
    listed = tmp_path / "export.json"
    listed.write_text(json.dumps([body("req-a"), body("req-b")]), encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(body("req-good")), encoding="utf-8")
    app = make_demo_app(tmp_path / "demo", listener=True, fixed=False)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await open_inbox(pilot)
        listener = app.tracking.service.listener  # type: ignore[union-attr]
        assert listener is not None
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayDialog))
        dialog = app.screen
        field = dialog.query_one(Input)
        problem = dialog.query_one("#problem", Static)

        field.value = str(broken)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "broken.json is not JSON" in str(problem.render()))
        assert app.screen is dialog  # stays open: fix the path or Esc
        assert "nothing replayed" in str(problem.render())

        field.value = str(listed)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "holds a JSON list of 2 items" in str(problem.render()))
        assert app.screen is dialog
        assert listener.status().rejected == 0 and listener.status().accepted == 0

        field.value = str(good)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(e.request_id == "req-good" for e in screen.entries))
        said = await wait_for_toast(pilot, "good.json")
        assert listener.status().accepted == 1 and listener.status().rejected == 0
        assert "rejected" not in said.text
        assert not [text for text in toast_texts(app) if "rejected" in text]
