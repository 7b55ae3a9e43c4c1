"""``m2m-tui export``: JSON, CSV and Markdown from a real journal, passwords never included."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from m2m_tui.tracking.export import export
from m2m_tui.tracking.journal import Journal
from m2m_tui.tracking.records import CallbackRecord
from m2m_tui.tracking.tracker import Tracker

ACCOUNT = "0000123456-00001"
SECRET = "s3cr3t-shared"


def _callback(request_id: str, count: int, **extra: object) -> CallbackRecord:
    body = {
        "username": "tui",
        "password": SECRET,
        "requestId": request_id,
        "deviceIds": [{"id": "5551234567", "kind": "mdn"}],
        "callbackCount": count,
        **extra,
    }
    return CallbackRecord(
        request_id=request_id,
        kind="failure" if "faultResponse" in extra else "device_result",
        body=body,
        device_key="mdn:5551234567",
        callback_count=count,
    )


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite"
    with Journal.open(path) as journal:
        tracker = Tracker(journal)
        tracker.submitted(
            "suspend", ACCOUNT, "req-ok", devices=[{"id": "5551234567", "kind": "mdn"}]
        )
        tracker.submitted(
            "activate", ACCOUNT, "req-fail", devices=[{"id": "5551234567", "kind": "mdn"}]
        )
        tracker.submitted("suspension_status", ACCOUNT, "req-quiet", filter={"groupName": "g|x"})
        rows = journal.append_callbacks(
            [
                _callback("req-ok", 1, status="Success"),
                _callback("req-ok", 2, status="Success"),
                _callback(
                    "req-fail",
                    1,
                    status="Failed",
                    faultResponse={
                        "faultcode": "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive",
                        "faultstring": "Device is already active",
                    },
                ),
                _callback("someone-else", 1, status="Success"),
            ]
        )
        for row in journal.recent_callbacks(limit=10):
            tracker.callback(row)
        assert [r.duplicate for r in rows] == [False, True, False, False]
    return path


def test_json_has_requests_and_callbacks_with_password_redacted(journal_path: Path) -> None:
    with Journal.open(journal_path, readonly=True) as journal:
        text = export(journal, "json")
    assert SECRET not in text
    document = json.loads(text)
    assert {r["requestId"] for r in document["requests"]} == {"req-ok", "req-fail", "req-quiet"}
    by_id = {r["requestId"]: r for r in document["requests"]}
    assert by_id["req-ok"]["state"] == "completed"
    assert by_id["req-fail"]["state"] == "failed"
    assert by_id["req-fail"]["lastErrorCode"].endswith("DeviceAlreadyActive")
    callbacks = document["callbacks"]
    assert len(callbacks) == 4
    for callback in callbacks:
        assert {"requestId", "receivedAt", "duplicate", "body"} <= set(callback)
        assert callback["body"]["password"] != SECRET
    assert [c["duplicate"] for c in callbacks if c["requestId"] == "req-ok"] == [False, True]


def test_json_for_one_request(journal_path: Path) -> None:
    with Journal.open(journal_path, readonly=True) as journal:
        document = json.loads(export(journal, "json", "req-fail"))
    assert [r["requestId"] for r in document["requests"]] == ["req-fail"]
    assert [c["requestId"] for c in document["callbacks"]] == ["req-fail"]


def test_csv_one_row_per_callback_plus_quiet_requests(journal_path: Path) -> None:
    with Journal.open(journal_path, readonly=True) as journal:
        text = export(journal, "csv")
    assert SECRET not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5  # 4 callbacks + the request that got none
    failed = next(r for r in rows if r["requestId"] == "req-fail")
    assert failed["faultCode"].endswith("DeviceAlreadyActive") and failed["state"] == "failed"
    assert next(r for r in rows if r["requestId"] == "someone-else")["state"] == "not ours"
    assert next(r for r in rows if r["requestId"] == "req-quiet")["receivedAt"] == ""


def test_markdown_summary_for_a_ticket(journal_path: Path) -> None:
    with Journal.open(journal_path, readonly=True) as journal:
        text = export(journal, "md")
    assert SECRET not in text
    assert "### suspend `req-ok`" in text
    assert "**completed** by callback" in text
    assert "FAILED UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive" in text
    assert "2 received, 1 duplicate(s)" in text
    assert 'filter {"groupName":"g|x"}' in text


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "m2m_tui", "export", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_command_line(journal_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = _cli("--journal", str(journal_path), "--format", "json", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["requests"]
    md = _cli("--journal", str(journal_path), "--format", "md", "--request", "req-ok")
    assert md.returncode == 0 and "req-ok" in md.stdout and "req-fail" not in md.stdout
    missing = _cli("--journal", str(journal_path), "--request", "nope")
    assert missing.returncode == 1 and "no request nope" in missing.stderr
    absent = _cli("--journal", str(tmp_path / "absent.sqlite"))
    assert absent.returncode == 2 and "no journal" in absent.stderr
