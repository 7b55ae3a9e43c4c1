"""What the journal stores and returns: requests, callbacks, rejections, polls, devices.

Each behaviour holds for both backends: ``journal_location`` is an sqlite path or a
PostgreSQL URL (see ``journal_backends``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from m2m_tui.tracking.journal.interface import JournalStore, is_postgres
from m2m_tui.tracking.journal.open import open_journal
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.records import (
    CallbackRecord,
    JournalError,
    RejectionRecord,
    RequestState,
    UnknownRequest,
)
from tests.tracking.journal_backends import stored_bytes
from tests.tracking.tracking_helpers import FAILURE_BODY, PASSWORD, completion_body, suspension_body


def _record(body: dict, *, device: str | None = "mdn:5551234567", kind: str = "suspension_status"):
    return CallbackRecord(
        request_id=body["requestId"],
        kind=kind,
        body=body,
        device_key=device,
        callback_count=body.get("callbackCount"),
        source="127.0.0.1",
    )


@pytest.fixture
def journal(journal_location: str):
    with open_journal(journal_location) as opened:
        yield opened


def _add(journal: JournalStore, request_id: str, submitted_at: float, **extra) -> None:
    journal.add_request(
        request_id,
        action=extra.pop("action", "suspend"),
        account=extra.pop("account", "0000123456-00001"),
        target=extra.pop("target", [{"id": "5551234567", "kind": "mdn"}]),
        pollable=True,
        deadline=submitted_at + 1200,
        submitted_at=submitted_at,
        **extra,
    )


def test_request_round_trip_and_update(journal: JournalStore) -> None:
    _add(journal, "r1", 100.0, profile="acme", expected_results=1)
    row = journal.get_request("r1")
    assert row is not None
    assert (row.state, row.pollable, row.profile, row.expected_results) == (
        "submitted",
        True,
        "acme",
        1,
    )
    assert row.target == [{"id": "5551234567", "kind": "mdn"}]
    updated = journal.update_request("r1", state="completed", completed_by="callback")
    assert (updated.state, updated.completed_by, updated.finished) == (
        "completed",
        "callback",
        True,
    )
    assert updated.updated_at >= row.updated_at
    with pytest.raises(ValueError, match="account"):
        journal.update_request("r1", account="other")
    with pytest.raises(ValueError):
        journal.update_request("r1", state="bogus")
    with pytest.raises(UnknownRequest):
        journal.update_request("nope", state="failed")
    with pytest.raises(JournalError, match="already"):
        _add(journal, "r1", 1.0)
    with pytest.raises(ValueError):
        _add(journal, "r2", 1.0, action="explode")


def test_list_requests_pages_newest_first_with_filters(journal: JournalStore) -> None:
    for i in range(25):
        _add(journal, f"req-{i:02d}", 1000.0 + i, account="A" if i % 2 else "B")
    journal.update_request("req-03", state="failed")
    page1 = journal.list_requests(limit=10)
    page2 = journal.list_requests(limit=10, offset=10)
    assert [r.request_id for r in page1][:3] == ["req-24", "req-23", "req-22"]
    assert page2[0].request_id == "req-14"
    assert len(journal.list_requests(limit=10, offset=20)) == 5
    assert [r.request_id for r in journal.list_requests(states=["failed"])] == ["req-03"]
    assert journal.list_requests(states=[]) == []
    assert [r.request_id for r in journal.list_requests(text="req-1", limit=3)] == [
        "req-19",
        "req-18",
        "req-17",
    ]
    assert journal.count_requests(text="req-1") == 10
    assert journal.count_requests(states=["submitted"]) == 24
    assert journal.list_requests(text="100%_") == []  # LIKE wildcards are literal
    assert journal.count_requests(text="REQ-1") == 10  # as sqlite's LIKE: ASCII case ignored


def test_sqlite_pages_requests_by_the_time_index(journal_path: Path) -> None:
    with Journal.open(journal_path) as journal:
        plan = journal.connection.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM requests ORDER BY submitted_at DESC LIMIT 10"
        ).fetchall()
    assert any("requests_by_time" in str(step) for step in plan)


def test_unfinished_requests_oldest_first(journal: JournalStore) -> None:
    for i, state in enumerate(["submitted", "pending", "partial", "completed", "failed"]):
        _add(journal, f"r{i}", 10.0 - i)
        journal.update_request(f"r{i}", state=state)
    _add(journal, "r9", 50.0)
    journal.update_request("r9", state=RequestState.TIMED_OUT)
    assert [r.request_id for r in journal.unfinished_requests()] == ["r2", "r1", "r0"]


def test_callbacks_duplicates_and_order(journal: JournalStore) -> None:
    first = suspension_body("rq", count=1)
    resend = suspension_body("rq", count=3)  # same message, later delivery attempt
    other_device = suspension_body("rq", count=1, mdn="5559999999")
    ids = journal.append_callbacks(
        [_record(first), _record(resend), _record(other_device, device="mdn:5559999999")]
    )
    assert [i.duplicate for i in ids] == [False, True, False]
    completion = journal.append_callbacks([_record(completion_body("rq"), device=None)])
    assert completion[0].duplicate is False
    rows = journal.callbacks_for("rq")
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert [(r.verdict, r.duplicate, r.callback_count) for r in rows[:2]] == [
        ("accepted", False, 1),
        ("duplicate", True, 3),
    ]
    assert rows[0].body_hash == rows[1].body_hash
    assert rows[0].body_dict()["password"] == "[redacted]"
    # The same body under another request id is not a duplicate.
    assert journal.append_callbacks([_record(suspension_body("rq2"))])[0].duplicate is False
    counts = journal.counts()
    assert (counts.callbacks_accepted, counts.callbacks_duplicate) == (4, 1)


def test_recent_callbacks_follow_and_rejections(journal: JournalStore) -> None:
    journal.append_callbacks([_record(suspension_body(f"r{i}")) for i in range(5)])
    last_two = journal.recent_callbacks(limit=2)
    assert [r.request_id for r in last_two] == ["r3", "r4"]
    assert [r.request_id for r in journal.recent_callbacks(limit=10, after_id=last_two[0].id)] == [
        "r4"
    ]
    assert journal.last_callback_id() == last_two[-1].id
    journal.append_rejections(
        [
            RejectionRecord("not_json", "bad", f'{{"password": "{PASSWORD}", oops'),
            RejectionRecord("bad_credentials", "no", "x" * 2000),
        ]
    )
    rejections = journal.rejections(limit=10)
    assert [r.reason for r in rejections] == ["not_json", "bad_credentials"]
    assert PASSWORD not in rejections[0].excerpt and "[redacted]" in rejections[0].excerpt
    assert len(rejections[1].excerpt) == 500
    assert journal.rejections(after_id=rejections[0].id)[0].reason == "bad_credentials"
    assert dict(journal.counts().rejections) == {"not_json": 1, "bad_credentials": 1}


def test_paging_back_newest_first(journal: JournalStore) -> None:
    journal.append_callbacks([_record(suspension_body(f"r{i}")) for i in range(6)])
    newest = journal.last_callback_id()
    found = journal.callback(newest)
    assert found is not None and found.request_id == "r5"
    assert journal.callback(newest + 1) is None
    page = journal.callbacks_before(newest, limit=3)
    assert [r.request_id for r in page] == ["r4", "r3", "r2"]
    assert [r.request_id for r in journal.callbacks_before(page[-1].id, limit=10)] == ["r1", "r0"]
    journal.append_rejections([RejectionRecord("not_json", str(i)) for i in range(3)])
    last = journal.rejections(limit=1)[0].id
    assert [r.detail for r in journal.rejections_before(last, limit=5)] == ["1", "0"]


def test_password_never_reaches_the_store(journal_location: str) -> None:
    with open_journal(journal_location) as journal:
        journal.append_callbacks([_record(suspension_body("r1")), _record(dict(FAILURE_BODY))])
        nested = suspension_body("r2")
        nested["deviceResponse"]["extra"] = {"password": PASSWORD}
        journal.append_callbacks([_record(nested)])
        journal.append_rejections([RejectionRecord("not_json", "x", f"password={PASSWORD}")])
        stored = stored_bytes(journal_location)
        if not is_postgres(journal_location):
            assert any(name.endswith("-wal") for name in stored)  # the WAL is looked at too
        assert b"5551234567" in b"".join(stored.values())  # what is read is the data
        for name, data in stored.items():
            assert PASSWORD.encode() not in data, name
    for name, data in stored_bytes(journal_location).items():
        assert PASSWORD.encode() not in data, name


def test_polls_and_devices(journal: JournalStore) -> None:
    journal.add_poll("r1", "Pending", polled_at=1.0)
    journal.add_poll("r1", "Success", polled_at=2.0)
    assert [p.status for p in journal.polls_for("r1")] == ["Pending", "Success"]
    journal.add_device_lookup("A", "MDN", "5551234567", label="pump", looked_up_at=1.0)
    journal.add_device_lookup("A", "imei", "359876543210987", summary={"state": "active"})
    journal.add_device_lookup("A", "mdn", "5551234567", looked_up_at=time.time() + 10)
    devices = journal.recent_devices()
    assert [(d.kind, d.device_id, d.lookups) for d in devices] == [
        ("mdn", "5551234567", 2),
        ("imei", "359876543210987", 1),
    ]
    assert devices[0].label == "pump" and devices[1].summary == {"state": "active"}


def test_readonly_reader_sees_commits(journal_location: str) -> None:
    with (
        open_journal(journal_location) as writer,
        open_journal(journal_location, readonly=True) as reader,
    ):
        assert reader.recent_callbacks() == []
        writer.append_callbacks([_record(suspension_body("seen"))])
        assert [r.request_id for r in reader.recent_callbacks()] == ["seen"]
        _add(writer, "req", 1.0)
        assert reader.get_request("req") is not None


def test_exports_do_not_know_the_backend(tmp_path: Path, journal_location: str) -> None:
    """The same journal content exports the same from either backend (ids aside: PostgreSQL
    may leave gaps in them)."""
    from m2m_tui.tracking.export import export

    def fill(journal: JournalStore) -> None:
        _add(journal, "rq", 100.0, profile="acme", expected_results=2)
        first = suspension_body("rq", count=1)
        other = suspension_body("rq", count=1, mdn="5559999999")
        records = [_record(first), _record(suspension_body("rq", count=2))]
        records.append(_record(other, device="mdn:5559999999"))
        journal.append_callbacks([replace(r, received_at=200.0 + i) for i, r in enumerate(records)])
        journal.update_request("rq", state="completed", completed_by="callback")

    outputs = []
    for location in (str(tmp_path / "reference.db"), journal_location):
        with open_journal(location) as journal:
            fill(journal)
            outputs.append({fmt: export(journal, fmt) for fmt in ("json", "csv", "md")})
    reference, tested = outputs
    assert "`rq`" in tested["md"] and "5559999999" in tested["csv"]
    for fmt in ("csv", "md"):
        assert _without_times(tested[fmt]) == _without_times(reference[fmt]), fmt
    assert _callbacks_of(tested["json"]) == _callbacks_of(reference["json"])
    assert [c["duplicate"] for c in _callbacks_of(tested["json"])[1]] == [False, True, False]


def _without_times(text: str) -> str:
    import re

    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.+]+(Z|[+-]\d\d:\d\d)?", "T", text)
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?", "T", text)


def _callbacks_of(text: str) -> list[dict]:
    import json

    data = json.loads(text)
    for item in data["callbacks"]:
        item.pop("id")
    for item in data["requests"]:
        item.pop("updatedAt", None)
    return [data["requests"], data["callbacks"]]
