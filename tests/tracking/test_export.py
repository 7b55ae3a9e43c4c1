"""``m2m-tui export``: JSON, CSV and Markdown from a real journal, passwords never included."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from m2m_tui.tracking.export import ExportError, export, write_export
from m2m_tui.tracking.intake import examine
from m2m_tui.tracking.journal.sqlite import Journal
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


# --- issue 9: file modes, control characters, strict JSON, clear errors ------------------

HOSTILE = "\x1b]0;pwned\x07 \x1b[2J\x9b31m \u202egnp.exe\r\nsecond line\t|x"


@pytest.fixture
def hostile_journal(tmp_path: Path) -> Path:
    """A journal holding a callback with control characters, and one with 1e999."""
    path = tmp_path / "hostile.sqlite"
    raw = (
        '{"username": "tui", "password": "pw", "requestId": "req-inf", "deviceIds":'
        ' [{"id": "5551234567", "kind": "mdn"}], "comment": "x", "score": 1e999, "low": -1e999}'
    )
    outcome = examine(raw.encode(), received_at=1.0, source="127.0.0.1", credentials=None)
    assert isinstance(outcome, CallbackRecord)
    with Journal.open(path) as journal:
        Tracker(journal).submitted(
            "suspend", ACCOUNT + HOSTILE, "req-evil", devices=[{"id": "5551234567", "kind": "mdn"}]
        )
        journal.append_callbacks(
            [
                _callback(
                    "req-evil",
                    1,
                    status="Failed" + HOSTILE,
                    comment=HOSTILE,
                    faultResponse={"faultcode": "E" + HOSTILE, "faultstring": HOSTILE},
                ),
                outcome,
            ]
        )
    return path


def _unsafe(text: str) -> list[str]:
    """Characters a terminal would act on (newlines between lines excepted)."""
    return [
        c
        for c in text
        if c != "\n" and (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E)
    ]


@pytest.mark.parametrize("fmt", ["csv", "md", "json"])
def test_exports_neutralise_control_characters(hostile_journal: Path, fmt: str) -> None:
    with Journal.open(hostile_journal, readonly=True) as journal:
        text = export(journal, fmt)
    assert _unsafe(text) == []
    assert "pwned" in text and ("\\x1b" in text or "\\u001b" in text)


def test_markdown_fields_cannot_add_lines(hostile_journal: Path) -> None:
    with Journal.open(hostile_journal, readonly=True) as journal:
        text = export(journal, "md", "req-evil")
    assert "second line" in text
    assert not any(line.startswith("second line") for line in text.splitlines())


def test_csv_keeps_one_row_per_callback(hostile_journal: Path) -> None:
    with Journal.open(hostile_journal, readonly=True) as journal:
        rows = list(csv.reader(io.StringIO(export(journal, "csv"))))
    assert len(rows) == 3 and all(len(row) == len(rows[0]) for row in rows)


def test_json_export_is_strict(hostile_journal: Path) -> None:
    with Journal.open(hostile_journal, readonly=True) as journal:
        text = export(journal, "json", "req-inf")

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    document = json.loads(text, parse_constant=refuse)
    body = document["callbacks"][0]["body"]
    assert (body["score"], body["low"]) == ("inf", "-inf")


def test_export_file_is_private_and_errors_are_one_line(journal_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.md"
    done = _cli("--journal", str(journal_path), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    out.chmod(0o644)  # an older export, world-readable: rewritten private
    assert _cli("--journal", str(journal_path), "-o", str(out)).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    missing = tmp_path / "no-such-folder" / "out.md"
    failed = _cli("--journal", str(journal_path), "-o", str(missing))
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().count("\n") == 0
    assert f"the folder {missing.parent} does not exist" in failed.stderr


def test_write_export_makes_a_private_file_or_says_why_not(tmp_path: Path) -> None:
    target = tmp_path / "ticket.csv"
    assert write_export(target, "a,b\n") == target.resolve()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text() == "a,b\n"
    with pytest.raises(ExportError, match="does not exist"):
        write_export(tmp_path / "nope" / "t.csv", "x")
    with pytest.raises(ExportError, match="is a folder"):
        write_export(tmp_path, "x")


def test_export_redacts_the_configured_password_from_an_older_journal(tmp_path: Path) -> None:
    """A journal written before free text was redacted still quotes the password."""
    path = tmp_path / "old.sqlite"
    leaky = 'pw "x\\y" here'
    with Journal.open(path) as journal:  # no listener: nothing redacts free text here
        journal.append_callbacks([_callback("req-old", 1, comment=f"login {leaky} refused")])
    env = {**os.environ, "M2M_TUI_CALLBACK_PASSWORD": leaky}
    texts = {}
    for fmt in ("json", "csv"):
        done = subprocess.run(
            [sys.executable, "-m", "m2m_tui", "export", "--journal", str(path), "--format", fmt],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        texts[fmt] = done.stdout
    body = json.loads(texts["json"])["callbacks"][0]["body"]
    assert body["comment"] == "login [redacted] refused"
    cells = [cell for row in csv.reader(io.StringIO(texts["csv"])) for cell in row]
    assert not any(leaky in cell for cell in cells)
    assert any("login [redacted] refused" in cell for cell in cells)
