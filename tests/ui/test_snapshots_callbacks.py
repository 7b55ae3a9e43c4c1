"""Snapshots at 80x24 of the callbacks inbox and the registration screen.

Deterministic like ``test_snapshots.py``: a fixed clock and simulator, no listener (its port
would vary), rows written straight into the journal with fixed times, times shown in UTC.
Update with ``pytest tests/ui/test_snapshots_callbacks.py --snapshot-update`` and review.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from m2m_tui.sim.state import Registration
from m2m_tui.tracking.records import CallbackRecord, RejectionRecord

from .conftest import FIXED_NOW, SIZE, login, make_demo_app, wait_for

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != (3, 11), reason="baselines are made with Python 3.11"
)

STAMP = FIXED_NOW.timestamp()
PUBLIC_URL = "https://cb.example.com:9001/m2m"


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _body(request_id: str, mdn: str, kind: str = "ok") -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": "demo-callbacks",
        "password": "secret",
        "requestId": request_id,
        "deviceIds": [{"id": mdn, "kind": "mdn"}],
        "callbackCount": 1,
    }
    if kind == "fail":
        body["status"] = "Failed"
        body["faultResponse"] = {"faultcode": "X.DeviceAlreadyActive", "faultstring": "active"}
    elif kind == "done":
        body = {**body, "deviceIds": None, "deviceResponse": {}}
        body["comment"] = "Request Completed Processing"
    else:
        body["status"] = "Success"
        body["deviceResponse"] = {"restoreResponse": {}}
    return body


def seed_journal(app: Any) -> None:
    journal = app.tracking.service.journal
    for request_id, at in (("1f3a9c2e-ours-0001", STAMP - 60), ("77b0d4aa-early-002", STAMP - 5)):
        journal.add_request(
            request_id,
            action="restore",
            account="0000123456-00001",
            target={"devices": []},
            pollable=False,
            deadline=STAMP + 1500,
            submitted_at=at,
        )
    records = [
        ("1f3a9c2e-ours-0001", "5550001001", "ok", 1),
        ("1f3a9c2e-ours-0001", "5550001002", "fail", 2),
        ("77b0d4aa-early-002", "5550001003", "ok", 3),
        ("c0ffee00-someone-else", "5550009999", "ok", 4),
        ("1f3a9c2e-ours-0001", "5550001001", "ok", 9),
        ("1f3a9c2e-ours-0001", "", "done", 10),
    ]
    for request_id, mdn, kind, offset in records:
        body = _body(request_id, mdn, kind)
        device = f"mdn:{mdn}" if mdn else None
        journal.append_callbacks(
            [
                CallbackRecord(
                    request_id,
                    "completion"
                    if kind == "done"
                    else ("failure" if kind == "fail" else "device_result"),
                    body,
                    device,
                    1,
                    "127.0.0.1",
                    STAMP - 30 + offset,
                )
            ]
        )
    journal.append_rejections(
        [
            RejectionRecord(
                "bad_credentials",
                "username or password does not match",
                "{}",
                "203.0.113.9",
                STAMP - 30 + 5,
            ),
            RejectionRecord(
                "not_json", "not JSON: Expecting value", "<html>", "203.0.113.9", STAMP - 30 + 6
            ),
            RejectionRecord(
                "too_large", "body exceeds 1048576 bytes", "", "203.0.113.9", STAMP - 30 + 7
            ),
        ]
    )


async def _logged_in(pilot: Pilot[Any]) -> None:
    app: Any = pilot.app
    await wait_for(pilot, app.demo_services.ready.is_set)
    await login(pilot, password=None)


def test_inbox(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await _logged_in(pilot)
        seed_journal(app)
        await pilot.press("escape", "i")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CallbacksInboxScreen")
        await pilot.pause()

    app = make_demo_app(tmp_path / "d", listener=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_registration(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await _logged_in(pilot)
        app.profile.callback.public_url = PUBLIC_URL
        sim = app.demo_services.sim
        account = sim.config.primary_account
        registrations = sim.state.registrations
        registrations.clear()
        for service, url in (
            ("CarrierService", PUBLIC_URL + "/carrier"),
            ("DeviceSuspensionStatus", "https://hooks.customer.example/thingspace"),
            ("ExternalProvisioningChanges", "http://203.0.113.20:9002/ext"),
        ):
            registrations[(account, service)] = Registration(account, service, url, "cust", "pw")
        await pilot.press("escape", "u")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RegistrationScreen")
        await wait_for(pilot, lambda: app.screen.loaded)
        await pilot.pause()

    app = make_demo_app(tmp_path / "d", listener=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
