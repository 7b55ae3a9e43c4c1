"""From raw bytes to a record or a refusal, without a server."""

from __future__ import annotations

import json

import pytest

from m2m_tui.tracking.intake import Credentials, Refusal, device_key_of, examine
from m2m_tui.tracking.records import CallbackRecord
from tests.tracking.tracking_helpers import (
    FAILURE_BODY,
    PASSWORD,
    USERNAME,
    completion_body,
    suspension_body,
)

CREDS = Credentials.of(USERNAME, PASSWORD)


def _examine(raw: bytes, credentials: Credentials | None = CREDS) -> CallbackRecord | Refusal:
    return examine(
        raw, received_at=1.0, source="127.0.0.1", credentials=credentials, secrets=(PASSWORD,)
    )


def test_suspension_status_record() -> None:
    record = _examine(json.dumps(suspension_body("r1", count=2)).encode())
    assert isinstance(record, CallbackRecord)
    assert (record.request_id, record.kind, record.device_key, record.callback_count) == (
        "r1",
        "suspension_status",
        "mdn:5551234567",
        2,
    )


def test_failure_and_completion_kinds() -> None:
    failure = _examine(json.dumps(FAILURE_BODY).encode())
    assert isinstance(failure, CallbackRecord)
    assert (failure.kind, failure.device_key) == ("failure", "iccid:89148000001234567890")
    done = _examine(json.dumps(completion_body("r1")).encode())
    assert isinstance(done, CallbackRecord)
    assert (done.kind, done.device_key) == ("completion", None)


def test_device_key_from_operation_object() -> None:
    body = {
        "deviceResponse": {"suspendResponse": {"deviceIds": [{"id": 5551234567, "kind": "MDN"}]}}
    }
    assert device_key_of(body) == "mdn:5551234567"
    assert device_key_of({"deviceIds": [{"id": "", "kind": "mdn"}, "junk"]}) is None


@pytest.mark.parametrize(
    ("raw", "status", "reason"),
    [
        (b"\xff\xfe{}", 400, "not_json"),
        (b"{not json", 400, "not_json"),
        (b'{"requestId": "r", "n": NaN}', 400, "not_json"),
        (b"[" * 100_000, 400, "not_json"),
        (b"[1, 2]", 400, "not_object"),
        (b'"text"', 400, "not_object"),
        (b"{}", 422, "invalid_envelope"),
        (b'{"requestId": ""}', 422, "invalid_envelope"),
        (b'{"requestId": "   "}', 422, "invalid_envelope"),
        (b'{"requestId": 12}', 422, "invalid_envelope"),
        (b'{"requestId": "r", "callbackCount": "many"}', 422, "invalid_envelope"),
        (b'{"requestId": "r", "deviceIds": "5551234567"}', 422, "invalid_envelope"),
        (b'{"requestId": "r", "password": "wrong", "username": "tui"}', 401, "bad_credentials"),
        (b'{"requestId": "r"}', 401, "bad_credentials"),
    ],
)
def test_refusals(raw: bytes, status: int, reason: str) -> None:
    outcome = _examine(raw)
    assert isinstance(outcome, Refusal)
    assert (outcome.status, outcome.reason.value) == (status, reason)
    assert PASSWORD not in outcome.detail


def test_no_credentials_expected_accepts_any() -> None:
    raw = json.dumps(suspension_body("r1", password="whatever")).encode()
    assert isinstance(_examine(raw, credentials=None), CallbackRecord)


def test_refusal_excerpts_hide_the_password() -> None:
    wrong_user = suspension_body("r1") | {"username": "someone-else"}
    outcome = _examine(json.dumps(wrong_user).encode())
    assert isinstance(outcome, Refusal) and outcome.reason.value == "bad_credentials"
    assert PASSWORD not in outcome.excerpt and "[redacted]" in outcome.excerpt
    broken = f'{{"requestId": "r", "pwd": "{PASSWORD}", '.encode()
    outcome = _examine(broken)
    assert isinstance(outcome, Refusal) and PASSWORD not in outcome.excerpt
