"""Replaying a saved callback: through our listener, or straight into the journal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.listener import CallbackListener
from m2m_tui.tracking.replay import (
    ReplayError,
    load_callback_file,
    replay_to_journal,
    replay_to_listener,
    with_credentials,
)
from m2m_tui.tracking.tracker import Tracker
from m2m_tui.tracking.tracker_events import CallbackReceived

from .conftest import StartListener
from .tracking_helpers import PASSWORD, USERNAME, suspension_body

OURS = (USERNAME, PASSWORD)


def customer_file(tmp_path: Path, request_id: str = "req-replay-1") -> Path:
    """A body as a customer would send it: their own registration's credentials."""
    body = suspension_body(request_id, password="their-password")
    body["username"] = "customer"
    path = tmp_path / "callback.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_load_refuses_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="cannot read"):
        load_callback_file(tmp_path / "nope.json")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    with pytest.raises(ReplayError, match="at most 1024"):
        load_callback_file(big, limit=1024)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "bad.json is empty"),
        (b'{"requestId": "r1", "deviceIds": [', "bad.json is not JSON (Expecting value at line 1"),
        (b'{"requestId": "r1",}', "is not JSON (Expecting property name"),
        (b'{"requestId": "r1", "x": NaN}', "is not JSON (NaN is not valid JSON)"),
        (b"\xff\xfe{}", "bad.json is not UTF-8 text (byte 0)"),
        (b'[{"requestId": "a"}, {"requestId": "b"}]', "holds a JSON list of 2 items"),
        (b'"requestId"', "holds a JSON string, not a callback object"),
        (b"null", "holds a JSON null"),
        (b'{"id": 7, "body": {"requestId": "r1"}}', "not a ThingSpace callback: no requestId"),
        (b'{"requestId": "  "}', "not a ThingSpace callback: requestId is empty"),
        (
            b'{"requestId": "r1", "password": "hunter2", "deviceIds": "5551230001"}',
            "not a ThingSpace callback: deviceIds: Input should be a valid list",
        ),
        (b'{"requestId": "r1", "callbackCount": -1}', "callbackCount: Input should be greater"),
    ],
)
def test_load_refuses_what_is_not_a_callback_in_one_line(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ReplayError) as caught:
        load_callback_file(path)
    said = str(caught.value)
    assert words in said and said.startswith("bad.json ")
    assert said.endswith("; nothing replayed") and "\n" not in said
    assert "hunter2" not in said


def test_load_takes_a_minimal_callback_and_drops_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "notepad.json"
    path.write_bytes(b'\xef\xbb\xbf{"requestId": "r1"}')
    assert load_callback_file(path) == b'{"requestId": "r1"}'


def test_with_credentials_replaces_only_in_objects() -> None:
    body, replaced = with_credentials(b'{"requestId":"r","password":"x"}', ("u", "p"))
    assert replaced and json.loads(body) == {"requestId": "r", "username": "u", "password": "p"}
    assert with_credentials(b"[1]", ("u", "p")) == (b"[1]", False)
    assert with_credentials(b"not json", ("u", "p")) == (b"not json", False)
    assert with_credentials(b"{}", None) == (b"{}", False)


def test_journal_path_tracks_the_callback_as_ours(tmp_path: Path) -> None:
    raw = load_callback_file(customer_file(tmp_path))
    with Journal.open(tmp_path / "j.db") as journal:
        tracker = Tracker(journal)
        events: list[object] = []
        tracker.subscribe(events.append)
        tracker.submitted("suspension_status", "acct", "req-replay-1", filter={"x": 1})
        result = replay_to_journal(raw, journal, tracker, credentials=OURS, expected=OURS)
        assert result.path == "journal" and result.accepted and result.credentials_replaced
        assert result.record_id is not None
        received = [e for e in events if isinstance(e, CallbackReceived)]
        assert len(received) == 1 and received[0].ours
        stored = journal.callbacks_for("req-replay-1")
        assert len(stored) == 1 and PASSWORD not in stored[0].body
        assert "journaled directly" in result.describe()
        again = replay_to_journal(raw, journal, tracker, credentials=OURS, expected=OURS)
        assert again.accepted and again.duplicate


def test_journal_path_refuses_like_the_listener(tmp_path: Path) -> None:
    raw = load_callback_file(customer_file(tmp_path))
    with Journal.open(tmp_path / "j.db") as journal:
        tracker = Tracker(journal)
        events: list[object] = []
        tracker.subscribe(events.append)
        result = replay_to_journal(raw, journal, tracker, credentials=None, expected=OURS)
        assert not result.accepted and result.status == 401
        assert result.detail.startswith("bad_credentials")
        rejections = journal.rejections()
        assert [r.reason for r in rejections] == ["bad_credentials"]
        assert rejections[0].source == "replay" and "their-password" not in rejections[0].excerpt
        assert any(type(e).__name__ == "CallbackRejected" for e in events)
        broken = replay_to_journal(b"{nope", journal, tracker)
        assert not broken.accepted and broken.detail.startswith("not_json")


def test_journal_path_without_feeding_the_tracker(tmp_path: Path) -> None:
    raw = load_callback_file(customer_file(tmp_path))
    with Journal.open(tmp_path / "j.db") as journal:
        tracker = Tracker(journal)
        events: list[object] = []
        tracker.subscribe(events.append)
        result = replay_to_journal(raw, journal, tracker, feed_tracker=False)
        assert result.accepted and events == []
        assert journal.last_callback_id() == result.record_id


async def test_listener_path_is_checked_and_journaled(
    start_listener: tuple[StartListener, list[object]], tmp_path: Path
) -> None:
    start, events = start_listener
    listener: CallbackListener = await start()
    raw = load_callback_file(customer_file(tmp_path))
    refused = await replay_to_listener(raw, listener.url)
    assert not refused.accepted and refused.status == 401
    assert refused.path == "listener" and "bad_credentials" in refused.detail
    accepted = await replay_to_listener(raw, listener.url, credentials=OURS)
    assert accepted.accepted and accepted.status == 200 and accepted.credentials_replaced
    assert "POSTed to our listener" in accepted.describe()
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["CallbackRejected", "CallbackAccepted"]


async def test_listener_path_reports_a_dead_listener(tmp_path: Path) -> None:
    from .tracking_helpers import free_port

    raw = load_callback_file(customer_file(tmp_path))
    result = await replay_to_listener(raw, f"http://127.0.0.1:{free_port()}/", time_limit=1.0)
    assert not result.accepted and "did not answer" in result.detail
